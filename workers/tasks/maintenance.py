"""Platform tasks: the job reaper and the tenants' retrain schedules on Celery beat, and
`self_test` jobs, a diagnostic job that counts down with progress updates.

Operators use it to check that workers pick up jobs, report progress, stop promptly when
cancelled and report failures (`fail: true` ends the countdown with an error).
"""

from __future__ import annotations

import time

from dashboard.job_kinds import self_test_params
from dashboard.pipeline import run_retrain_schedules
from dashboard.queue import celery, job_task_name
from dashboard.reaper import reap
from dashboard.schema import utcnow
from workers.celery_app import REAPER_TASK, SCHEDULED_RETRAIN_TASK, FlaskTask
from workers.progress import JobContext, JobError, run_job

TICK_SECONDS = 0.25


class SelfTestFailure(RuntimeError):
    """The failure a self-test was asked to produce."""


def count_down(context: JobContext) -> dict:
    try:
        params = self_test_params(context.params)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    seconds = params["seconds"]
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        context.progress(100 * (1 - left / seconds), f"{left:.0f} s left")
        time.sleep(min(TICK_SECONDS, left))
    if params["fail"]:
        # A plain exception, not a JobError: the self-test checks the unexpected-error path.
        raise SelfTestFailure("the self-test was asked to fail")
    return {"seconds": seconds}


@celery.task(base=FlaskTask, name=job_task_name("self_test"))
def run_self_test_job(job_id: str) -> str:
    return run_job(job_id, count_down)


@celery.task(base=FlaskTask, name=REAPER_TASK)
def reap_jobs() -> list[str]:
    return reap()


@celery.task(base=FlaskTask, name=SCHEDULED_RETRAIN_TASK)
def start_scheduled_retrains() -> list[str]:
    return run_retrain_schedules(utcnow())

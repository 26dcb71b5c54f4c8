"""`self_test` jobs: a diagnostic job that counts down with progress updates.

Operators use it to check that workers pick up jobs, report progress, stop promptly when
cancelled and report failures (`fail: true` ends the countdown with an error).
"""

from __future__ import annotations

import time

from workers.celery_app import celery, job_task_name
from workers.progress import JobContext, JobError, run_job

MAX_SELF_TEST_SECONDS = 3600
TICK_SECONDS = 0.25


class SelfTestFailure(RuntimeError):
    """The failure a self-test was asked to produce."""


def self_test_params(raw: dict | None) -> dict:
    """Validated parameters of a self-test job; `ValueError` says what is wrong."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - {"seconds", "fail"})
    if unknown:
        raise ValueError(f"unknown self_test parameter(s): {', '.join(unknown)}")
    seconds = raw.get("seconds", 5)
    fail = raw.get("fail", False)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
        0 <= seconds <= MAX_SELF_TEST_SECONDS
    ):
        raise ValueError(f"seconds must be a number from 0 to {MAX_SELF_TEST_SECONDS}")
    if not isinstance(fail, bool):
        raise ValueError("fail must be true or false")
    return {"seconds": seconds, "fail": fail}


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


@celery.task(name=job_task_name("self_test"))
def run_self_test_job(job_id: str) -> str:
    return run_job(job_id, count_down)

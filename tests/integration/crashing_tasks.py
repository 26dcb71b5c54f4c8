"""Job kinds for tests only: one kills the worker process that runs it, one blocks
past the worker's hard time limit.

The worker under test imports this module with `--include`; the task is routed to its own
queue so that only that worker (and never the test process's in-thread worker) takes it.
"""

from __future__ import annotations

import os
import threading
import time

from celery.exceptions import SoftTimeLimitExceeded

from dashboard.job_kinds import JobKind, no_params, register_job_kind
from dashboard.queue import celery, job_task_name
from workers.celery_app import FlaskTask
from workers.progress import run_job

CRASH_QUEUE = "valuelens-crash-tests"
for _name in ("crash_worker", "block_worker"):
    register_job_kind(JobKind(_name, no_params, queue=CRASH_QUEUE))


def _kill_the_worker(context) -> None:
    os._exit(1)


@celery.task(base=FlaskTask, name=job_task_name("crash_worker"), queue=CRASH_QUEUE)
def crash_worker(job_id: str) -> str:
    return run_job(job_id, _kill_the_worker)


def _block(context) -> None:
    # Like native code that ignores Python signals: the soft limit cannot stop it, only the
    # hard limit's kill can.
    deadline = time.monotonic() + context.params.get("seconds", 60)
    while time.monotonic() < deadline:
        try:
            threading.Event().wait(deadline - time.monotonic())
        except SoftTimeLimitExceeded:
            continue


@celery.task(base=FlaskTask, name=job_task_name("block_worker"), queue=CRASH_QUEUE)
def block_worker(job_id: str) -> str:
    return run_job(job_id, _block)

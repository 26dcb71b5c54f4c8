"""A job kind for tests only: its work kills the worker process that runs it.

The worker under test imports this module with `--include`; the task is routed to its own
queue so that only that worker (and never the test process's in-thread worker) takes it.
"""

from __future__ import annotations

import os

from workers.celery_app import celery, job_task_name
from workers.progress import run_job

CRASH_QUEUE = "valuelens-crash-tests"


def _kill_the_worker(context) -> None:
    os._exit(1)


@celery.task(name=job_task_name("crash_worker"), queue=CRASH_QUEUE)
def crash_worker(job_id: str) -> str:
    return run_job(job_id, _kill_the_worker)

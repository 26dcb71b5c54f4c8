"""The task queue as the web side sees it: the unbound Celery app and the few calls the
web process makes (enqueue a job's task, revoke it, ask workers who is alive).

`celery` is created unbound at import time, like `db`; `init_celery(app)` (called by
`create_app()`) configures it from `dashboard.config.celery_settings(app.config)` and
remembers the Flask app, so tasks (defined in `workers/`, which builds on this module)
run inside that app's context. The web package never imports a task module: it sends
tasks by name, `jobs.<kind>`, and knows the kinds from `dashboard.job_kinds`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from dashboard.config import celery_settings

# Job tasks are named "jobs.<kind>": the job row's kind is enough to enqueue it.
JOB_TASK_PREFIX = "jobs."
# Health checks and the reaper wait this long for workers to answer a broadcast.
BROADCAST_TIMEOUT_SECONDS = 1.0
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)

celery = Celery("valuelens")
celery.flask_app = None


def job_task_name(kind: str) -> str:
    return JOB_TASK_PREFIX + kind


def init_celery(app) -> Celery:
    previous_broker = celery.conf.broker_url
    celery.conf.update(celery_settings(app.config))
    if previous_broker and previous_broker != celery.conf.broker_url:
        _drop_broker_pools()
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


def _drop_broker_pools() -> None:
    # Celery keeps the producer pools it took on first use (also for remote-control
    # broadcasts) and has no public way to rebind them: a process bound again to another
    # Redis would keep publishing to the old one. kombu keeps one pool per broker URL, so
    # the next use picks the pool of the current URL.
    celery._pool = None
    celery.amqp._producer_pool = None


@contextmanager
def broker_connection() -> Iterator:
    """A broker connection that fails at once when Redis is down, instead of retrying."""
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=0)
        yield connection


def send_job_task(kind: str, job_id: str, task_id: str, queue: str | None = None) -> None:
    """Hand the job's task to the broker; raises one of `BROKER_ERRORS` when it cannot."""
    routing = {"queue": queue} if queue else {}
    with broker_connection() as connection:
        # The outcome lives in the job row, so no Celery result is stored or awaited.
        # The time limits travel in the message: a worker applies the ones it receives.
        celery.send_task(job_task_name(kind), args=[job_id], task_id=task_id,
                         ignore_result=True, connection=connection,
                         time_limit=celery.conf.task_time_limit,
                         soft_time_limit=celery.conf.task_soft_time_limit, **routing)


def revoke_task(task_id: str, terminate: bool) -> None:
    with broker_connection() as connection:
        celery.control.revoke(task_id, terminate=terminate, signal="SIGTERM",
                              connection=connection)


def workers_answering(timeout: float = BROADCAST_TIMEOUT_SECONDS) -> int:
    """How many workers answer a ping within `timeout` seconds."""
    with broker_connection() as connection:
        return len(celery.control.ping(timeout=timeout, connection=connection) or [])


def tasks_held_by_workers(task_ids: Iterable[str],
                          timeout: float = BROADCAST_TIMEOUT_SECONDS) -> set[str]:
    """The subset of `task_ids` some worker has reserved or is running."""
    task_ids = list(task_ids)
    if not task_ids:
        return set()
    with broker_connection() as connection:
        inspect = celery.control.inspect(timeout=timeout, connection=connection)
        replies = inspect.query_task(*task_ids) or {}
    return {task_id for held in replies.values() for task_id in held}

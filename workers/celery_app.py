"""The Celery application.

`celery` is created unbound at import time; `init_celery(app)` (called by `create_app()`)
configures it from `dashboard.config.celery_settings(app.config)`, imports the task modules
and remembers the Flask app, so every task runs inside that app's context with the
database, the configuration and the Redis client bound. The worker command line builds the
Flask app through `workers.entry`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from billiard.exceptions import TimeLimitExceeded
from celery import Celery, Task
from celery.signals import worker_process_init

from dashboard.config import celery_settings
from dashboard.database import db

# Every module that defines tasks; the web process imports them too, so that
# `submit_job` can refuse a job kind no worker would know.
TASK_MODULES = (
    "workers.tasks.demo",
    "workers.tasks.maintenance",
    "workers.reaper",
)

# Job tasks are named "jobs.<kind>": the job row's kind is enough to enqueue it.
JOB_TASK_PREFIX = "jobs."

REAPER_INTERVAL_SECONDS = 60
# Health checks and the reaper wait this long for workers to answer a broadcast.
BROADCAST_TIMEOUT_SECONDS = 1.0


class FlaskTask(Task):
    """Runs every task inside the application context of the bound Flask app."""

    abstract = True

    def __call__(self, *args, **kwargs):
        flask_app = getattr(self.app, "flask_app", None)
        if flask_app is None:
            raise RuntimeError("the Celery app is not bound: call init_celery(create_app())")
        with flask_app.app_context():
            return super().__call__(*args, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # A hard time limit kills the pool process mid-task; Celery then reports the
        # failure here, in the worker's main process, and acknowledges the message. The
        # job row would otherwise stay `running` until the reaper judged it.
        if isinstance(exc, TimeLimitExceeded) and self.name.startswith(JOB_TASK_PREFIX) and args:
            from workers.progress import fail_past_time_limit

            with self.app.flask_app.app_context():
                fail_past_time_limit(args[0], exc.args[0] if exc.args else None)


celery = Celery("valuelens", task_cls=FlaskTask)
celery.flask_app = None


def job_task_name(kind: str) -> str:
    return JOB_TASK_PREFIX + kind


def init_celery(app) -> Celery:
    previous_broker = celery.conf.broker_url
    celery.conf.update(celery_settings(app.config))
    if previous_broker and previous_broker != celery.conf.broker_url:
        _drop_broker_pools()
    celery.conf.include = list(TASK_MODULES)
    celery.conf.beat_schedule = {
        "reap-lost-jobs": {"task": "workers.reaper.reap_jobs", "schedule": REAPER_INTERVAL_SECONDS},
    }
    for module in TASK_MODULES:
        importlib.import_module(module)
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


@worker_process_init.connect
def _fresh_connections_in_child(**_kwargs) -> None:
    # A prefork child inherits the parent's pooled database connections; sharing a socket
    # between processes corrupts both, so the child opens its own.
    if db.engine is not None:
        db.engine.dispose(close=False)

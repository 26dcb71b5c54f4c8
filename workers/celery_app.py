"""The worker side of the Celery app: the task base, the task modules and the schedule.

The Celery instance itself is `dashboard.queue.celery`, configured by `create_app()`; this
module adds what only workers need. `FlaskTask` runs every task inside the application
context of the bound Flask app, so tasks find the database, the configuration and the
Redis client bound exactly as in the web process. `load_tasks()` imports every task module
and sets the beat schedule; the worker entry point (`workers.entry`) calls it.
"""

from __future__ import annotations

import importlib
import logging
import os

from billiard.exceptions import TimeLimitExceeded
from celery import Celery, Task
from celery.signals import worker_process_init

from dashboard.database import db
from dashboard.queue import JOB_TASK_PREFIX, celery

TASK_MODULES = (
    "workers.tasks.pipeline",
    "workers.tasks.maintenance",
)
REAPER_TASK = "workers.reaper.reap_jobs"
REAPER_INTERVAL_SECONDS = 60
SCHEDULED_RETRAIN_TASK = "workers.tasks.maintenance.start_scheduled_retrains"
RETRAIN_CHECK_SECONDS = 3600


class FlaskTask(Task):
    """Runs every task inside the application context of the bound Flask app."""

    abstract = True

    def __call__(self, *args, **kwargs):
        flask_app = getattr(self.app, "flask_app", None)
        if flask_app is None:
            raise RuntimeError("the Celery app is not bound: call create_app() first")
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


def load_tasks() -> Celery:
    """Register every task and the beat schedule on the shared Celery app."""
    for module in TASK_MODULES:
        importlib.import_module(module)
    celery.conf.beat_schedule = {
        "reap-lost-jobs": {"task": REAPER_TASK, "schedule": REAPER_INTERVAL_SECONDS},
        "scheduled-retrains": {"task": SCHEDULED_RETRAIN_TASK,
                               "schedule": RETRAIN_CHECK_SECONDS},
    }
    return celery


@worker_process_init.connect
def _fresh_connections_in_child(**_kwargs) -> None:
    # A prefork child inherits the parent's pooled database connections; sharing a socket
    # between processes corrupts both, so the child opens its own.
    if db.engine is not None:
        db.engine.dispose(close=False)


@worker_process_init.connect
def _lower_cpu_priority(**_kwargs) -> None:
    # Training can keep every core busy for a minute; at a lower priority the web
    # processes on the same host still answer pages at once. Work only slows when the
    # web is busy too.
    flask_app = getattr(celery, "flask_app", None)
    wanted = flask_app.config.get("WORKER_NICE", 0) if flask_app is not None else 0
    raise_cpu_niceness(wanted)


def raise_cpu_niceness(wanted: int) -> int:
    """Raise this process's niceness to `wanted` (never lower it); return the value now."""
    current = os.nice(0)
    if wanted > current:
        try:
            current = os.nice(wanted - current)
        except OSError as exc:
            logging.getLogger(__name__).warning("could not lower the task priority: %s", exc)
    return current

"""Fair queues: which waiting jobs go to the broker, and when.

A submitted job is a `queued` row without a `task_id`: it waits in the database. A tenant
has at most `TENANT_MAX_RUNNING_JOBS` jobs at the workers at once (dispatched or running);
`dispatch_waiting(tenant)` sends its oldest waiting jobs while it has room, and is called
whenever room may have appeared: after a submit, when a job finishes, fails or is
cancelled, and on every reaper pass (which also heals a dispatch lost to a crash). The
broker's queue therefore holds at most that many messages per tenant, so one tenant's
backlog delays another tenant's job by at most one job's time per worker. A tenant may
also keep at most `TENANT_MAX_WAITING_JOBS` jobs waiting; beyond that a submit answers 429.

Decisions are made under a short per-tenant Redis lock, so two submits at the same moment
cannot both take the last slot.
"""

from __future__ import annotations

import logging

from celery.utils import uuid
from flask import current_app
from sqlalchemy import func, or_, select, update

from dashboard.job_kinds import JOB_KINDS
from dashboard.queue import BROKER_ERRORS, send_job_task
from dashboard.redis_conn import get_redis
from dashboard.schema import Job, utcnow

logger = logging.getLogger(__name__)

LOCK_KEY = "valuelens:lock:dispatch:{tenant}"
LOCK_SECONDS = 30
QUEUE_DOWN = "The job could not be queued because the task queue is unavailable"


class TooManyJobs(RuntimeError):
    """The tenant already has the most waiting jobs it may have (HTTP 429)."""


def _top_level(tenant_id: str):
    return (Job.tenant_id == tenant_id, Job.parent_id.is_(None))


def waiting_count(session, tenant_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Job).where(
        *_top_level(tenant_id), Job.status == "queued", Job.task_id.is_(None))) or 0)


def ensure_room(session, tenant_id: str) -> None:
    limit = current_app.config["TENANT_MAX_WAITING_JOBS"]
    if waiting_count(session, tenant_id) >= max(limit, 0) + _free_slots(session, tenant_id):
        raise TooManyJobs(f"this company already has {limit} jobs waiting; try again when "
                          "some have finished")


def _free_slots(session, tenant_id: str) -> int:
    in_flight = session.scalar(select(func.count()).select_from(Job).where(
        *_top_level(tenant_id),
        or_(Job.status == "running", (Job.status == "queued") & Job.task_id.is_not(None)),
    )) or 0
    return max(0, current_app.config["TENANT_MAX_RUNNING_JOBS"] - int(in_flight))


def dispatch_waiting(session, tenant_id: str) -> list[str]:
    """Send the tenant's oldest waiting jobs to the broker while it has room; returns the
    ids sent. A job the broker refuses is failed with a message."""
    with get_redis().lock(LOCK_KEY.format(tenant=tenant_id), timeout=LOCK_SECONDS,
                          blocking_timeout=LOCK_SECONDS):
        slots = _free_slots(session, tenant_id)
        waiting = session.execute(
            select(Job.id, Job.kind).where(*_top_level(tenant_id), Job.status == "queued",
                                           Job.task_id.is_(None))
            .order_by(Job.created_at, Job.id).limit(slots)
        ).all() if slots else []
        session.commit()
        sent = []
        for job_id, kind in waiting:
            task_id = uuid()
            claimed = session.execute(
                update(Job).where(Job.id == job_id, Job.status == "queued",
                                  Job.task_id.is_(None))
                .values(task_id=task_id, message="Waiting for a worker")).rowcount
            session.commit()
            if not claimed:
                continue
            try:
                send_job_task(kind, job_id, task_id, JOB_KINDS[kind].queue)
            except BROKER_ERRORS as exc:
                logger.error("job %s could not be queued: %s", job_id, exc)
                fail_unqueued(session, job_id)
                continue
            sent.append(job_id)
        return sent


def fail_unqueued(session, job_id: str) -> None:
    from dashboard.jobs import close_steps

    session.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(
        status="failed", error=QUEUE_DOWN, finished_at=utcnow()))
    close_steps(session, job_id, "cancelled", "Not run: the job could not be queued")
    session.commit()


def tenants_with_waiting_jobs(session) -> list[str]:
    return list(session.scalars(select(Job.tenant_id).where(
        Job.parent_id.is_(None), Job.status == "queued", Job.task_id.is_(None)).distinct()))

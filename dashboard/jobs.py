"""The jobs service: create, enqueue, cancel and describe background jobs.

A job is a row first and a Celery message second: `submit_job` commits the row, then
hands it to the fair dispatcher (`dashboard.dispatch`), which enqueues the task
`jobs.<kind>` with the job id as its only argument when the tenant has room at the
workers (tasks take ids and re-load everything). Role rules for *starting* a kind belong to the caller (uploading needs
an analyst, retraining an admin); cancelling is the same for every kind and lives here.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from dashboard.auth.roles import Forbidden, ensure_role, has_role
from dashboard.dispatch import dispatch_waiting, ensure_room, fail_unqueued
from dashboard.job_kinds import JOB_KINDS
from dashboard.queue import BROKER_ERRORS, revoke_task
from dashboard.schema import FINISHED_JOB_STATES, Job, iso, new_id, utcnow
from dashboard.store import TenantStore

logger = logging.getLogger(__name__)


class UnknownJobKind(ValueError):
    """No task is registered for this kind of job."""


class JobNotCancellable(RuntimeError):
    """The job has already finished (HTTP 409)."""


class QueueUnavailable(RuntimeError):
    """The job could not be handed to Redis; it was marked failed (HTTP 503)."""


def submit_job(store: TenantStore, user, kind: str, params: dict | None = None) -> Job:
    """Create the job row of `kind` for `user` (None for system jobs) and enqueue it.

    A chain kind (one with `steps`) also gets one row per step, in order, which its task
    moves through; the steps are listed in the job's `params["steps"]`."""
    if kind not in JOB_KINDS:
        raise UnknownJobKind(f"unknown job kind {kind!r}")
    ensure_room(store.session, store.tenant_id)
    steps = JOB_KINDS[kind].steps
    params = dict(params or {})
    if steps:
        params["steps"] = list(steps)
    job = store.add(Job(
        id=new_id(), user_id=getattr(user, "id", None), kind=kind, params=params,
        status="queued", progress=0.0, message="Waiting for this company's earlier jobs",
    ))
    for step in steps:
        store.add(Job(id=new_id(), parent_id=job.id, user_id=job.user_id, kind=step,
                      status="queued", progress=0.0, message="Waiting"))
    store.commit()
    try:
        dispatch_waiting(store.session, store.tenant_id)
    except BROKER_ERRORS as exc:
        logger.error("job %s could not be queued: %s", job.id, exc)
        fail_unqueued(store.session, job.id)
    store.session.refresh(job)
    if job.status == "failed":
        raise QueueUnavailable("the task queue is unavailable; try again shortly")
    return job


def cancel_job(store: TenantStore, user, job_id: str) -> Job:
    """Cancel a queued or running job: analysts their own, admins any of the tenant."""
    ensure_role(user, "analyst")
    job = store.get(Job, job_id)
    if job.user_id != user.id and not has_role(user, "admin"):
        raise Forbidden("analysts may cancel only their own jobs")
    was_running = job.status == "running"
    # Conditional, so a job finishing at this very moment is not reported as cancelled.
    changed = store.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.not_in(FINISHED_JOB_STATES))
        .values(status="cancelled", message="Cancelled", finished_at=utcnow())
    ).rowcount
    if changed:
        close_steps(store.session, job.id, "cancelled", "Cancelled")
    store.commit()
    store.session.refresh(job)
    if not changed:
        raise JobNotCancellable(f"the job has already {_past(job.status)}")
    dispatch_next(store.session, store.tenant_id)
    _revoke(job.task_id, terminate=was_running)
    return job


def dispatch_next(session, tenant_id: str) -> None:
    """Let the tenant's next waiting job go now that one has ended; a broker problem only
    delays it (the reaper dispatches on its next pass)."""
    try:
        dispatch_waiting(session, tenant_id)
    except BROKER_ERRORS as exc:
        logger.warning("could not dispatch the next job of tenant %s: %s", tenant_id, exc)


def close_steps(session, parent_id: str, status: str, message: str,
                running: tuple[str, str] | None = None) -> None:
    """End the steps of a chain that had not finished when the chain itself ended;
    `running` (status, message) for the step that was under way, when it differs."""
    if running is not None:
        session.execute(
            update(Job).where(Job.parent_id == parent_id, Job.status == "running")
            .values(status=running[0], message=running[1], finished_at=utcnow()))
    session.execute(
        update(Job)
        .where(Job.parent_id == parent_id, Job.status.not_in(FINISHED_JOB_STATES))
        .values(status=status, message=message, finished_at=utcnow())
    )


def _past(status: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed"}.get(status, "been cancelled")


def _revoke(task_id: str | None, terminate: bool) -> None:
    # The row is already cancelled: a worker that misses this broadcast still stops the
    # job at its next progress update, and never starts a cancelled job.
    if not task_id:
        return
    try:
        revoke_task(task_id, terminate)
    except BROKER_ERRORS as exc:
        logger.warning("could not broadcast the revoke of task %s: %s", task_id, exc)


def job_steps(session, parents: list[Job]) -> dict[str, list[dict]]:
    """The steps of each chain among `parents`, in chain order, read in one query."""
    ids = [job.id for job in parents if (job.params or {}).get("steps")]
    if not ids:
        return {}
    rows = session.scalars(select(Job).where(Job.parent_id.in_(ids))).all()
    by_parent: dict[str, dict[str, Job]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, {})[row.kind] = row
    return {
        job.id: [_step_to_dict(by_parent.get(job.id, {}).get(name), name)
                 for name in job.params["steps"]]
        for job in parents if job.id in ids
    }


def _step_to_dict(step: Job | None, name: str) -> dict:
    if step is None:
        return {"kind": name, "status": "queued", "progress": 0.0, "message": ""}
    return {"kind": step.kind, "status": step.status, "progress": round(step.progress or 0.0, 1),
            "message": step.message, "error": step.error, "started_at": iso(step.started_at),
            "finished_at": iso(step.finished_at)}


def job_to_dict(job: Job, steps: list[dict] | None = None) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress or 0.0, 1),
        "message": job.message,
        "error": job.error,
        "params": job.params or {},
        "result": job.result,
        "user_id": job.user_id,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "steps": steps or [],
    }

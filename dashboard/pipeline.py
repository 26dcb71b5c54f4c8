"""Retraining and promotion, as the web side starts them, and how models and runs are
described to clients. The work itself runs in the worker (`workers.tasks.pipeline`).

One retrain per tenant at a time: a Redis key holds the running retrain's job id, set
only when absent; a second request answers 409 naming that job. The key expires with the
task time limit and is ignored once its job has finished, so a crashed retrain never
blocks the tenant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from dashboard import audit
from dashboard.auth.roles import ensure_role
from dashboard.dispatch import TooManyJobs
from dashboard.jobs import submit_job
from dashboard.redis_conn import get_redis
from dashboard.registry import promote
from dashboard.runs import live_run
from dashboard.schema import FINISHED_JOB_STATES, Job, ModelVersion, Run, Tenant, iso
from dashboard.store import TenantStore, store_for, unscoped

RETRAIN_KEY = "valuelens:retrain:{tenant}"
SCHEDULE_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


class RetrainRunning(RuntimeError):
    """A retrain of this tenant is already queued or running (HTTP 409)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"a retrain is already running (job {job_id})")
        self.job_id = job_id


class NothingToTrain(RuntimeError):
    """The tenant has no live data yet (HTTP 409)."""


def _live_dataset_id(store: TenantStore) -> str:
    run = live_run(store)
    if run is None or run.dataset_id is None:
        raise NothingToTrain("there is no data to train on yet; upload a file first")
    return run.dataset_id


def start_retrain(store: TenantStore, user) -> Job:
    """Retrain every model on the live dataset (admin only)."""
    ensure_role(user, "admin")
    job = _submit_retrain(store, user)
    audit.record("model.retrain", tenant_id=store.tenant_id, user_id=user.id, job_id=job.id)
    return job


def _submit_retrain(store: TenantStore, user) -> Job:
    dataset_id = _live_dataset_id(store)
    client = get_redis()
    key = RETRAIN_KEY.format(tenant=store.tenant_id)
    ttl = int(current_app.config["TASK_TIME_LIMIT"]) + 600
    holder = client.get(key)
    if holder is not None:
        job = store.session.get(Job, holder.decode())
        if job is not None and job.status not in FINISHED_JOB_STATES:
            raise RetrainRunning(job.id)
        client.delete(key)
    if not client.set(key, "pending", nx=True, ex=ttl):
        raise RetrainRunning((client.get(key) or b"pending").decode())
    try:
        job = submit_job(store, user, "retrain", {"dataset_id": dataset_id})
    except BaseException:
        client.delete(key)
        raise
    client.set(key, job.id, ex=ttl)
    return job


def retrain_due(store: TenantStore, now: datetime) -> bool:
    """Whether the tenant's retrain schedule (off, daily, weekly) asks for one now: its
    period has passed since the later of its last retrain and its live run."""
    period = SCHEDULE_PERIODS.get(store.tenant.retrain_schedule)
    run = live_run(store)
    if period is None or run is None:
        return False
    retrains, _ = store.list(Job, where=[Job.kind == "retrain", Job.parent_id.is_(None)],
                             order_by=[Job.created_at.desc()], limit=1)
    last = max([run.created_at] + [job.created_at for job in retrains])
    return now - last >= period


def run_retrain_schedules(now: datetime) -> list[str]:
    """Every tenant with a schedule: start the retrains that are due (the beat's hourly
    task and `valuelens run`'s timer call this)."""
    tenant_ids = unscoped().scalars(
        select(Tenant.id).where(Tenant.retrain_schedule != "off")).all()
    return start_scheduled_retrains([store_for(tenant_id) for tenant_id in tenant_ids], now)


def start_scheduled_retrains(stores, now: datetime) -> list[str]:
    """Start the retrains that tenants' schedules ask for (Celery beat calls this hourly);
    returns the job ids. A tenant already retraining, or without room, is left for the
    next pass."""
    started = []
    for store in stores:
        if not retrain_due(store, now):
            continue
        try:
            job = _submit_retrain(store, None)
        except (RetrainRunning, NothingToTrain, TooManyJobs):
            continue
        audit.record("model.retrain", tenant_id=store.tenant_id, job_id=job.id,
                     schedule=store.tenant.retrain_schedule)
        started.append(job.id)
    return started


def promote_model(store: TenantStore, user, version_id: str) -> ModelVersion:
    """Make a version the champion of its kind (an archived one: the roll-back), then
    score the live data again with it (admin only)."""
    ensure_role(user, "admin")
    version = store.get(ModelVersion, version_id)
    previous = promote(store, version)
    audit.record("model.promote", tenant_id=store.tenant_id, user_id=user.id,
                 version_id=version.id, kind=version.kind,
                 replaced=previous.id if previous else None)
    run = live_run(store)
    if previous is not None and run is not None and run.dataset_id is not None:
        submit_job(store, user, "rescore", {"dataset_id": run.dataset_id})
    return version


def model_to_dict(version: ModelVersion) -> dict:
    return {
        "id": version.id,
        "kind": version.kind,
        "candidate": version.candidate,
        "status": version.status,
        "dataset_id": version.dataset_id,
        "job_id": version.job_id,
        "created_at": iso(version.created_at),
        "promoted_at": iso(version.promoted_at),
        "note": version.note,
        "metrics": version.metrics or {},
    }


def run_to_dict(run: Run, live_id: str | None) -> dict:
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "live": run.id == live_id,
        "dataset_id": run.dataset_id,
        "job_id": run.job_id,
        "horizon_days": run.horizon_days,
        "customers": run.customers,
        "models": run.models or {},
        "summary": run.summary or {},
        "created_at": iso(run.created_at),
        "live_at": iso(run.live_at),
        "explained_at": iso(run.explained_at),
    }

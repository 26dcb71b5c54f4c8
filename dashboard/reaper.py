"""The reaper: no job stays `queued` or `running` forever.

A worker killed mid-task leaves its job `running`; a Redis restart without persistence (or
a flushed queue) leaves it `queued` with no message to deliver. `reap()` fails both kinds,
with a message the user can act on:

* `running` jobs whose heartbeat is older than `REAPER_GRACE_SECONDS` and whose task no
  worker holds (Celery `query_task` broadcast) and whose message is not back in the queue
  (a worker that crashed under `task_reject_on_worker_lost` puts it back for a
  redelivery, which `workers.progress` counts and caps);
* `queued` jobs older than the grace that were dispatched (they have a task id) and whose
  message is nowhere: not in the broker queue lists, not in the Redis transport's
  `unacked` hash, not held by a worker. Jobs still waiting for their tenant's turn have no
  message yet (`dashboard.dispatch`); each pass lets them go where there is room.

The steps of a chain are judged through their chain's job, never on their own.

The places are read in the order a message travels (queue → unacked → worker), so a
message moving on during the check is still seen once. When Redis cannot be reached the
reaper changes nothing: it cannot tell a lost message from an unreachable one.

`reap()` runs in-process (`valuelens run` calls it on a timer) and as the periodic beat
task `workers.reaper.reap_jobs` (defined in `workers.tasks.maintenance`); both need the
Flask app context.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import redis
from flask import current_app
from kombu.exceptions import OperationalError
from kombu.transport.redis import PRIORITY_STEPS, Channel
from sqlalchemy import func, select, update

from dashboard.dispatch import tenants_with_waiting_jobs
from dashboard.jobs import close_steps, dispatch_next
from dashboard.queue import celery, tasks_held_by_workers
from dashboard.redis_conn import get_redis
from dashboard.schema import Job, utcnow
from dashboard.store import unscoped

logger = logging.getLogger(__name__)

WORKER_LOST = "The worker stopped while running this job"
MESSAGE_LOST = "The job's queued message was lost (the queue was reset); submit it again"


def _task_ids(raw_messages) -> set[str]:
    ids = set()
    for raw in raw_messages:
        try:
            payload = json.loads(raw)
            # The unacked hash stores [message, exchange, routing key].
            message = payload[0] if isinstance(payload, list) else payload
            ids.add(message["headers"]["id"])
        except (ValueError, LookupError, TypeError):
            continue
    return ids


def queued_task_ids(client: redis.Redis) -> set[str]:
    """Task ids in the broker's queue lists (every priority step of every queue)."""
    options = celery.conf.broker_transport_options or {}
    separator = options.get("sep", Channel.sep)
    steps = options.get("priority_steps", PRIORITY_STEPS)
    queues = {celery.conf.task_default_queue, *(q.name for q in celery.conf.task_queues or ())}
    ids = set()
    for queue in queues:
        for step in steps:
            ids |= _task_ids(client.lrange(f"{queue}{separator}{step}" if step else queue, 0, -1))
    return ids


def unacked_task_ids(client: redis.Redis) -> set[str]:
    """Task ids delivered to a worker but not acknowledged yet (acks_late)."""
    options = celery.conf.broker_transport_options or {}
    return _task_ids(client.hvals(options.get("unacked_key", Channel.unacked_key)))


def _fail(job_ids: list[str], status: str, message: str, stale_before: datetime) -> list[str]:
    session = unscoped()
    failed = []
    for job_id in job_ids:
        last_sign_of_life = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
        # Conditional: a job that started, finished or beat meanwhile is left alone.
        changed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == status, last_sign_of_life < stale_before)
            .values(status="failed", error=message, finished_at=utcnow())
        ).rowcount
        if changed:
            close_steps(session, job_id, "failed", "Not finished: " + message.lower())
            failed.append(job_id)
    session.commit()
    return failed


def reap(now: datetime | None = None) -> list[str]:
    """Fail the jobs whose worker or message is gone, then let waiting jobs go where a
    tenant has room (a dispatch lost to a crash is made up for here); returns the ids of
    the failed jobs."""
    reaped = _reap_lost(now or utcnow())
    session = unscoped()
    for tenant_id in tenants_with_waiting_jobs(session):
        dispatch_next(session, tenant_id)
    return reaped


def _reap_lost(now: datetime) -> list[str]:
    stale_before = now - timedelta(seconds=current_app.config["REAPER_GRACE_SECONDS"])
    session = unscoped()
    last_sign_of_life = func.coalesce(Job.heartbeat_at, Job.started_at, Job.created_at)
    running = session.execute(
        select(Job.id, Job.task_id).where(Job.status == "running", Job.parent_id.is_(None),
                                          last_sign_of_life < stale_before)
    ).all()
    queued = session.execute(
        select(Job.id, Job.task_id).where(Job.status == "queued", Job.parent_id.is_(None),
                                          Job.task_id.is_not(None), Job.created_at < stale_before)
    ).all()
    session.commit()
    if not running and not queued:
        return []

    client = get_redis()
    try:
        in_queue = queued_task_ids(client)
        unacked = unacked_task_ids(client)
        at_workers = tasks_held_by_workers([task_id for _, task_id in running + queued if task_id])
    except (redis.RedisError, OperationalError, OSError) as exc:
        logger.warning("the reaper cannot reach Redis (%s); no job was changed", exc)
        return []

    lost_workers = [
        job_id for job_id, task_id in running if task_id not in at_workers | in_queue
    ]
    lost_messages = [
        job_id for job_id, task_id in queued
        if task_id not in in_queue and task_id not in unacked and task_id not in at_workers
    ]
    reaped = _fail(lost_workers, "running", WORKER_LOST, stale_before)
    reaped += _fail(lost_messages, "queued", MESSAGE_LOST, stale_before)
    for job_id in reaped:
        logger.warning("reaper failed job %s: its worker or queued message is gone", job_id)
    return reaped

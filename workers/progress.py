"""The one place where a task's job row changes state.

A job task hands its work to `run_job(job_id, work)`. The helper

* skips a job that is already finished or cancelled (tasks can be delivered twice);
* counts deliveries in `attempts` and refuses a job that already crashed its worker
  `MAX_DELIVERIES` times, without running it again;
* marks the job running with `started_at` and a fresh `heartbeat_at`;
* gives the work a `JobContext` whose `progress(percent, message)` updates the row and the
  heartbeat, and raises `JobCancelled` as soon as the job is no longer running (cancelled by
  a user, or failed by the reaper), so cancellation takes effect at the next update;
* records success (progress 100, the work's result) or failure with a readable message:
  `JobError` messages are shown as they are, anything else becomes a one-line summary and
  the traceback goes to the log only.

Progress updates commit the task's database session: work that must be all or nothing
writes its files first and its rows in the last step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select, update

from dashboard.jobs import close_steps, dispatch_next
from dashboard.schema import Job, utcnow
from dashboard.store import TenantStore, store_for, unscoped

logger = logging.getLogger(__name__)

# The first delivery plus at most two redeliveries after a crashed worker.
MAX_DELIVERIES = 3
MAX_ERROR_CHARS = 500
# A redelivery after a crashed worker finds its job still `running`.
CLAIMABLE_STATES = ("queued", "running")

Work = Callable[["JobContext"], dict | None]


class JobError(Exception):
    """A failure whose message is written for the user; it becomes the job's `error`."""


class JobCancelled(Exception):
    """The job stopped being `running` while the work was under way."""


class JobContext:
    """What a task's work sees: the job's ids and parameters, its tenant store, and the
    progress reporter. Work may set `summary`: the message the job shows once it has
    succeeded (otherwise "Done")."""

    def __init__(self, job: Job, store: TenantStore) -> None:
        self.job_id = job.id
        self.kind = job.kind
        self.user_id = job.user_id
        self.tenant_id = job.tenant_id
        self.params = dict(job.params or {})
        self.store = store
        self.message = job.message
        self.summary: str | None = None

    def progress(self, percent: float, message: str | None = None) -> None:
        """Report `percent` (0–100) done; also the heartbeat. Raises `JobCancelled`."""
        values = {"progress": min(100.0, max(0.0, float(percent))), "heartbeat_at": utcnow()}
        if message is not None:
            values["message"] = message
            self.message = message
        self._update(values)

    def heartbeat(self) -> None:
        """Tell the reaper the job is alive during a long step. Raises `JobCancelled`."""
        self._update({"heartbeat_at": utcnow()})

    def scaled(self, start: float, end: float) -> Callable[[float, str], None]:
        """A `progress(percent, message)` callback for one step that maps its 0–100 onto
        [start, end] of the whole job."""

        def report(percent: float, message: str) -> None:
            self.progress(start + (end - start) * min(100.0, max(0.0, percent)) / 100.0, message)

        return report

    def _update(self, values: dict) -> None:
        session = self.store.session
        changed = session.execute(
            update(Job).where(Job.id == self.job_id, Job.status == "running").values(**values)
        ).rowcount
        session.commit()
        if not changed:
            raise JobCancelled(self.job_id)


def readable_error(exc: BaseException) -> str:
    """One line for the job's `error`: never a traceback."""
    text = " ".join(str(exc).split())
    if isinstance(exc, JobError):
        summary = text or "The job failed"
    elif isinstance(exc, SoftTimeLimitExceeded):
        summary = "The job ran longer than its time limit and was stopped"
    else:
        name = type(exc).__name__
        summary = f"Unexpected error ({name}): {text}" if text else f"Unexpected error ({name})"
    return summary[:MAX_ERROR_CHARS]


def _start(job_id: str) -> Job | None:
    """Claim the job for this delivery, or return None when it must not run.

    The claim is one conditional update (`queued` or a crashed delivery's `running` →
    `running`), so a cancel, the reaper and the claim can never overwrite each other's
    state: whichever writes first wins, and the others change nothing."""
    session = unscoped()
    now = utcnow()
    claimable = (Job.id == job_id, Job.status.in_(CLAIMABLE_STATES))
    exhausted = session.execute(
        update(Job).where(*claimable, Job.attempts >= MAX_DELIVERIES).values(
            status="failed", finished_at=now,
            error=f"The job crashed its worker {MAX_DELIVERIES} times; it was not run again",
        )
    ).rowcount
    claimed = 0 if exhausted else session.execute(
        update(Job).where(*claimable, Job.attempts < MAX_DELIVERIES).values(
            status="running", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now,
            message="Started",
        )
    ).rowcount
    if exhausted:
        close_steps(session, job_id, "cancelled", "Not run: the job ended before this step",
                    running=("failed", "Its worker crashed on this step every time"))
    session.commit()
    if exhausted:
        logger.error("job %s crashed its worker %d times; giving up", job_id, MAX_DELIVERIES)
        return None
    job = session.get(Job, job_id)
    if not claimed:
        if job is None:
            logger.warning("job %s does not exist (tenant deleted?); nothing to run", job_id)
        else:
            logger.info("job %s is already %s; not running it", job_id, job.status)
        session.rollback()
        return None
    session.refresh(job)
    if job.attempts > 1:
        session.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(
            message=f"Started again (attempt {job.attempts})"))
        session.commit()
    return job


def _finish(job_id: str, **values) -> None:
    # Only a running job is finished here: a job cancelled or reaped meanwhile keeps the
    # state its canceller gave it.
    session = unscoped()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(finished_at=utcnow(), heartbeat_at=utcnow(), **values)
    )
    close_steps(session, job_id, "cancelled", "Not run: the job ended before this step")
    session.commit()


def fail_past_time_limit(job_id: str, limit_seconds: float | None) -> None:
    """Record that the worker stopped the job at its hard time limit."""
    limit = f" of {limit_seconds:.0f} s" if limit_seconds else ""
    _finish(job_id, status="failed",
            error=f"The job ran past its time limit{limit} and was stopped")


def run_job(job_id: str, work: Work) -> str:
    """Run `work(context)` for the job and record the outcome; returns the final status.
    Whatever happened, the tenant's next waiting job may then go to the workers."""
    try:
        return _run(job_id, work)
    finally:
        tenant_id = unscoped().scalar(select(Job.tenant_id).where(Job.id == job_id))
        if tenant_id:
            dispatch_next(unscoped(), tenant_id)


def _run(job_id: str, work: Work) -> str:
    job = _start(job_id)
    if job is None:
        return _status(job_id)
    context = JobContext(job, store_for(job.tenant_id))
    try:
        result = work(context)
    except JobCancelled:
        unscoped().rollback()
        logger.info("job %s stopped: it is no longer running", job_id)
    except (JobError, SoftTimeLimitExceeded) as exc:
        unscoped().rollback()
        _finish(job_id, status="failed", error=readable_error(exc))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        unscoped().rollback()
        _finish(job_id, status="failed", error=readable_error(exc))
    else:
        _finish(job_id, status="succeeded", progress=100.0, message=context.summary or "Done",
                result=result)
    return _status(job_id)


def _status(job_id: str) -> str:
    status = unscoped().scalar(select(Job.status).where(Job.id == job_id))
    unscoped().commit()
    return status or "missing"

"""Running a chain job: its steps one after another, each with its own row and progress.

A chain (an upload's ingest → train → score → explain, a retrain, a re-score, the demo)
is one Celery task whose job row is the parent; each step has a child row (created with
the job, in order) that shows the step's status, progress and message. The parent's
progress is the weighted sum of its steps'.

A step's result (a small dict: the dataset, the model bundle, the run it wrote) is kept
in its row and handed to the next steps. A redelivered chain (its worker crashed) skips
the steps that already succeeded and goes on with their results, so a retried step
never writes a second dataset version, run or champion: steps are idempotent by job id.
A failing step is marked failed with the readable error; the parent then fails with the
same message, and the steps after it are closed as not run.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update

from dashboard.schema import Job, utcnow
from workers.progress import JobCancelled, JobContext, readable_error

# Shares of a chain's time, normalised over the steps a chain has.
STEP_WEIGHTS = {"generate": 5, "ingest": 15, "train": 55, "score": 15, "explain": 10}
STEP_TITLES = {
    "generate": "Generating demo data",
    "ingest": "Reading and checking the file",
    "train": "Training and evaluating models",
    "score": "Scoring every customer",
    "explain": "Explaining the predictions",
}

Step = Callable[["StepContext", dict], dict | None]


class StepContext:
    """What a step sees: the chain's context (ids, store, parameters) and a progress
    reporter for its own 0–100 that also moves the parent's bar."""

    def __init__(self, chain: JobContext, row: Job, start: float, end: float) -> None:
        self.chain = chain
        self.store = chain.store
        self.params = chain.params
        self.job_id = chain.job_id
        self.user_id = chain.user_id
        self.step_id = row.id
        self.name = row.kind
        self.start, self.end = start, end

    def progress(self, percent: float, message: str | None = None) -> None:
        """This step is `percent` done; raises `JobCancelled` when the chain stopped."""
        percent = min(100.0, max(0.0, float(percent)))
        values = {"progress": percent, "heartbeat_at": utcnow()}
        if message is not None:
            values["message"] = message
        self.store.session.execute(update(Job).where(Job.id == self.step_id).values(**values))
        overall = self.start + (self.end - self.start) * percent / 100.0
        title = STEP_TITLES.get(self.name, self.name)
        self.chain.progress(overall, f"{title}: {message}" if message else title)

    def report(self, percent: float, message: str) -> None:
        """A `(percent, message)` callback for the analytics core."""
        self.progress(percent, message)


def _set_step(context: JobContext, step_id: str, **values) -> None:
    session = context.store.session
    session.execute(update(Job).where(Job.id == step_id).values(**values))
    session.commit()


def run_chain(context: JobContext, steps: dict[str, Step]) -> dict:
    """Run the job's steps in order and return the results they handed on."""
    names = list(context.params.get("steps") or [])
    rows = {row.kind: row for row in context.store.session.scalars(
        select(Job).where(Job.parent_id == context.job_id)).all()}
    total = sum(STEP_WEIGHTS.get(name, 10) for name in names) or 1
    state: dict = {}
    done = 0.0
    for name in names:
        row = rows[name]
        share = 100.0 * STEP_WEIGHTS.get(name, 10) / total
        if row.status == "succeeded":
            state.update(row.result or {})
            done += share
            continue
        now = utcnow()
        _set_step(context, row.id, status="running", progress=0.0, started_at=now,
                  heartbeat_at=now, message="Started", attempts=row.attempts + 1)
        step = StepContext(context, row, done, done + share)
        step.progress(0, None)
        try:
            result = steps[name](step, state) or {}
        except JobCancelled:
            raise
        except BaseException as exc:
            context.store.session.rollback()
            _set_step(context, row.id, status="failed", error=readable_error(exc),
                      finished_at=utcnow(), message="Failed")
            raise
        state.update(result)
        _set_step(context, row.id, status="succeeded", progress=100.0, result=result,
                  finished_at=utcnow(), message="Done")
        done += share
    return state

"""The chain jobs: `pipeline` (an upload), `retrain`, `rescore` and `demo`.

Each is one task that runs its steps (`dashboard.job_kinds` lists them) through
`workers.chain.run_chain`; the job succeeds only when every step did, and its message
then says what the new live run holds.
"""

from __future__ import annotations

from dashboard.labels import candidate_label
from dashboard.pipeline import RETRAIN_KEY
from dashboard.queue import celery, job_task_name
from dashboard.redis_conn import get_redis
from dashboard.schema import ModelVersion, Run
from workers.celery_app import FlaskTask
from workers.chain import run_chain
from workers.progress import JobContext, run_job
from workers.steps import analysis, data

STEPS = {
    "generate": data.generate,
    "ingest": data.ingest,
    "train": analysis.train,
    "score": analysis.score,
    "explain": analysis.explain,
}


MODEL_ROLES = {"clv": "lifetime-value model", "churn": "churn model",
               "regression": "prediction model"}


def run_summary(scored: int, horizon: int, candidates: dict[str, str]) -> str:
    """The finished job's message: how many customers, and the models in plain words."""
    best = "; ".join(f"best {MODEL_ROLES[kind]}: {candidate_label(kind, name)}"
                     for kind, name in candidates.items() if kind in MODEL_ROLES)
    head = f"Scored {scored:,} customers over {horizon} days."
    return f"{head} {best[0].upper()}{best[1:]}." if best else head


def _summary(context: JobContext, state: dict) -> str:
    store = context.store
    run = store.get(Run, state["run_id"])
    candidates = {}
    for kind, version_id in (run.models or {}).items():
        version = store.session.get(ModelVersion, version_id)
        if version is not None:
            candidates[kind] = version.candidate
    return run_summary(run.customers or 0, run.horizon_days, candidates)


def analyse(context: JobContext) -> dict:
    state = run_chain(context, STEPS)
    context.summary = _summary(context, state)
    return state


def _retrain(context: JobContext) -> dict:
    try:
        return analyse(context)
    finally:
        client = get_redis()
        key = RETRAIN_KEY.format(tenant=context.tenant_id)
        if (client.get(key) or b"").decode() == context.job_id:
            client.delete(key)


@celery.task(base=FlaskTask, name=job_task_name("pipeline"))
def run_pipeline_job(job_id: str) -> str:
    return run_job(job_id, analyse)


@celery.task(base=FlaskTask, name=job_task_name("demo"))
def run_demo_job(job_id: str) -> str:
    return run_job(job_id, analyse)


@celery.task(base=FlaskTask, name=job_task_name("rescore"))
def run_rescore_job(job_id: str) -> str:
    return run_job(job_id, analyse)


@celery.task(base=FlaskTask, name=job_task_name("retrain"))
def run_retrain_job(job_id: str) -> str:
    return run_job(job_id, _retrain)

"""`demo` jobs: synthetic transactions for a tenant, analysed end to end.

The job generates transactions from a known buy-till-you-die process, runs the whole
analysis on them (features, RFM, segments, CLV and churn backtests, champions, scores and
explanations) with the tenant's horizon, and writes the data, the report and the scored
customers into the tenant's data dir. It proves the round trip (API → Redis → worker →
store → job row) and gives a fresh tenant something to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dashboard.job_kinds import demo_params
from dashboard.labels import candidate_label
from dashboard.queue import celery, job_task_name
from models.pipeline import analyze_transactions
from models.synthetic import generate_transactions
from workers.celery_app import FlaskTask
from workers.progress import JobContext, JobError, run_job

DEMO_TRANSACTIONS = ("demo", "transactions.parquet")
DEMO_REPORT = ("demo", "report.json")
DEMO_CUSTOMERS = ("demo", "customers.parquet")


def _replace(target: Path, write) -> None:
    """Write through a temporary name, then swap: readers never see a half-written file."""
    partial = target.with_name(target.name + ".partial")
    write(partial)
    os.replace(partial, target)


def demo_summary(scored: int, horizon: int, models: dict) -> str:
    """The finished job's message, naming the winning models in plain words."""
    return (
        f"Scored {scored:,} customers over {horizon} days. Best lifetime-value model: "
        f"{candidate_label('clv', models['clv']['champion'])}; best churn model: "
        f"{candidate_label('churn', models['churn']['champion'])}."
    )


def prepare_demo(context: JobContext) -> dict:
    try:
        params = demo_params(context.params)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    context.progress(2, f"Generating transactions for {params['customers']:,} customers")
    frame = generate_transactions(params["customers"], seed=params["seed"])
    context.progress(10, f"Writing {len(frame):,} transactions")
    _replace(context.store.path(*DEMO_TRANSACTIONS),
             lambda path: frame.to_parquet(path, index=False))

    horizon = context.store.tenant.horizon_days
    report, customers = analyze_transactions(frame, horizon=horizon,
                                             progress=context.scaled(15, 95))
    _replace(context.store.path(*DEMO_CUSTOMERS),
             lambda path: customers.to_parquet(path, index=False))
    _replace(context.store.path(*DEMO_REPORT),
             lambda path: path.write_text(json.dumps(report, default=str)))
    models = report["models"]
    context.summary = demo_summary(len(customers), horizon, models)
    return {
        "path": "/".join(DEMO_TRANSACTIONS),
        "rows": len(frame),
        "scored_customers": len(customers),
        "horizon_days": horizon,
        "clv_champion": models["clv"]["champion"],
        "churn_champion": models["churn"]["champion"],
        **params,
    }


@celery.task(base=FlaskTask, name=job_task_name("demo"))
def run_demo_job(job_id: str) -> str:
    return run_job(job_id, prepare_demo)

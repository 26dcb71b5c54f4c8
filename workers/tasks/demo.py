"""`demo` jobs: synthetic transactions for a tenant, written as Parquet in its data dir.

The job proves the whole round trip (API → Redis → worker → store → job row) and gives a
fresh tenant something to look at.
"""

from __future__ import annotations

import os

from models.synthetic import generate_transactions
from workers.celery_app import celery, job_task_name
from workers.progress import JobContext, JobError, run_job

MAX_DEMO_CUSTOMERS = 500_000
DEFAULT_DEMO_CUSTOMERS = 2_000
DEMO_TRANSACTIONS = ("demo", "transactions.parquet")


def demo_params(raw: dict | None) -> dict:
    """Validated parameters of a demo job; `ValueError` says what is wrong."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - {"customers", "seed"})
    if unknown:
        raise ValueError(f"unknown demo parameter(s): {', '.join(unknown)}")
    customers = raw.get("customers", DEFAULT_DEMO_CUSTOMERS)
    seed = raw.get("seed", 0)
    if isinstance(customers, bool) or not isinstance(customers, int) or not (
        1 <= customers <= MAX_DEMO_CUSTOMERS
    ):
        raise ValueError(f"customers must be a whole number from 1 to {MAX_DEMO_CUSTOMERS}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a whole number, 0 or more")
    return {"customers": customers, "seed": seed}


def prepare_demo(context: JobContext) -> dict:
    try:
        params = demo_params(context.params)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    context.progress(5, f"Generating transactions for {params['customers']:,} customers")
    frame = generate_transactions(params["customers"], seed=params["seed"])
    context.progress(60, f"Writing {len(frame):,} transactions")
    target = context.store.path(*DEMO_TRANSACTIONS)
    partial = target.with_name(target.name + ".partial")
    frame.to_parquet(partial, index=False)
    # Readers never see a half-written file: the new one replaces the old in one step.
    os.replace(partial, target)
    context.progress(95, f"Wrote {len(frame):,} transactions")
    return {"path": "/".join(DEMO_TRANSACTIONS), "rows": len(frame), **params}


@celery.task(name=job_task_name("demo"))
def run_demo_job(job_id: str) -> str:
    return run_job(job_id, prepare_demo)

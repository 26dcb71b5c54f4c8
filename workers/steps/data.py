"""Data steps: the demo's generated upload, and ingest of an uploaded file.

Ingest reads the raw upload with the analytics core's validating readers and writes the
typed dataset version as Parquet under `datasets/<id>/`; an `append` upload is the live
dataset's rows followed by the new ones. All or nothing: a rejected file marks only its
own dataset row failed, with the validation report; the tenant's current data, live run
and champions are untouched.
"""

from __future__ import annotations

import pandas as pd

from dashboard.datasets import mark
from dashboard.job_kinds import demo_params
from dashboard.runs import write_atomic
from dashboard.schema import Dataset
from models.ingest import IngestError, read_customers, read_transactions
from models.synthetic import generate_transactions
from workers.chain import StepContext
from workers.progress import JobError

DATA_FILES = {"transactions": "transactions.parquet", "customers": "customers.parquet"}


def generate(step: StepContext, state: dict) -> dict:
    """Write generated transactions as a CSV upload: the demo's dataset version."""
    params = demo_params({k: v for k, v in step.params.items() if k != "steps"})
    store = step.store
    existing, _ = store.list(Dataset, where=[Dataset.job_id == step.job_id])
    if existing:
        return {"dataset_id": existing[0].id}
    step.progress(10, f"{params['customers']:,} customers")
    frame = generate_transactions(params["customers"], seed=params["seed"])
    dataset = store.add(Dataset(filename="demo-transactions.csv", kind="transactions",
                                status="uploaded", job_id=step.job_id, created_by=step.user_id))
    store.session.flush()
    dataset.path = f"uploads/{dataset.id}-demo-transactions.csv"
    step.progress(60, f"Writing {len(frame):,} transactions")
    target = store.path(dataset.path)
    write_atomic(target, lambda path: frame.to_csv(path, index=False, date_format="%Y-%m-%d"))
    dataset.size_bytes = target.stat().st_size
    store.commit()
    return {"dataset_id": dataset.id}


def data_file(dataset: Dataset) -> str:
    return f"datasets/{dataset.id}/{DATA_FILES[dataset.kind]}"


def load_dataset(store, dataset_id: str) -> tuple[Dataset, pd.DataFrame]:
    dataset = store.get(Dataset, dataset_id)
    if dataset.status != "ready" or not dataset.data_path:
        raise JobError("The dataset is not ready to be analysed (its ingest did not succeed)")
    return dataset, pd.read_parquet(store.path(dataset.data_path))


def ingest(step: StepContext, state: dict) -> dict:
    store = step.store
    dataset_id = state.get("dataset_id") or step.params["dataset_id"]
    dataset = store.get(Dataset, dataset_id)
    if dataset.status == "ready":
        return {"dataset_id": dataset.id}
    mark(store, dataset, status="ingesting", error=None)
    step.progress(5, f"Reading {dataset.filename}")
    reader = read_transactions if dataset.kind == "transactions" else read_customers
    try:
        result = reader(store.path(dataset.path), mapping=dataset.mapping)
    except IngestError as exc:
        mark(store, dataset, status="failed", report=exc.report.to_dict(),
             error=str(exc) or "The file was rejected")
        raise JobError(f"The file was rejected: {exc}") from None
    frame = result.frame
    if dataset.base_id:
        step.progress(70, "Adding the rows to the live dataset")
        _, base = load_dataset(store, dataset.base_id)
        frame = pd.concat([base, frame], ignore_index=True)
    step.progress(80, f"Saving {len(frame):,} rows")
    relative = data_file(dataset)
    write_atomic(store.path(relative), lambda path: frame.to_parquet(path, index=False))
    report = result.report.to_dict()
    mark(store, dataset, status="ready", data_path=relative, rows=int(len(frame)), report=report)
    return {"dataset_id": dataset.id}

"""Analysis steps: train (backtests, registry, drift), score (the run goes live), explain.

* train — fits every candidate on the dataset version under the tenant's training lock
  (an upload's chain and a retrain never train one tenant twice at once), saves the bundle
  to `models/<job id>/`, registers one version per kind and lets the registry's rule pick
  the champions; stores the drift (PSI) of the dataset's features against the data the
  previous CLV (or regression) champion was trained on.
* score — the champions of each kind score every customer of the dataset; the scores
  must be finite and every customer accounted for, or the run never goes live. The run's
  files are written, then the tenant's live pointer moves to it in one update.
* explain — SHAP contributions of the champions for every customer, attached to the run.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
from flask import current_app

from dashboard.aggregates import build_aggregates, explained_aggregates
from dashboard.redis_conn import get_redis
from dashboard.registry import champions, register_training
from dashboard.runs import (
    AGGREGATES_FILE,
    CUSTOMERS_FILE,
    EXPLANATIONS_FILE,
    EXPLANATIONS_META_FILE,
    REPORT_FILE,
    create_run,
    fail_run,
    go_live,
    mark_ready,
    read_json,
    write_frame,
    write_json,
)
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job, ModelVersion, Run, utcnow
from models.drift import population_stability
from models.features import customer_features
from models.pipeline import (
    explain_table,
    explain_transactions,
    load_trained,
    score_table,
    score_transactions,
    train_table,
    train_transactions,
)
from workers.chain import StepContext
from workers.locks import LockBusy, holder, release_abandoned, tenant_lock
from workers.progress import JobError
from workers.steps.data import load_dataset

FEATURES_SAMPLE_FILE = "features_sample.parquet"
FEATURES_SAMPLE_ROWS = 20_000
LOCK_POLL_SECONDS = 1.0
EXPLAIN_ROW_GROUP = 16_384


def _features_sample(dataset: Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    if dataset.kind == "transactions":
        features = customer_features(frame, frame["date"].max() + pd.Timedelta(days=1))
    else:
        features = frame.set_index("customer_id")
    numeric = features.select_dtypes("number")
    if len(numeric) > FEATURES_SAMPLE_ROWS:
        numeric = numeric.sample(FEATURES_SAMPLE_ROWS, random_state=0)
    return numeric.reset_index(drop=True)


def _drift(store, dataset: Dataset, sample: pd.DataFrame) -> dict | None:
    current = champions(store)
    reference = current.get("clv") or current.get("regression")
    if reference is None or not reference.path:
        return None
    path = store.path(reference.path, FEATURES_SAMPLE_FILE)
    if not path.exists():
        return None
    table = population_stability(pd.read_parquet(path), sample)
    return {"against_dataset": reference.dataset_id, "model_version": reference.id,
            "features": table.to_dict(orient="records")}


def _fit(step: StepContext, dataset: Dataset, frame: pd.DataFrame):
    horizon = step.store.tenant.horizon_days
    try:
        if dataset.kind == "transactions":
            return train_transactions(frame, horizon=horizon, progress=step.report)
        return train_table(frame, target=dataset.target, progress=step.report)
    except ValueError as exc:
        raise JobError(f"The models could not be trained: {exc}") from None


def train(step: StepContext, state: dict) -> dict:
    store = step.store
    dataset_id = state.get("dataset_id") or step.params["dataset_id"]
    registered, _ = store.list(ModelVersion, where=[ModelVersion.job_id == step.job_id])
    if registered:
        # An earlier delivery of this job trained and registered, then its worker died
        # before the step was marked done: fitting again would judge the data's drift
        # against that delivery's own models.
        return {"dataset_id": dataset_id, "bundle": registered[0].path,
                "versions": {version.kind: version.id for version in registered}}
    dataset, frame = load_dataset(store, dataset_id)
    ttl = float(current_app.config["TASK_TIME_LIMIT"])
    while True:
        try:
            with tenant_lock(get_redis(), store.tenant_id, "training", ttl, owner=step.job_id):
                return _train_locked(step, dataset, frame)
        except LockBusy:
            _free_if_abandoned(store)
            step.progress(0, "Waiting for another training of this company to finish")
            time.sleep(LOCK_POLL_SECONDS)


def _free_if_abandoned(store) -> None:
    """The training lock of a job that has ended (its worker was killed outright and the
    reaper failed it) would block the tenant until it expires: free it now."""
    client = get_redis()
    job_id = holder(client, store.tenant_id, "training")
    if job_id is None:
        return
    job = store.session.get(Job, job_id)
    store.session.commit()
    if job is None or job.status in FINISHED_JOB_STATES:
        release_abandoned(client, store.tenant_id, "training", job_id)


def _train_locked(step: StepContext, dataset: Dataset, frame: pd.DataFrame) -> dict:
    store = step.store
    trained = _fit(step, dataset, frame)
    bundle = f"models/{step.job_id}"
    step.progress(96, "Saving the models")
    trained.save(store.path(bundle, "trained.json").parent)
    sample = _features_sample(dataset, frame)
    dataset.drift = _drift(store, dataset, sample)
    sample.to_parquet(store.path(bundle, FEATURES_SAMPLE_FILE), index=False)
    versions = register_training(store, step.job_id, dataset.id, bundle, trained.report)
    return {"dataset_id": dataset.id, "bundle": bundle,
            "versions": {version.kind: version.id for version in versions}}


def _champion_pipeline(store):
    """The trained pipeline the current champions make up: each kind from its version's
    bundle (CLV with the BG/NBD fit it was trained with; segments from theirs)."""
    current = champions(store)
    if not current:
        raise JobError("There is no champion model to score with; train first")
    loaded = {}

    def bundle(kind):
        path = current[kind].path
        if path not in loaded:
            loaded[path] = load_trained(store.path(path, "trained.json").parent)
        return loaded[path]

    if "regression" in current:
        return bundle("regression"), current
    trained = dataclasses.replace(
        bundle("clv"), churn=bundle("churn").churn,
        segmenter=bundle("segmentation").segmenter,
        rfm_thresholds=bundle("segmentation").rfm_thresholds)
    return trained, current


def _check_scores(customers: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        values = pd.to_numeric(customers[column], errors="coerce").to_numpy(dtype=float)
        bad = int((~np.isfinite(values)).sum())
        if bad:
            raise JobError(f"{bad:,} customers got no finite {column.replace('_', ' ')}; "
                           "the previous results stay live")


def score(step: StepContext, state: dict) -> dict:
    store = step.store
    dataset, frame = load_dataset(store, state.get("dataset_id") or step.params["dataset_id"])
    trained, current = _champion_pipeline(store)
    step.progress(10, f"Scoring {frame['customer_id'].nunique():,} customers")
    if dataset.kind == "transactions":
        customers = score_transactions(trained, frame)
        _check_scores(customers, ["clv", "churn_probability"])
        without = int(frame["customer_id"].nunique() - len(customers))
        data = {"customers": int(len(customers)), "transactions": int(len(frame)),
                "first_date": frame["date"].min().isoformat(),
                "last_date": frame["date"].max().isoformat(),
                "customers_without_purchase": without}
    else:
        customers = score_table(trained, frame)
        _check_scores(customers, [f"predicted_{trained.target}"])
        data = {"customers": int(len(customers))}
    report = {
        "kind": dataset.kind, "validation": dataset.report, "data": data,
        "rfm": {"segments": _counts(customers.get("rfm_segment"))},
        "segmentation": current["segmentation"].metrics,
        "models": {kind: version.metrics for kind, version in current.items()
                   if kind in ("clv", "churn", "regression")},
        "model_versions": {kind: version.id for kind, version in current.items()},
    }
    horizon = getattr(trained, "horizon", None) or store.tenant.horizon_days
    run = create_run(store, step.job_id, dataset.id, dataset.kind, int(horizon))
    step.progress(60, "Writing the results")
    write_frame(store, run, CUSTOMERS_FILE, customers)
    write_json(store, run, REPORT_FILE, report)
    aggregates = build_aggregates(customers, frame if dataset.kind == "transactions" else None,
                                  report, run.horizon_days)
    write_json(store, run, AGGREGATES_FILE, aggregates)
    run.customers = int(len(customers))
    run.models = report["model_versions"]
    run.summary = aggregates.get("kpis")
    # Complete on disk but not live: web processes start reading it while it is explained,
    # so the moment it goes live costs them nothing.
    mark_ready(store, run)
    return {"run_id": run.id}


def _counts(values) -> dict:
    if values is None:
        return {}
    return {str(name): int(count) for name, count in values.value_counts().items()}


def explain(step: StepContext, state: dict) -> dict:
    """Attach the explanations, then make the run live: a run goes live complete. When
    explaining fails or the job is cancelled, the run never goes live and the one that
    was live before this chain stays live (a failed chain changes nothing)."""
    store = step.store
    run = store.get(Run, state["run_id"])
    if run.status == "live":
        # A redelivery after this step made the run live: nothing is left to do.
        return {"run_id": run.id}
    try:
        if run.explained_at is None:
            _explain(step, run)
    except BaseException:
        fail_run(store, run)
        raise
    go_live(store, run)
    return {"run_id": run.id}


def _explain(step: StepContext, run: Run) -> None:
    store = step.store
    dataset, frame = load_dataset(store, run.dataset_id)
    trained, _ = _champion_pipeline(store)
    step.progress(10, "Computing SHAP contributions")
    explained = (explain_transactions(trained, frame) if dataset.kind == "transactions"
                 else explain_table(trained, frame))
    step.progress(80, "Writing the explanations")
    contributions = explained.contributions.copy()
    contributions.index.name = "customer_id"
    # Sorted by id in small row groups, so one customer's row is read from one group.
    write_frame(store, run, EXPLANATIONS_FILE,
                contributions.sort_index().reset_index(), row_group_size=EXPLAIN_ROW_GROUP)
    write_json(store, run, EXPLANATIONS_META_FILE, {"models": {
        name: {"base_value": float(base), "space": explained.spaces.get(name)}
        for name, base in explained.base_values.items()}})
    if dataset.kind == "customers":
        # What drives the target needs the SHAP values, which exist only from here on.
        aggregates = read_json(store, run, AGGREGATES_FILE) or {}
        aggregates.update(explained_aggregates(frame, contributions))
        write_json(store, run, AGGREGATES_FILE, aggregates)
    run.explained_at = utcnow()
    store.commit()

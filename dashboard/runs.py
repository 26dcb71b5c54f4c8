"""Runs: the scored outputs of a tenant's data, and the one pointer that makes one live.

A run's files sit in `runs/<run id>/` under the tenant's directory:

* `customers.parquet`: one row per customer (`customer_id` as text, the features, RFM
  segment and scores, cluster and persona, `clv`, `churn_probability`, `p_alive`,
  `expected_purchases`; a customer-table run has the attributes and the prediction);
* `report.json`: the analysis report (validation, data, RFM counts, segmentation, every
  model's backtest, champion and notes);
* `explanations.parquet` and `explanations.json`: per-customer SHAP contributions
  (`shap_<model>__<feature>`) and each model's base value and space, attached when the
  explain step is done;
* `aggregates.json`: figures pre-aggregated at scoring time for the dashboards.

Files are written under a temporary name and renamed, so a reader never sees half a
file. The score step leaves a run `ready` (web processes may read it ahead); the explain
step makes it live by one update of `Tenant.live_run_id`, and the run it replaces
becomes `superseded`; a chain that fails first marks its run `failed`. Dashboards and
the read API use `live_run_data(store)` (or `live_run(store)` for the row).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import update

from dashboard.schema import Run, Tenant, utcnow
from dashboard.store import NotFound, TenantStore

log = logging.getLogger(__name__)

CUSTOMERS_FILE = "customers.parquet"
REPORT_FILE = "report.json"
EXPLANATIONS_FILE = "explanations.parquet"
EXPLANATIONS_META_FILE = "explanations.json"
AGGREGATES_FILE = "aggregates.json"


def run_file(store: TenantStore, run: Run | RunFiles, name: str) -> Path:
    return store.path(run.path, name)


def write_atomic(target: Path, write) -> None:
    """`write(path)` to a temporary name beside `target`, then rename over it."""
    partial = target.with_name(target.name + ".partial")
    write(partial)
    os.replace(partial, target)


def write_frame(store: TenantStore, run: Run, name: str, frame: pd.DataFrame,
                **parquet_options) -> None:
    write_atomic(run_file(store, run, name),
                 lambda path: frame.to_parquet(path, index=False, **parquet_options))


def write_json(store: TenantStore, run: Run, name: str, payload) -> None:
    write_atomic(run_file(store, run, name),
                 lambda path: path.write_text(json.dumps(payload, default=str)))


def read_json(store: TenantStore, run: Run | RunFiles, name: str):
    path = run_file(store, run, name)
    return json.loads(path.read_text()) if path.exists() else None


def read_frame(store: TenantStore, run: Run | RunFiles, name: str, columns=None,
               filters=None) -> pd.DataFrame | None:
    path = run_file(store, run, name)
    if not path.exists():
        return None
    return pd.read_parquet(path, columns=columns, filters=filters)


def create_run(store: TenantStore, job_id: str, dataset_id: str | None, kind: str,
               horizon_days: int) -> Run:
    """The run of `job_id`, created once: a retried step finds the one it made before."""
    existing, _ = store.list(Run, where=[Run.job_id == job_id])
    if existing:
        return existing[0]
    run = store.add(Run(job_id=job_id, dataset_id=dataset_id, kind=kind, status="scoring",
                        horizon_days=horizon_days, path=""))
    store.session.flush()
    run.path = f"runs/{run.id}"
    store.commit()
    return run


def go_live(store: TenantStore, run: Run) -> None:
    """Point the tenant's dashboards at `run` in one update; the previous run is kept as
    `superseded` (datasets behind it stay deletable only once nothing live uses them)."""
    previous = store.tenant.live_run_id
    store.session.execute(
        update(Tenant).where(Tenant.id == store.tenant_id).values(live_run_id=run.id))
    if previous and previous != run.id:
        store.session.execute(
            update(Run).where(Run.tenant_id == store.tenant_id, Run.id == previous)
            .values(status="superseded"))
    run.status = "live"
    run.live_at = run.live_at or utcnow()
    store.commit()


def mark_ready(store: TenantStore, run: Run) -> None:
    """The run's files are complete: web processes may read it ahead of its going live."""
    run.status = "ready"
    store.commit()


def fail_run(store: TenantStore, run: Run) -> None:
    """A chain that failed before its run went live: the run is never shown, and the run
    that was live stays live."""
    store.session.rollback()
    store.session.execute(update(Run).where(Run.tenant_id == store.tenant_id, Run.id == run.id,
                                            Run.status != "live").values(status="failed"))
    store.commit()


def live_run(store: TenantStore) -> Run | None:
    """The tenant's live run, or None before the first scored upload."""
    run_id = store.tenant.live_run_id
    if not run_id:
        return None
    try:
        return store.get(Run, run_id)
    except NotFound:
        return None


@dataclass(frozen=True)
class RunFiles:
    """What reading a run's files needs, detached from the database session, so that a
    background thread may read them."""

    id: str
    kind: str
    horizon_days: int
    path: str

    @classmethod
    def of(cls, run: Run) -> RunFiles:
        return cls(id=run.id, kind=run.kind, horizon_days=run.horizon_days, path=run.path)


class RunData:
    """What the dashboards read of one run, loaded once per process and run: the customer
    table, the report and the pre-aggregated figures. Explanations and transactions are
    read on demand (one customer's rows), since they are large and rarely all needed."""

    def __init__(self, store: TenantStore, run: Run | RunFiles) -> None:
        self.run_id = run.id
        self.tenant_id = store.tenant_id
        self.kind = run.kind
        self.horizon_days = run.horizon_days
        self.customers = read_frame(store, run, CUSTOMERS_FILE)
        self.read_small_files(store, run)
        # Read before the run went live: its small files may still change (the explain
        # step adds to the aggregates of a customer table).
        self.read_ahead = False

    def read_small_files(self, store: TenantStore, run: Run | RunFiles) -> None:
        self.report = read_json(store, run, REPORT_FILE) or {}
        self.aggregates = read_json(store, run, AGGREGATES_FILE) or {}


_CACHE: dict[tuple[str, str], RunData] = {}
_CACHE_SIZE = 8
# One lock per (tenant, run) being loaded: the requests that arrive together after a run
# goes live wait for one read of its files instead of each reading them (four threads
# reading 500,000 customers at once took four times the CPU, while pages queued).
_LOADING: dict[tuple[str, str], threading.Lock] = {}
_LOADING_GUARD = threading.Lock()
# A run that is `ready` (scored, being explained) is read in the background by the first
# request that notices it, so the switch to it costs the requests after it nothing. Each
# process looks at most this often per tenant; `_AHEAD` is the run read ahead per tenant.
READY_CHECK_SECONDS = 1.0
_READY_CHECKED: dict[str, float] = {}
_AHEAD: dict[str, str] = {}
# Called with a run's data once it has been read ahead (e.g. to build lookups the first
# requests after the switch would otherwise build).
PRELOAD_HOOKS: list[Callable[[RunData], object]] = []


def live_run_data(store: TenantStore) -> RunData | None:
    """The live run's data for the store's tenant, cached by (tenant, run): a new run
    going live changes the key, so nothing stale is ever served."""
    run = live_run(store)
    read_ready_run_ahead(store)
    if run is None or run.status != "live":
        return None
    files = RunFiles.of(run)
    data = _cached(store, files)
    if data is not None and data.read_ahead:
        # Live now, so complete: what the last step added to the small files is read.
        data.read_small_files(store, files)
        data.read_ahead = False
    if _AHEAD.get(store.tenant_id) == run.id:
        _AHEAD.pop(store.tenant_id, None)
    # A tenant's earlier runs are never read again once a newer one is live.
    keep = {run.id, _AHEAD.get(store.tenant_id)}
    with _LOADING_GUARD:
        for stale in [k for k in _CACHE if k[0] == store.tenant_id and k[1] not in keep]:
            del _CACHE[stale]
    return data


def _cached(store: TenantStore, run: RunFiles) -> RunData | None:
    key = (store.tenant_id, run.id)
    data = _CACHE.get(key)
    if data is not None:
        return data
    with _LOADING_GUARD:
        loading = _LOADING.setdefault(key, threading.Lock())
    with loading:
        data = _CACHE.get(key)
        if data is None:
            data = RunData(store, run)
            if data.customers is None:
                data = None
            else:
                with _LOADING_GUARD:
                    if len(_CACHE) >= _CACHE_SIZE:
                        del _CACHE[next(iter(_CACHE))]
                    _CACHE[key] = data
    with _LOADING_GUARD:
        _LOADING.pop(key, None)
    return data


def read_ready_run_ahead(store: TenantStore) -> threading.Thread | None:
    """Start reading the tenant's `ready` run in a background thread, when there is one
    this process has not read; at most once per READY_CHECK_SECONDS per tenant."""
    now = time.monotonic()
    if now - _READY_CHECKED.get(store.tenant_id, float("-inf")) < READY_CHECK_SECONDS:
        return None
    _READY_CHECKED[store.tenant_id] = now
    ready, _ = store.list(Run, where=[Run.status == "ready"], order_by=(Run.created_at.desc(),),
                          limit=1)
    if not ready:
        # A run read ahead that went live, or failed, is no longer kept for its own sake.
        _AHEAD.pop(store.tenant_id, None)
        return None
    files = RunFiles.of(ready[0])
    key = (store.tenant_id, files.id)
    if key in _CACHE or key in _LOADING:
        return None
    _AHEAD[store.tenant_id] = files.id
    reader = threading.Thread(target=_read_ahead, args=(store, files), daemon=True,
                              name=f"read-ahead-{files.id}")
    reader.start()
    return reader


def _read_ahead(store: TenantStore, files: RunFiles) -> None:
    try:
        data = _cached(store, files)
        if data is not None:
            data.read_ahead = True
        for hook in PRELOAD_HOOKS if data is not None else ():
            hook(data)
    except Exception:
        # The first request after the switch reads it instead; nothing is lost.
        log.warning("reading run %s ahead failed", files.id, exc_info=True)

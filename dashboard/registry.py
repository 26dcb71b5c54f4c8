"""The model registry: every trained model is a version; one champion per kind and tenant.

A training writes one bundle directory (`models/<job id>/` under the tenant's directory,
layout in `models.pipeline.trained`) and one version per kind it holds: `clv`, `churn`
and `segmentation` for transactions, `regression` and `segmentation` for a customer
table. Each version's metrics are the report of its kind, with every candidate's
backtest.

Champion rule for a new version (documented in docs/ARCHITECTURE.md):

* no champion of its kind yet, or the same candidate as the champion (the same approach
  refit on newer data), or a segmentation or regression: it becomes champion;
* otherwise it must beat the champion's candidate *on the same backtest* (the new
  version's, where every candidate was evaluated on the same windows) by more than
  `MARGIN` on the kind's ranking metric (normalised Gini for CLV, ROC AUC for churn);
  else it stays a candidate and its note says by how much it lost.

Promotion archives the previous champion and promotes the new one in one transaction;
a partial unique index makes two champions of one kind impossible whatever the code does.
"""

from __future__ import annotations

from sqlalchemy import update

from dashboard.labels import candidate_label
from dashboard.schema import ModelVersion, utcnow
from dashboard.store import TenantStore

MARGIN = 0.005
RANKING_METRIC = {"clv": "normalized_gini", "churn": "roc_auc"}
METRIC_NAMES = {"normalized_gini": "normalised Gini", "roc_auc": "ROC AUC"}
TRANSACTION_KINDS = ("clv", "churn", "segmentation")
TABLE_KINDS = ("regression", "segmentation")


def version_metrics(report: dict, kind: str) -> dict:
    if kind in ("clv", "churn"):
        return report["models"][kind]
    if kind == "regression":
        return {**report["regression"], "leakage": report.get("leakage")}
    return report["segmentation"]


def _candidate(metrics: dict, kind: str) -> str:
    if kind in ("clv", "churn"):
        return metrics["champion"]
    if kind == "regression":
        return "xgboost"
    return "kmeans"


def champions(store: TenantStore) -> dict[str, ModelVersion]:
    rows, _ = store.list(ModelVersion, where=[ModelVersion.status == "champion"])
    return {row.kind: row for row in rows}


def register_training(store: TenantStore, job_id: str, dataset_id: str | None, bundle: str,
                      report: dict) -> list[ModelVersion]:
    """One version per kind of a training, created once per job (a retried step finds
    the versions it wrote before), each judged against the current champion."""
    existing, _ = store.list(ModelVersion, where=[ModelVersion.job_id == job_id])
    if existing:
        return existing
    kinds = TABLE_KINDS if report.get("kind") == "customers" else TRANSACTION_KINDS
    current = champions(store)
    versions = []
    for kind in kinds:
        metrics = version_metrics(report, kind)
        version = store.add(ModelVersion(
            kind=kind, candidate=_candidate(metrics, kind), status="candidate",
            dataset_id=dataset_id, job_id=job_id, path=bundle, metrics=metrics,
            params={"horizon_days": report.get("models", {}).get("clv", {}).get("horizon")},
        ))
        versions.append(version)
    store.session.flush()
    for version in versions:
        verdict = judge(version, current.get(version.kind))
        if verdict is None:
            _promote(store, version, current.get(version.kind))
        else:
            version.note = verdict
    store.commit()
    return versions


def judge(version: ModelVersion, champion: ModelVersion | None) -> str | None:
    """None when `version` should become champion, else why it stays a candidate."""
    if champion is None or version.kind not in RANKING_METRIC:
        return None
    if version.candidate == champion.candidate:
        return None
    metric = RANKING_METRIC[version.kind]
    backtest = (version.metrics or {}).get("backtest", {})
    new = (backtest.get(version.candidate) or {}).get(metric)
    old = (backtest.get(champion.candidate) or {}).get(metric)
    if new is None or old is None:
        return None if old is None else (
            f"Not evaluated on {metric}; the champion ({champion.candidate}) stays")
    if new - old > MARGIN:
        return None
    name, held = (candidate_label(version.kind, c) for c in (version.candidate,
                                                              champion.candidate))
    return (f"Stayed a candidate: {name} scored {new:.3f} {METRIC_NAMES[metric]} against "
            f"{old:.3f} for the champion, {held}, on the same backtest ({new - old:+.3f}; "
            f"it needs more than {MARGIN:+.3f})")


def _promote(store: TenantStore, version: ModelVersion, previous: ModelVersion | None) -> None:
    if previous is not None and previous.id != version.id:
        store.session.execute(
            update(ModelVersion)
            .where(ModelVersion.tenant_id == store.tenant_id, ModelVersion.kind == version.kind,
                   ModelVersion.status == "champion", ModelVersion.id != version.id)
            .values(status="archived"))
        store.session.flush()
    version.status = "champion"
    version.promoted_at = utcnow()
    version.note = None


def promote(store: TenantStore, version: ModelVersion) -> ModelVersion | None:
    """Make `version` the champion of its kind (a roll-back when it was archived);
    returns the version it replaced."""
    previous = champions(store).get(version.kind)
    if previous is not None and previous.id == version.id:
        return None
    _promote(store, version, previous)
    store.commit()
    return previous

"""The models page's tables: model versions, drift per feature, and the job history."""

from __future__ import annotations

from dashboard.components.tables import text_table
from dashboard.figures.customer import feature_label
from dashboard.figures.value import mean_backtest
from dashboard.labels import candidate_label
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job, ModelVersion
from dashboard.store import TenantStore

SHOWN_METRICS = 4
KIND_LABELS = {"clv": "Customer value", "churn": "Churn risk", "segmentation": "Segments",
               "regression": "Prediction"}
# The backtest numbers shown per kind: CLV ranking and calibration, churn discrimination.
KEY_METRICS = (("normalized_gini", "spearman", "top_decile_capture", "total_ratio"),
               ("roc_auc", "pr_auc", "brier", "lift_at_10"),
               ("r2", "rmse", "mae"))
METRIC_NAMES = {"normalized_gini": "Gini", "spearman": "Spearman", "top_decile_capture":
                "top-decile capture", "total_ratio": "predicted / actual", "roc_auc": "ROC AUC",
                "pr_auc": "PR AUC", "brier": "Brier", "lift_at_10": "lift at 10 %", "r2": "R²",
                "rmse": "RMSE", "mae": "MAE", "k": "k"}
# PSI below 0.1 is usually read as stable, above 0.25 as a real shift.
DRIFT_LEVELS = ((0.25, "large shift"), (0.1, "some shift"), (0.0, "stable"))


def metric_summary(metrics: dict | None, candidate: str | None = None) -> str:
    """The version's own backtest in a few numbers: for CLV and churn its candidate's
    out-of-time metrics (means over the backtest periods, as the champion rule saw them),
    else the numbers the report keeps at the top."""
    metrics = metrics or {}
    means, periods = mean_backtest(metrics)
    backtest = means.get(candidate or metrics.get("champion"))
    if isinstance(backtest, dict):
        wanted = next((names for names in KEY_METRICS if names[0] in backtest), ())
        shown = ", ".join(f"{METRIC_NAMES.get(name, name.replace('_', ' '))} {backtest[name]:.3f}"
                          for name in wanted if isinstance(backtest.get(name), (int, float)))
        return f"{shown} (mean of {periods} periods)" if shown and periods > 1 else shown
    numbers = [(name, value) for name, value in metrics.items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return ", ".join(f"{METRIC_NAMES.get(name, name.replace('_', ' '))} {value:.3g}"
                     for name, value in numbers[:SHOWN_METRICS])


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def model_versions(store: TenantStore, limit: int = 50) -> list[ModelVersion]:
    rows, _ = store.list(ModelVersion, order_by=(ModelVersion.created_at.desc(),), limit=limit)
    return rows


def versions_table(store: TenantStore):
    return text_table(
        ["Model", "Method", "Status", "Trained (UTC)", "Backtest", "Note"],
        [(kind_label(m.kind), candidate_label(m.kind, m.candidate), m.status, m.created_at,
          metric_summary(m.metrics, m.candidate), m.note or "") for m in model_versions(store)],
        empty="No models trained yet.", table_id="model-versions")


def drift_level(psi: float) -> str:
    return next(label for bound, label in DRIFT_LEVELS if psi >= bound or bound == 0.0)


def drift_rows(drift: dict | None) -> list[tuple[str, str, str]]:
    """(feature, PSI, reading) from a dataset's drift, largest shift first. The train step
    stores {"features": [{"feature", "psi", "status"}, ...]}; a plain {name: psi} map is
    read too."""
    values = (drift or {}).get("features", drift or {})
    if isinstance(values, dict):
        values = [{"feature": name, "psi": value.get("psi") if isinstance(value, dict) else value}
                  for name, value in values.items()]
    rows = [(str(entry.get("feature")), float(entry["psi"])) for entry in values
            if isinstance(entry, dict) and isinstance(entry.get("psi"), (int, float))]
    rows.sort(key=lambda row: row[1], reverse=True)
    return [(feature_label(name), f"{psi:.3f}", drift_level(psi)) for name, psi in rows]


def drift_table(store: TenantStore):
    datasets, _ = store.list(Dataset, where=[Dataset.drift.is_not(None)],
                             order_by=(Dataset.created_at.desc(),), limit=1)
    rows = drift_rows(datasets[0].drift) if datasets else []
    title = f"Compared with the training data: {datasets[0].filename}" if datasets else ""
    return title, text_table(["Feature", "PSI", "Reading"], rows,
                             empty="No drift measured yet: it is computed for each new upload.",
                             table_id="drift-table")


def jobs_history(store: TenantStore, limit: int = 30) -> list[Job]:
    rows, _ = store.list(Job, where=[Job.parent_id.is_(None)],
                         order_by=(Job.created_at.desc(),), limit=limit)
    return rows


def cancellable(jobs) -> list[dict]:
    return [{"label": f"{job.kind} · {job.created_at:%Y-%m-%d %H:%M}", "value": job.id}
            for job in jobs if job.status not in FINISHED_JOB_STATES]

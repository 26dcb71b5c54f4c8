"""The models page's tables: model versions, drift per feature, and the job history."""

from __future__ import annotations

from dashboard.components.tables import text_table
from dashboard.labels import candidate_label
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job, ModelVersion
from dashboard.store import TenantStore

SHOWN_METRICS = 4
# PSI below 0.1 is usually read as stable, above 0.25 as a real shift.
DRIFT_LEVELS = ((0.25, "large shift"), (0.1, "some shift"), (0.0, "stable"))


def metric_summary(metrics: dict | None) -> str:
    numbers = [(name, value) for name, value in (metrics or {}).items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return ", ".join(f"{name.replace('_', ' ')} {value:.3g}" for name, value in numbers[:SHOWN_METRICS])


def model_versions(store: TenantStore, limit: int = 50) -> list[ModelVersion]:
    rows, _ = store.list(ModelVersion, order_by=(ModelVersion.created_at.desc(),), limit=limit)
    return rows


def versions_table(store: TenantStore):
    return text_table(
        ["Model", "Method", "Status", "Trained (UTC)", "Backtest", "Note"],
        [(m.kind, candidate_label(m.kind, m.candidate), m.status, m.created_at,
          metric_summary(m.metrics), m.note or "") for m in model_versions(store)],
        empty="No models trained yet.", table_id="model-versions")


def drift_level(psi: float) -> str:
    return next(label for bound, label in DRIFT_LEVELS if psi >= bound or bound == 0.0)


def drift_rows(drift: dict | None) -> list[tuple[str, str, str]]:
    """(feature, PSI, level) from a dataset's drift, largest shift first. Accepts
    {"features": {name: psi}} or {name: psi} or {name: {"psi": value}}."""
    values = (drift or {}).get("features", drift or {})
    rows = []
    for name, value in values.items():
        psi = value.get("psi") if isinstance(value, dict) else value
        if isinstance(psi, (int, float)):
            rows.append((str(name), float(psi)))
    rows.sort(key=lambda row: row[1], reverse=True)
    return [(name, f"{psi:.3f}", drift_level(psi)) for name, psi in rows]


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

"""Dataset versions: uploads streamed to the tenant's folder, previews, deletion.

One service serves the REST API, the dashboard's upload page and `valuelens upload`:
`upload_dataset` streams the file to `uploads/` in chunks (never whole in memory, at most
`MAX_UPLOAD_MB`), records a `datasets` row and starts the `pipeline` job (ingest → train
→ score → explain) whose id it returns at once. A dataset is immutable once uploaded; a
new upload is a new version (`mode=append` builds on the live run's dataset).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlalchemy import delete

from dashboard.auth.roles import ensure_role
from dashboard.dispatch import ensure_room
from dashboard.jobs import submit_job
from dashboard.runs import live_run
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job, Run, iso, new_id, utcnow
from dashboard.store import TenantStore

KINDS = ("transactions", "customers")
MODES = ("replace", "append")
TRANSACTION_FIELDS = ("customer_id", "date", "amount", "quantity", "unit_price", "order_id",
                      "category", "channel", "region")
CHUNK_BYTES = 1024 * 1024
PREVIEW_BYTES = 1024 * 1024
MAX_FILENAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRejected(ValueError):
    """The upload's form fields cannot be used (HTTP 400); nothing was kept."""


class UploadTooLarge(ValueError):
    """The file is over the size limit (HTTP 413); nothing was kept."""


class DatasetInUse(RuntimeError):
    """The dataset is behind the live run or still being processed (HTTP 409)."""


def check_options(kind: str, mapping, mode: str, target) -> None:
    if kind not in KINDS:
        raise UploadRejected(f"kind must be one of: {', '.join(KINDS)}")
    if mode not in MODES:
        raise UploadRejected(f"mode must be one of: {', '.join(MODES)}")
    if mapping is not None:
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(v, str | int) and not isinstance(v, bool)
                for k, v in mapping.items()):
            raise UploadRejected("mapping must be a JSON object from field names to column "
                                 "names (or 0-based positions)")
        unknown = sorted(set(mapping) - set(TRANSACTION_FIELDS)) if kind == "transactions" else []
        if unknown:
            raise UploadRejected(f"unknown field(s) in mapping: {', '.join(unknown)}; "
                                 f"use {', '.join(TRANSACTION_FIELDS)}")
    if target is not None and (kind != "customers" or not isinstance(target, str) or not target):
        raise UploadRejected("target names a column of a customer table (kind=customers)")


def _safe_name(filename: str) -> str:
    name = _UNSAFE.sub("_", Path(filename or "upload.csv").name).strip("._") or "upload.csv"
    return name[-MAX_FILENAME:]


def save_stream(stream, target: Path, limit_bytes: int) -> int:
    """Copy `stream` to `target` in chunks; over `limit_bytes` nothing is kept."""
    size = 0
    try:
        with open(target, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit_bytes:
                    raise UploadTooLarge(
                        f"the file is larger than the limit of {limit_bytes // (1024 * 1024)} MB")
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size == 0:
        target.unlink(missing_ok=True)
        raise UploadRejected("the file is empty")
    return size


def upload_dataset(store: TenantStore, user, stream, filename: str, *, limit_bytes: int,
                   kind: str = "transactions", mapping: dict | None = None,
                   mode: str = "replace", target: str | None = None) -> tuple[Dataset, Job]:
    """Keep the upload as a new dataset version and start its pipeline job.

    `user` is the uploader (analyst or above); None only for the platform operator's CLI.
    """
    if user is not None:
        ensure_role(user, "analyst")
    check_options(kind, mapping, mode, target)
    ensure_room(store.session, store.tenant_id)
    base = None
    if mode == "append":
        run = live_run(store)
        if run is None or run.dataset_id is None:
            raise UploadRejected("there is no live dataset to append to; upload with mode=replace")
        base = store.get(Dataset, run.dataset_id)
        if base.kind != kind:
            raise UploadRejected(f"the live dataset is a {base.kind} file; append the same kind")
    dataset_id = new_id()
    relative = f"uploads/{dataset_id}-{_safe_name(filename)}"
    size = save_stream(stream, store.path(relative), limit_bytes)
    dataset = store.add(Dataset(
        id=dataset_id, created_by=getattr(user, "id", None), filename=Path(filename).name[:255]
        or "upload.csv", kind=kind, status="uploaded", path=relative, size_bytes=size,
        mode=mode, base_id=base.id if base else None, mapping=mapping, target=target,
    ))
    store.commit()
    job = submit_job(store, user, "pipeline", {"dataset_id": dataset.id})
    dataset.job_id = job.id
    store.commit()
    return dataset, job


def preview_upload(stream, kind: str = "transactions", mapping: dict | None = None) -> dict:
    """Encoding, delimiter, proposed mapping and first rows, from the file's first MB."""
    from models.ingest import preview

    check_options(kind, mapping, "replace", None)
    head = stream.read(PREVIEW_BYTES)
    if not head:
        raise UploadRejected("the file is empty")
    return preview(head, kind=kind, mapping=mapping)


def delete_dataset(store: TenantStore, user, dataset_id: str) -> None:
    """Delete a dataset version with its files and the runs built on it (admin only).
    Refused while the live run uses it or its job is still working."""
    ensure_role(user, "admin")
    dataset = store.get(Dataset, dataset_id)
    run = live_run(store)
    if run is not None and run.dataset_id == dataset.id:
        raise DatasetInUse("the live results are built on this dataset; upload a new one first")
    if dataset.job_id:
        job = store.session.get(Job, dataset.job_id)
        if job is not None and job.status not in FINISHED_JOB_STATES:
            raise DatasetInUse("this dataset is still being processed; cancel its job first")
    runs, _ = store.list(Run, where=[Run.dataset_id == dataset.id])
    for old in runs:
        shutil.rmtree(store.path(old.path), ignore_errors=True)
    store.session.execute(delete(Run).where(Run.tenant_id == store.tenant_id,
                                            Run.dataset_id == dataset.id))
    for relative in (dataset.path, dataset.data_path):
        if relative:
            store.path(relative).unlink(missing_ok=True)
    shutil.rmtree(store.path("datasets", dataset.id), ignore_errors=True)
    store.session.execute(delete(Dataset).where(
        Dataset.tenant_id == store.tenant_id, Dataset.id == dataset.id))
    store.commit()


def dataset_to_dict(dataset: Dataset, with_report: bool = False) -> dict:
    body = {
        "id": dataset.id,
        "filename": dataset.filename,
        "kind": dataset.kind,
        "status": dataset.status,
        "mode": dataset.mode,
        "rows": dataset.rows,
        "size_bytes": dataset.size_bytes,
        "mapping": dataset.mapping,
        "target": dataset.target,
        "error": dataset.error,
        "job_id": dataset.job_id,
        "base_id": dataset.base_id,
        "drift": dataset.drift,
        "created_by": dataset.created_by,
        "created_at": iso(dataset.created_at),
        "ready_at": iso(dataset.ready_at),
    }
    if with_report:
        body["report"] = dataset.report
    return body


def mark(store: TenantStore, dataset: Dataset, **values) -> None:
    for key, value in values.items():
        setattr(dataset, key, value)
    if values.get("status") == "ready":
        dataset.ready_at = utcnow()
    store.commit()


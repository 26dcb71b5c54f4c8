"""Datasets API: upload (202 with the pipeline job), preview, list, read with the
validation report, delete.

Uploading needs the analyst role, deleting the admin role; every role reads. The upload
is a multipart form: `file`, `kind` (transactions or customers), optional `mapping` (a
JSON object from the product's field names to the file's columns), `mode` (replace or
append) and, for a customer table, `target`.
"""

from __future__ import annotations

import json

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from dashboard.api import answer_errors, bp, list_args
from dashboard.auth.roles import ensure_role
from dashboard.datasets import (
    DatasetInUse,
    UploadRejected,
    UploadTooLarge,
    dataset_to_dict,
    delete_dataset,
    preview_upload,
    upload_dataset,
)
from dashboard.hardening import accepts_upload
from dashboard.schema import Dataset
from dashboard.store import current_store

SORTABLE = {"created_at": Dataset.created_at, "status": Dataset.status, "rows": Dataset.rows,
            "filename": Dataset.filename, "kind": Dataset.kind}


def _form_file():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("send the file as the multipart field 'file'")
    return upload


def _mapping() -> dict | None:
    raw = request.form.get("mapping")
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise BadRequest("mapping must be a JSON object") from None
    if not isinstance(mapping, dict):
        raise BadRequest("mapping must be a JSON object")
    return mapping


@bp.post("/datasets")
@accepts_upload
def upload():
    ensure_role(current_user, "analyst")
    upload = _form_file()
    dataset, job = upload_dataset(
        current_store(), current_user, upload.stream, upload.filename,
        limit_bytes=current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024,
        kind=request.form.get("kind") or "transactions", mapping=_mapping(),
        mode=request.form.get("mode") or "replace", target=request.form.get("target") or None,
    )
    response = jsonify({"dataset_id": dataset.id, "job_id": job.id})
    response.status_code = 202
    response.headers["Location"] = url_for(".get_dataset", dataset_id=dataset.id)
    return response


@bp.post("/datasets/preview")
@accepts_upload
def preview():
    ensure_role(current_user, "analyst")
    upload = _form_file()
    return jsonify(preview_upload(upload.stream, request.form.get("kind") or "transactions",
                                  _mapping()))


@bp.get("/datasets")
def list_datasets():
    args = list_args(SORTABLE, "-created_at", tiebreak=Dataset.id)
    rows, total = current_store().list(Dataset, order_by=args.order_by, limit=args.limit,
                                       offset=args.offset)
    return jsonify({"datasets": [dataset_to_dict(row) for row in rows], "total": total})


@bp.get("/datasets/<dataset_id>")
def get_dataset(dataset_id: str):
    return jsonify(dataset_to_dict(current_store().get(Dataset, dataset_id), with_report=True))


@bp.delete("/datasets/<dataset_id>")
def remove_dataset(dataset_id: str):
    delete_dataset(current_store(), current_user, dataset_id)
    return "", 204


answer_errors(400, UploadRejected)
answer_errors(413, UploadTooLarge)
answer_errors(409, DatasetInUse)

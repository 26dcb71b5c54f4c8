"""Models and runs API: model versions with their metrics, retrain (admin), promote and
roll back (admin), and the runs (scored outputs) with the live one marked."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from dashboard.api import answer_errors, bp, error_response, list_args
from dashboard.jobs import job_to_dict
from dashboard.pipeline import (
    NothingToTrain,
    RetrainRunning,
    model_to_dict,
    promote_model,
    run_to_dict,
    start_retrain,
)
from dashboard.schema import MODEL_STATES, ModelVersion, Run
from dashboard.store import current_store

MODEL_SORTABLE = {"created_at": ModelVersion.created_at, "kind": ModelVersion.kind,
                  "status": ModelVersion.status}
RUN_SORTABLE = {"created_at": Run.created_at, "status": Run.status}
MODEL_KINDS = ("clv", "churn", "segmentation", "regression")


@bp.get("/models")
def list_models():
    args = list_args(MODEL_SORTABLE, "-created_at", tiebreak=ModelVersion.id)
    where = []
    for name, allowed, column in (("kind", MODEL_KINDS, ModelVersion.kind),
                                  ("status", MODEL_STATES, ModelVersion.status)):
        value = request.args.get(name)
        if value:
            if value not in allowed:
                raise BadRequest(f"{name} must be one of: {', '.join(allowed)}")
            where.append(column == value)
    rows, total = current_store().list(ModelVersion, where=where, order_by=args.order_by,
                                       limit=args.limit, offset=args.offset)
    return jsonify({"models": [model_to_dict(row) for row in rows], "total": total})


@bp.get("/models/<version_id>")
def get_model(version_id: str):
    return jsonify(model_to_dict(current_store().get(ModelVersion, version_id)))


@bp.post("/models/retrain")
def retrain():
    job = start_retrain(current_store(), current_user)
    response = jsonify(job_to_dict(job))
    response.status_code = 202
    response.headers["Location"] = url_for(".get_job", job_id=job.id)
    return response


@bp.post("/models/<version_id>/promote")
def promote(version_id: str):
    return jsonify(model_to_dict(promote_model(current_store(), current_user, version_id)))


@bp.get("/runs")
def list_runs():
    args = list_args(RUN_SORTABLE, "-created_at", tiebreak=Run.id)
    store = current_store()
    rows, total = store.list(Run, order_by=args.order_by, limit=args.limit, offset=args.offset)
    live = store.tenant.live_run_id
    return jsonify({"runs": [run_to_dict(row, live) for row in rows], "total": total})


@bp.get("/runs/<run_id>")
def get_run(run_id: str):
    store = current_store()
    return jsonify(run_to_dict(store.get(Run, run_id), store.tenant.live_run_id))


@bp.errorhandler(RetrainRunning)
def _retrain_running(exc: RetrainRunning):
    response = error_response(409, str(exc))
    response.headers["Location"] = url_for(".get_job", job_id=exc.job_id)
    return response


answer_errors(409, NothingToTrain)

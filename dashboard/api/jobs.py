"""Jobs API: list, read, submit (diagnostic and demo kinds) and cancel.

Viewers read every job of their tenant; analysts also submit and cancel their own jobs;
admins cancel any job of the tenant. Other job kinds (ingest, train) are started by their
own endpoints and only appear here.
"""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from dashboard.api import answer_errors, bp, json_object, list_args
from dashboard.auth.roles import ensure_role
from dashboard.dispatch import TooManyJobs
from dashboard.job_kinds import JOB_KINDS
from dashboard.jobs import (
    JobNotCancellable,
    QueueUnavailable,
    cancel_job,
    job_steps,
    job_to_dict,
    submit_job,
)
from dashboard.schema import JOB_STATES, Job
from dashboard.store import current_store

# Kinds a client may start through POST /api/v1/jobs, each with its parameter validator.
SUBMITTABLE_KINDS = {name: kind.validate for name, kind in JOB_KINDS.items() if kind.submittable}

SORTABLE = {
    "created_at": Job.created_at,
    "started_at": Job.started_at,
    "finished_at": Job.finished_at,
    "status": Job.status,
    "kind": Job.kind,
    "progress": Job.progress,
}


@bp.get("/jobs")
def list_jobs():
    args = list_args(SORTABLE, "-created_at", tiebreak=Job.id)
    # The steps of a chain are listed inside their job, not beside it.
    where = [Job.parent_id.is_(None)]
    status = request.args.get("status")
    if status:
        if status not in JOB_STATES:
            raise BadRequest(f"status must be one of: {', '.join(JOB_STATES)}")
        where.append(Job.status == status)
    kind = request.args.get("kind")
    if kind:
        where.append(Job.kind == kind)
    store = current_store()
    jobs, total = store.list(
        Job, where=where, order_by=args.order_by, limit=args.limit, offset=args.offset
    )
    return jsonify({"jobs": described(store, jobs), "total": total})


def described(store, jobs: list[Job]) -> list[dict]:
    steps = job_steps(store.session, jobs)
    return [job_to_dict(job, steps.get(job.id)) for job in jobs]


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    store = current_store()
    return jsonify(described(store, [store.get(Job, job_id)])[0])


@bp.post("/jobs")
def submit():
    ensure_role(current_user, "analyst")
    body = json_object()
    kind = body.get("kind")
    if kind not in SUBMITTABLE_KINDS:
        raise BadRequest(f"kind must be one of: {', '.join(sorted(SUBMITTABLE_KINDS))}")
    raw_params = body.get("params") or {}
    if not isinstance(raw_params, dict):
        raise BadRequest("params must be a JSON object")
    try:
        params = SUBMITTABLE_KINDS[kind](raw_params)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    job = submit_job(current_store(), current_user, kind, params)
    response = jsonify(described(current_store(), [job])[0])
    response.status_code = 202
    response.headers["Location"] = url_for(".get_job", job_id=job.id)
    return response


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str):
    store = current_store()
    return jsonify(described(store, [cancel_job(store, current_user, job_id)])[0])


answer_errors(409, JobNotCancellable)
answer_errors(503, QueueUnavailable)
answer_errors(429, TooManyJobs)

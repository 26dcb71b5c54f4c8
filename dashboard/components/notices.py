"""Toasts for the signed-in user's own jobs that finished or failed since the page opened."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
from flask_login import current_user

from dashboard.jobs import job_to_dict
from dashboard.schema import Job, utcnow
from dashboard.store import current_store

KIND_NAMES = {"ingest": "Upload", "upload": "Upload", "train": "Training", "retrain": "Retraining",
              "demo": "Demo data", "score": "Scoring", "explain": "Explanations"}
TOAST_SECONDS = 10


def now_mark() -> str:
    return utcnow().isoformat()


def finished_jobs_since(mark: str | None) -> tuple[list[Job], str]:
    """The user's top-level jobs that finished after `mark`, and the new mark."""
    new_mark = now_mark()
    if not mark:
        return [], new_mark
    since = datetime.fromisoformat(mark)
    jobs, _ = current_store().list(
        Job,
        where=[Job.user_id == current_user.id, Job.parent_id.is_(None),
               Job.finished_at.is_not(None), Job.finished_at > since],
        order_by=(Job.finished_at.asc(),), limit=5,
    )
    return jobs, new_mark


def job_toast(job: Job) -> dbc.Toast:
    job_dict = job_to_dict(job)
    name = KIND_NAMES.get(job.kind, job.kind.replace("_", " ").capitalize())
    if job.status == "succeeded":
        header, icon, body = f"{name} finished", "success", job_dict["message"] or "Done."
    elif job.status == "cancelled":
        header, icon, body = f"{name} cancelled", "warning", job_dict["message"] or "Cancelled."
    else:
        header, icon = f"{name} failed", "danger"
        body = job_dict["error"] or job_dict["message"] or "The job failed."
    return dbc.Toast(body, header=header, icon=icon, dismissable=True, is_open=True,
                     duration=TOAST_SECONDS * 1000, className="mb-2",
                     id={"type": "job-toast", "job": job.id})

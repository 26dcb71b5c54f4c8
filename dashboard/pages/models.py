"""Models: trained versions and their backtests, drift of the newest upload, the job
history with cancel; admins also retrain, promote and roll back."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from flask_login import current_user

from dashboard.components.access import allowed, refuse_unless
from dashboard.components.data_views import progress_view
from dashboard.components.jobs import jobs_table
from dashboard.components.model_tables import (
    cancellable,
    drift_table,
    jobs_history,
    kind_label,
    model_versions,
    versions_table,
)
from dashboard.components.tables import feedback
from dashboard.jobs import JobNotCancellable, cancel_job
from dashboard.labels import candidate_label
from dashboard.schema import FINISHED_JOB_STATES, Job
from dashboard.store import NotFound, current_store

dash.register_page(__name__, path="/models", name="Models", title="Models · ValueLens")
REFRESH_MS = 3000
POLL_MS = 1000


def promote_options():
    return [{"label": f"{kind_label(m.kind)} · {candidate_label(m.kind, m.candidate)} · "
                         f"{m.created_at:%Y-%m-%d %H:%M} ({m.status})",
                "value": m.id} for m in model_versions(current_store()) if m.status != "champion"]


def admin_controls():
    return dbc.Card([dbc.CardHeader("Retrain and promote"), dbc.CardBody([
        dbc.Button("Retrain now", id="retrain", color="primary", className="me-2"),
        html.Span("Trains on the current data and scores everyone; the dashboards switch "
                  "when it succeeds.", className="text-muted small"),
        html.Div(id="retrain-feedback"),
        html.Div(id="retrain-progress", className="mt-2"),
        dcc.Store(id="retrain-job"),
        dcc.Interval(id="retrain-poll", interval=POLL_MS, disabled=True),
        dbc.InputGroup([dbc.Select(id="promote-choice", options=promote_options(),
                                   placeholder="A version to make champion (also to roll back)"),
                        dbc.Button("Make champion", id="promote", color="secondary")],
                       className="mt-3"),
        html.Div(id="promote-feedback"),
    ])], className="mb-3", id="admin-model-controls")


def layout(**_query):
    store = current_store()
    drift_title, drift = drift_table(store)
    jobs = jobs_history(store)
    job_controls = [dbc.InputGroup([dbc.Select(id="cancel-choice", options=cancellable(jobs),
                                               placeholder="A queued or running job"),
                                    dbc.Button("Cancel job", id="cancel-job", color="warning")],
                                   className="mt-3"),
                    html.Div(id="cancel-feedback")] if allowed("analyst") else []
    return html.Div([
        html.H2("Models", className="h4 mb-3"),
        admin_controls() if allowed("admin") else None,
        dbc.Card([dbc.CardHeader("Model versions"),
                  dbc.CardBody(html.Div(versions_table(store), id="versions-box"))], className="mb-3"),
        dbc.Card([dbc.CardHeader("Drift"), dbc.CardBody([
            html.P(drift_title, className="text-muted small"), drift])], className="mb-3"),
        dbc.Card([dbc.CardHeader("Jobs"), dbc.CardBody([
            html.Div(jobs_table(jobs), id="model-jobs"), *job_controls])]),
        dcc.Interval(id="models-refresh", interval=REFRESH_MS),
    ])


@callback(Output("model-jobs", "children"), Output("versions-box", "children"),
          Input("models-refresh", "n_intervals"), prevent_initial_call=True)
def refresh(_n):
    store = current_store()
    return jobs_table(jobs_history(store)), versions_table(store)


@callback(Output("cancel-feedback", "children"), Input("cancel-job", "n_clicks"),
          State("cancel-choice", "value"), prevent_initial_call=True)
def cancel(_clicks, job_id):
    refuse_unless("analyst")
    if not job_id:
        return feedback("Choose a job to cancel.", ok=False)
    try:
        cancel_job(current_store(), current_user, job_id)
    except (NotFound, JobNotCancellable) as error:
        return feedback(str(error).capitalize(), ok=False)
    return feedback("The job was cancelled.")


@callback(Output("retrain-feedback", "children"), Output("retrain-job", "data"),
          Output("retrain-poll", "disabled"), Input("retrain", "n_clicks"),
          prevent_initial_call=True)
def retrain(_clicks):
    refuse_unless("admin")
    from dashboard.pipeline import start_retrain

    try:
        job = start_retrain(current_store(), current_user)
    except (ValueError, RuntimeError) as error:
        return feedback(str(error).capitalize() + ".", ok=False), dash.no_update, dash.no_update
    return feedback("Retraining started: it trains on the live data, then scores and "
                    "explains every customer."), job.id, False


@callback(Output("retrain-progress", "children"), Output("retrain-poll", "disabled", allow_duplicate=True),
          Output("promote-choice", "options", allow_duplicate=True),
          Input("retrain-poll", "n_intervals"), State("retrain-job", "data"), prevent_initial_call=True)
def poll_retrain(_n, job_id):
    store = current_store()
    try:
        job = store.get(Job, job_id or "")
    except NotFound:
        return None, True, dash.no_update
    steps, _ = store.list(Job, where=[Job.parent_id == job.id])
    finished = job.status in FINISHED_JOB_STATES
    return (progress_view(job, steps, bar_id="retrain-bar"), finished,
            promote_options() if finished else dash.no_update)


@callback(Output("promote-feedback", "children"), Output("promote-choice", "options"),
          Input("promote", "n_clicks"), State("promote-choice", "value"), prevent_initial_call=True)
def promote(_clicks, version_id):
    refuse_unless("admin")
    from dashboard.pipeline import promote_model

    if not version_id:
        return feedback("Choose a version.", ok=False), dash.no_update
    try:
        version = promote_model(current_store(), current_user, version_id)
    except (NotFound, ValueError, RuntimeError) as error:
        return feedback(str(error), ok=False), dash.no_update
    label = candidate_label(version.kind, version.candidate)
    return (feedback(f"{label} is now the {kind_label(version.kind).lower()} champion; the customers are scored "
                     "again with it (see Jobs)."), promote_options())

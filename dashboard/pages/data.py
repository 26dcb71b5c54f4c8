"""Data: upload with a column-mapping check and live progress, every dataset version
with its validation report, and (admins) delete. The file itself goes from the browser
to the REST API (assets/upload.js); Dash gets only the answers."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, html
from flask_login import current_user

from dashboard.components.access import allowed, forbidden_notice, refuse_unless
from dashboard.components.data_views import (
    datasets,
    datasets_table,
    mapping_json,
    parse_preview,
    preview_view,
    progress_view,
    report_view,
    target_shown,
    upload_form,
)
from dashboard.components.tables import feedback
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job
from dashboard.store import NotFound, current_store

dash.register_page(__name__, path="/data", name="Data", title="Data · ValueLens",
                   min_role="analyst")


def dataset_options():
    return [{"label": f"{d.filename} · {d.created_at:%Y-%m-%d %H:%M} · {d.status}", "value": d.id}
            for d in datasets(current_store())]


def layout(**_query):
    if not allowed("analyst"):
        return forbidden_notice()
    delete = [dbc.Button("Delete this version", id="dataset-delete", color="danger",
                         outline=True, className="mt-2")] if allowed("admin") else []
    return html.Div([
        html.H2("Data", className="h4 mb-3"),
        upload_form(),
        dbc.Card([dbc.CardHeader("Uploads"), dbc.CardBody([
            html.Div(datasets_table(current_store()), id="datasets-box"),
            dbc.Select(id="dataset-choice", options=dataset_options(), className="mt-3",
                       placeholder="Show the validation report of…"),
            html.Div(id="dataset-report-box", className="mt-3"), *delete,
            html.Div(id="dataset-feedback"),
        ])]),
    ])


@callback(Output("upload-preview-box", "children"), Input("upload-preview", "value"),
          prevent_initial_call=True)
def show_preview(raw):
    return preview_view(parse_preview(raw))


@callback(Output("upload-mapping", "value"), Input({"type": "map-field", "field": ALL}, "value"),
          State({"type": "map-field", "field": ALL}, "id"), prevent_initial_call=True)
def keep_mapping(values, ids):
    return mapping_json([i["field"] for i in ids], values)


@callback(Output("upload-preview-box", "children", allow_duplicate=True),
          Output("upload-mapping", "value", allow_duplicate=True),
          Input("upload-filename", "value"), Input("upload-kind", "value"), prevent_initial_call=True)
def forget_preview(_name, _kind):
    # A new file (or kind) has fields of its own: the previous mapping no longer applies.
    return None, ""


@callback(Output("upload-target-box", "style"), Output("upload-target", "value"),
          Input("upload-kind", "value"), prevent_initial_call=True)
def show_target(kind):
    # A target left in the hidden box would go with a transactions upload, which refuses it.
    return target_shown(kind), dash.no_update if kind == "customers" else ""


@callback(Output("upload-poll", "disabled"), Input("upload-job", "value"),
          prevent_initial_call=True)
def start_polling(job_id):
    return not job_id


@callback(Output("upload-progress-box", "children"), Output("upload-poll", "disabled", allow_duplicate=True),
          Output("datasets-box", "children"), Output("dataset-choice", "options", allow_duplicate=True),
          Input("upload-poll", "n_intervals"), State("upload-job", "value"), prevent_initial_call=True)
def poll_upload(_n, job_id):
    store = current_store()
    try:
        job = store.get(Job, job_id or "")
    except NotFound:
        return None, True, dash.no_update, dash.no_update
    steps, _ = store.list(Job, where=[Job.parent_id == job.id])
    finished = job.status in FINISHED_JOB_STATES
    return progress_view(job, steps), finished, datasets_table(store), dataset_options()


@callback(Output("dataset-report-box", "children"), Input("dataset-choice", "value"),
          prevent_initial_call=True)
def show_report(dataset_id):
    try:
        return report_view(current_store().get(Dataset, dataset_id or ""))
    except NotFound:
        return None


@callback(Output("dataset-feedback", "children"), Output("datasets-box", "children", allow_duplicate=True),
          Output("dataset-choice", "options"), Input("dataset-delete", "n_clicks"),
          State("dataset-choice", "value"), prevent_initial_call=True)
def delete(_clicks, dataset_id):
    refuse_unless("admin")
    from dashboard.datasets import delete_dataset

    if not dataset_id:
        return feedback("Choose a version first.", ok=False), dash.no_update, dash.no_update
    try:
        delete_dataset(current_store(), current_user, dataset_id)
    except (NotFound, ValueError, RuntimeError) as error:
        return feedback(str(error), ok=False), dash.no_update, dash.no_update
    return feedback("The version was deleted."), datasets_table(current_store()), dataset_options()

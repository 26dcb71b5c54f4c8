"""The data page's pieces: the upload form, the mapping preview, job progress and the
validation report of a dataset version, all rendered as text."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.formatting import number
from dashboard.components.jobs import WIDE_ONLY
from dashboard.components.tables import cell_text, text_table
from dashboard.datasets import TRANSACTION_FIELDS
from dashboard.runs import live_run
from dashboard.schema import FINISHED_JOB_STATES, Dataset, Job
from dashboard.store import TenantStore

KINDS = [{"label": "Transactions (one row per purchase)", "value": "transactions"},
         {"label": "Customer table (one row per customer)", "value": "customers"}]
MODES = [{"label": "Replace the current data", "value": "replace"},
         {"label": "Append to the current data", "value": "append"}]
NOT_MAPPED = "__none__"
FIELD_LABELS = {"customer_id": "Customer id *", "date": "Date *", "amount": "Amount *",
                "quantity": "Quantity", "unit_price": "Unit price", "order_id": "Order id",
                "category": "Category", "channel": "Channel", "region": "Region"}
STEP_ORDER = ("ingest", "train", "score", "explain")


def upload_form() -> dbc.Card:
    hidden = {"type": "text", "style": {"display": "none"}, "debounce": False}
    return dbc.Card([dbc.CardHeader("Upload data"), dbc.CardBody([
        html.Div("Drop a CSV file here, or click to choose one", id="upload-drop",
                 className="vl-drop mb-2", role="button", tabIndex="0"),
        dbc.Row([
            dbc.Col(dbc.Select(id="upload-kind", options=KINDS, value="transactions"), md=5),
            dbc.Col(dbc.Select(id="upload-mode", options=MODES, value="replace"), md=4),
            # Only a customer table has a column to predict (see `target_shown`).
            dbc.Col(dbc.Input(id="upload-target", placeholder="Target column (customer table)"),
                    md=3, id="upload-target-box", style=target_shown("transactions")),
        ], className="g-2 mb-2"),
        dbc.Button("Check columns", id="upload-check", color="secondary", className="me-2"),
        dbc.Button("Upload", id="upload-start", color="primary"),
        html.Div(id="upload-status", className="mt-2 small", role="status"),
        html.Div(id="upload-preview-box", className="mt-3"),
        html.Div(id="upload-progress-box", className="mt-3"),
        dcc.Input(id="upload-filename", **hidden),
        dcc.Input(id="upload-preview", **hidden),
        dcc.Input(id="upload-mapping", **hidden),
        dcc.Input(id="upload-job", **hidden),
        dcc.Interval(id="upload-poll", interval=1000, disabled=True),
    ])], className="mb-3")


def target_shown(kind: str | None) -> dict:
    """The target column box's style for a file kind: shown for customer tables only."""
    return {} if kind == "customers" else {"display": "none"}


def parse_preview(raw: str | None) -> dict:
    try:
        preview = json.loads(raw or "{}")
    except ValueError:
        return {}
    return preview if isinstance(preview, dict) else {}


def layout_line(preview: dict) -> str:
    """"UTF-8, comma-separated, with a header row, 7 columns" from what was detected."""
    if not preview.get("delimiter"):
        return ""
    parts = [str(preview.get("encoding") or "unknown encoding").upper(),
             f"{preview['delimiter']}-separated",
             "with a header row" if preview.get("header") else "without a header row",
             f"{len(preview.get('columns') or [])} columns"]
    line = ", ".join(parts) + "."
    if preview.get("truncated"):
        line += " Checked on the first megabyte of the file."
    return "Detected: " + line


def mapping_fields(preview: dict) -> list[str]:
    """The fields to map: every transaction field in a fixed order, or a customer
    table's id (its other columns keep their own names)."""
    if preview.get("kind") == "customers":
        return ["customer_id"]
    return list(TRANSACTION_FIELDS)


def sample_rows(preview: dict, columns: list[str], limit: int = 5) -> list[list]:
    """The first rows as lists of cells, whether the preview sends lists or records."""
    rows = []
    for row in (preview.get("rows") or preview.get("sample") or [])[:limit]:
        if isinstance(row, dict):
            rows.append([row.get(c) for c in columns])
        elif isinstance(row, (list, tuple)):
            rows.append(list(row[:len(columns)]) + [""] * (len(columns) - len(row)))
    return rows


def preview_view(preview: dict) -> html.Div:
    """What was detected, a drop-down per field to correct the mapping, the first rows,
    and what would stop the file (problems) or deserves a look (warnings)."""
    columns = [str(c) for c in preview.get("columns") or []]
    mapping = preview.get("mapping") or {}
    options = [{"label": "(not in this file)", "value": NOT_MAPPED}] + [
        {"label": c, "value": c} for c in columns]
    pickers = [dbc.Col([dbc.Label(FIELD_LABELS.get(field, field.replace("_", " ")),
                                  className="small mb-1"),
                        dbc.Select(id={"type": "map-field", "field": field}, options=options,
                                   value=mapping.get(field) or NOT_MAPPED)], xs=6, md=4, xl=3)
               for field in mapping_fields(preview)]
    problems = [html.Li(str(p)) for p in preview.get("problems") or []]
    warnings = [html.Li(str(w)) for w in preview.get("warnings") or []]
    target = preview.get("target")
    return html.Div([
        html.H3("Column mapping", className="h6"),
        html.P(layout_line(preview), className="small text-muted mb-2", id="preview-layout"),
        dbc.Alert(html.Ul(problems, className="mb-0"), color="danger", className="py-2",
                  id="preview-problems") if problems else None,
        dbc.Alert(html.Ul(warnings, className="mb-0"), color="warning", className="py-2",
                  id="preview-warnings") if warnings else None,
        html.P("Each field of ValueLens and the column of your file it is read from; "
               "change one if the guess is wrong. Amount may instead come from quantity "
               "× unit price.", className="small mb-2") if pickers else None,
        dbc.Row(pickers, className="g-2 mb-3", id="mapping-pickers"),
        html.P(f"Target column: {target}", className="small") if target else None,
        html.H3("First rows", className="h6") if columns else None,
        text_table(columns, sample_rows(preview, columns), empty="", table_id="preview-rows"),
    ], id="upload-preview-view")


def mapping_json(fields: list[str], values: list[str | None]) -> str:
    return json.dumps({f: v for f, v in zip(fields, values, strict=False) if v and v != NOT_MAPPED})


def progress_view(job: Job, steps: list[Job], bar_id: str = "upload-progress") -> html.Div:
    """A chain job's bar ("done" once it succeeded), its message and each step's state."""
    colour = {"succeeded": "success", "failed": "danger", "cancelled": "warning"}.get(job.status, "primary")
    running = job.status not in FINISHED_JOB_STATES
    label = "done" if job.status == "succeeded" else f"{job.progress:.0f}%"
    ordered = sorted(steps, key=lambda s: STEP_ORDER.index(s.kind) if s.kind in STEP_ORDER else 99)
    return html.Div([
        dbc.Progress(value=100 if job.status == "succeeded" else job.progress, label=label,
                     color=colour, striped=running, animated=running, id=bar_id),
        html.P(job.error if job.status == "failed" and job.error else job.message,
               className="small text-muted mt-1 mb-1", id=f"{bar_id}-message"),
        html.Ol([html.Li(f"{s.kind}: {s.status}" + (f" ({s.progress:.0f}%)" if s.status == "running" else ""))
                 for s in ordered], className="small mb-0") if ordered else None,
    ], **{"data-status": job.status})


def datasets(store: TenantStore, limit: int = 50) -> list[Dataset]:
    rows, _ = store.list(Dataset, order_by=(Dataset.created_at.desc(),), limit=limit)
    return rows


def dataset_row(dataset: Dataset, live_id: str | None) -> html.Tr:
    """File with its kind and mode under it, status with its rows, upload time (wide
    screens): three columns whose long words wrap, so the table fits a phone."""
    status = dataset.status + (" · live" if dataset.id == live_id else "")
    rows = f"{number(dataset.rows)} rows" if dataset.rows is not None else ""
    return html.Tr([
        html.Td([html.Div(dataset.filename, className="text-break"),
                 html.Div(" · ".join(filter(None, (dataset.kind, dataset.mode))),
                          className="text-muted small")]),
        html.Td([html.Div(status), html.Div(rows, className="text-muted small")],
                className="text-nowrap"),
        html.Td(cell_text(dataset.created_at), className=f"{WIDE_ONLY} text-nowrap"),
    ])


def datasets_table(store: TenantStore):
    rows = datasets(store)
    if not rows:
        return html.P("No uploads yet.", className="text-muted mb-0", id="datasets-table")
    run = live_run(store)
    live_id = run.dataset_id if run is not None else None
    header = html.Thead(html.Tr([html.Th("File"), html.Th("Status and rows"),
                                 html.Th("Uploaded (UTC)", className=WIDE_ONLY)]))
    return html.Div(dbc.Table([header, html.Tbody([dataset_row(d, live_id) for d in rows])],
                              size="sm", hover=True, className="mb-0"), id="datasets-table")


def report_view(dataset: Dataset) -> html.Div:
    """The validation report as headings and lines of text, whatever its nesting."""
    def render(value, depth=0):
        if isinstance(value, dict):
            return html.Ul([html.Li([html.Strong(str(k).replace("_", " ") + ": "), render(v, depth + 1)])
                            for k, v in value.items()], className="mb-1")
        if isinstance(value, list):
            if not value:
                return html.Span("none")
            return html.Ul([html.Li(render(v, depth + 1)) for v in value[:50]], className="mb-1")
        return html.Span(cell_text(value))

    parts = [html.P(f"{dataset.filename}: {dataset.status}", className="fw-semibold")]
    if dataset.error:
        parts.append(dbc.Alert(dataset.error, color="danger"))
    parts.append(render(dataset.report) if dataset.report else
                 html.P("No report yet.", className="text-muted"))
    return html.Div(parts, id="dataset-report")

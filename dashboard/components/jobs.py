"""The job list: status badge, progress bar and message per job, rendered as text."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

STATUS_COLOURS = {
    "queued": "secondary",
    "running": "primary",
    "succeeded": "success",
    "failed": "danger",
    "cancelled": "warning",
}


def job_row(job) -> html.Tr:
    colour = STATUS_COLOURS.get(job.status, "secondary")
    detail = job.error if job.status == "failed" and job.error else job.message
    return html.Tr(
        [
            html.Td(job.kind),
            html.Td(dbc.Badge(job.status, color=colour)),
            html.Td(
                dbc.Progress(value=job.progress, label=f"{job.progress:.0f}%", color=colour,
                             striped=job.status == "running", animated=job.status == "running"),
                style={"minWidth": "10rem"},
            ),
            html.Td(detail or "", className="text-muted small"),
            html.Td(job.created_at.strftime("%Y-%m-%d %H:%M") if job.created_at else ""),
        ]
    )


def jobs_table(jobs) -> html.Div | dbc.Table:
    if not jobs:
        return html.P("No jobs yet.", className="text-muted mb-0")
    header = html.Thead(html.Tr([html.Th(h) for h in ("Job", "Status", "Progress", "Message", "Created (UTC)")]))
    return dbc.Table([header, html.Tbody([job_row(job) for job in jobs])], hover=True, size="sm",
                     className="mb-0")

"""The job list: status badge, progress bar and message per job, rendered as text.

Three columns so that it fits a phone: the job with its status, the progress bar with the
message under it (long words wrap), and the creation time, which narrow screens leave out.
"""

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
WIDE_ONLY = "d-none d-md-table-cell"


def job_row(job) -> html.Tr:
    colour = STATUS_COLOURS.get(job.status, "secondary")
    detail = job.error if job.status == "failed" and job.error else job.message
    return html.Tr(
        [
            html.Td([html.Div(job.kind), dbc.Badge(job.status, color=colour)]),
            html.Td(
                [
                    dbc.Progress(value=job.progress, label=f"{job.progress:.0f}%", color=colour,
                                 striped=job.status == "running",
                                 animated=job.status == "running"),
                    html.Div(detail or "", className="text-muted small text-break mt-1"),
                ],
                className="w-100",
            ),
            html.Td(job.created_at.strftime("%Y-%m-%d %H:%M") if job.created_at else "",
                    className=f"{WIDE_ONLY} text-nowrap"),
        ]
    )


def jobs_table(jobs) -> html.Div | dbc.Table:
    if not jobs:
        return html.P("No jobs yet.", className="text-muted mb-0")
    header = html.Thead(html.Tr([html.Th("Job"), html.Th("Progress and message"),
                                 html.Th("Created (UTC)", className=WIDE_ONLY)]))
    return dbc.Table([header, html.Tbody([job_row(job) for job in jobs])], hover=True, size="sm",
                     className="mb-0")

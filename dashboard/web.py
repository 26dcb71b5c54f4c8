"""The Dash application, mounted on the Flask server at `/`.

The login gate (dashboard.auth) already stands in front of every Dash endpoint; the
layout is a function so each request renders for the logged-in user only.

Dash answers every path with its page shell; `reject_unknown_pages` makes a path that is
neither the overview nor a page registered with Dash (also with a path template) a real
404, so a mistyped link says so instead of showing the overview.
"""

from __future__ import annotations

import re
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html
from flask import abort, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboard.components.jobs import jobs_table
from dashboard.schema import Job
from dashboard.store import current_store

ASSETS = Path(__file__).resolve().parent.parent / "assets"
JOB_REFRESH_MS = 2000
OVERVIEW_PATH = "/"
# The route through which Dash serves its page shell for any path below the base.
DASH_CATCHALL_RULE = "/<path:path>"


def navbar() -> dbc.Navbar:
    tenant = current_store().tenant
    logout = html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
            dbc.Button("Log out", type="submit", color="light", size="sm", outline=True),
        ],
        action="/logout",
        method="post",
        className="ms-3",
    )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("ValueLens", href="/"),
                html.Span(tenant.name, className="navbar-text text-white-50 me-auto"),
                html.Span(f"{current_user.email} · {current_user.role}",
                          className="navbar-text text-white text-break"),
                dbc.NavLink("Change password", href="/account/password", external_link=True,
                            className="text-white-50 ms-3"),
                logout,
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-4",
    )


def layout():
    if not current_user.is_authenticated:
        return html.Div()
    return html.Div(
        [
            navbar(),
            dbc.Container(
                [
                    html.H2("Overview", className="h4 mb-3"),
                    dbc.Card(
                        [
                            dbc.CardHeader("Jobs"),
                            dbc.CardBody(html.Div(id="jobs-table", children=recent_jobs())),
                        ]
                    ),
                    dcc.Interval(id="jobs-refresh", interval=JOB_REFRESH_MS),
                ],
                fluid=True,
            ),
        ]
    )


def recent_jobs(limit: int = 20):
    jobs, _total = current_store().list(Job, order_by=(Job.created_at.desc(),), limit=limit)
    return jobs_table(jobs)


def _template_pattern(template: str) -> re.Pattern:
    """`/customers/<customer_id>` as a regex in which each variable is one path segment."""
    parts = re.split(r"<[^>]+>", template.strip("/"))
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def is_page(path: str) -> bool:
    """Whether the app has a page at `path`: the overview or a registered Dash page."""
    wanted = path.strip("/")
    if wanted == OVERVIEW_PATH.strip("/"):
        return True
    for page in dash.page_registry.values():
        if wanted == page["path"].strip("/"):
            return True
        template = page.get("path_template")
        if template and _template_pattern(template).fullmatch(wanted):
            return True
    return False


def reject_unknown_pages():
    """before_request (after the login gate): 404 for a page path the app does not have."""
    rule = request.url_rule
    if rule is not None and rule.rule == DASH_CATCHALL_RULE and not is_page(request.path):
        abort(404)


def init_dash(server) -> dash.Dash:
    app = dash.Dash(
        __name__,
        server=server,
        url_base_pathname="/",
        assets_folder=str(ASSETS),
        title="ValueLens",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.layout = layout
    server.before_request(reject_unknown_pages)

    @app.callback(Output("jobs-table", "children"), Input("jobs-refresh", "n_intervals"))
    def refresh_jobs(_n):
        return recent_jobs()

    return app

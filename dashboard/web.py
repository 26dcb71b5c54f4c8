"""The Dash application, mounted on the Flask server at `/`, with one module per page
under `dashboard/pages/` (`dash.register_page`).

The login gate (dashboard.auth) already stands in front of every Dash endpoint; the
layout is a function so each request renders for the logged-in user only: the navbar
shows only the links the user's role may use. A page registered with `min_role` answers
403 to a lower role (and its layout shows why, for in-app navigation); its mutating
callbacks check the role again on the server (`components.access.refuse_unless`).

Dash answers every path with its page shell; `reject_unknown_pages` makes a path that is
neither the overview nor a page registered with Dash (also with a path template) a real
404, so a mistyped link says so instead of showing the overview.

Page modules are executed again for every app built (tests build many): callbacks
declared with `dash.callback` belong in page modules only, and callbacks left over from
an app that never served are dropped before the next one is built.
"""

from __future__ import annotations

import re
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, _callback, dcc, html
from flask import abort, request
from flask_login import current_user

from dashboard.auth.roles import has_role
from dashboard.components.jobs import jobs_table
from dashboard.components.notices import finished_jobs_since, job_toast
from dashboard.components.shell import csrf_holder, navbar, notice_area
from dashboard.schema import Job
from dashboard.store import current_store

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PAGES = Path(__file__).resolve().parent / "pages"
JOB_REFRESH_MS = 2000
OVERVIEW_PATH = "/"
# The route through which Dash serves its page shell for any path below the base.
DASH_CATCHALL_RULE = "/<path:path>"


def layout():
    if not current_user.is_authenticated:
        return html.Div()
    return html.Div(
        [
            navbar(),
            notice_area(),
            csrf_holder(),
            dbc.Container(dash.page_container, fluid=True, className="vl-page"),
        ]
    )


def overview_layout(**_query):
    """The overview until the analytics overview page is registered at `/`."""
    return html.Div(
        [
            html.H2("Overview", className="h4 mb-3"),
            dbc.Card([dbc.CardHeader("Jobs"),
                      dbc.CardBody(html.Div(id="jobs-table", children=recent_jobs()))]),
            dcc.Interval(id="jobs-refresh", interval=JOB_REFRESH_MS),
        ]
    )


def recent_jobs(limit: int = 20):
    """The tenant's latest jobs; the steps of a chain show through its own progress."""
    jobs, _total = current_store().list(Job, where=[Job.parent_id.is_(None)],
                                        order_by=(Job.created_at.desc(),), limit=limit)
    return jobs_table(jobs)


def _template_pattern(template: str) -> re.Pattern:
    """`/customers/<customer_id>` as a regex in which each variable is one path segment."""
    parts = re.split(r"<[^>]+>", template.strip("/"))
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def page_at(path: str) -> dict | None:
    """The registered page that serves `path` (the overview counts), or None."""
    wanted = path.strip("/")
    for page in dash.page_registry.values():
        if wanted == page["path"].strip("/"):
            return page
        template = page.get("path_template")
        if template and _template_pattern(template).fullmatch(wanted):
            return page
    if wanted == OVERVIEW_PATH.strip("/"):
        return {"path": OVERVIEW_PATH}
    return None


def is_page(path: str) -> bool:
    """Whether the app has a page at `path`: the overview or a registered Dash page."""
    return page_at(path) is not None


def reject_unknown_pages():
    """before_request (after the login gate): 404 for a page path the app does not have,
    403 for a page the user's role may not open."""
    rule = request.url_rule
    if rule is None or rule.rule not in (DASH_CATCHALL_RULE, "/"):
        return
    page = page_at(request.path)
    if page is None:
        abort(404)
    role = page.get("min_role")
    if role and current_user.is_authenticated and not has_role(current_user, role):
        abort(403)


def _register_overview_fallback() -> None:
    if any(page["path"] == OVERVIEW_PATH for page in dash.page_registry.values()):
        return
    dash.register_page("overview", path=OVERVIEW_PATH, name="Overview", title="ValueLens",
                       layout=overview_layout, order=0)


def init_dash(server) -> dash.Dash:
    _callback.GLOBAL_CALLBACK_LIST.clear()
    _callback.GLOBAL_CALLBACK_MAP.clear()
    app = dash.Dash(
        __name__,
        server=server,
        url_base_pathname="/",
        assets_folder=str(ASSETS),
        use_pages=True,
        pages_folder=str(PAGES),
        title="ValueLens",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    _register_overview_fallback()
    app.layout = layout
    server.before_request(reject_unknown_pages)

    @app.callback(Output("jobs-table", "children"), Input("jobs-refresh", "n_intervals"))
    def refresh_jobs(_n):
        return recent_jobs()

    @app.callback(Output("navbar-collapse", "is_open"), Input("navbar-toggler", "n_clicks"),
                  State("navbar-collapse", "is_open"), prevent_initial_call=True)
    def toggle_navbar(_clicks, is_open):
        return not is_open

    @app.callback(Output("job-notices", "children"), Output("job-notice-mark", "data"),
                  Input("job-notice-poll", "n_intervals"), State("job-notice-mark", "data"),
                  State("job-notices", "children"))
    def notify_finished_jobs(_n, mark, shown):
        jobs, new_mark = finished_jobs_since(mark)
        if not jobs:
            return dash.no_update, new_mark
        kept = [toast for toast in (shown or []) if toast.get("props", {}).get("is_open")]
        return (kept + [job_toast(job) for job in jobs])[-4:], new_mark

    return app

"""The frame around every page: the navbar with the tenant's name, the page links the
user's role may use, the user menu, and the corner where job notices appear."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboard.auth.roles import has_role
from dashboard.components.live import linked, live_kind
from dashboard.store import current_store

# (label, path, role needed to see the link)
PAGE_LINKS = (
    ("Overview", "/", "viewer"),
    ("Segments", "/segments", "viewer"),
    ("Drivers", "/drivers", "viewer"),
    ("Value", "/value", "viewer"),
    ("Churn", "/churn", "viewer"),
    ("Customers", "/customers", "viewer"),
    ("Campaigns", "/campaigns", "viewer"),
    ("Data", "/data", "analyst"),
    ("Models", "/models", "viewer"),
    ("Admin", "/admin", "admin"),
)
NOTICE_POLL_MS = 5000


def visible_links(user, kind: str | None = None) -> list[tuple[str, str]]:
    """The links the user's role may use, less the analytics pages a live run of `kind`
    does not fill (a customer table has no value, churn or campaigns; transactions no
    drivers page)."""
    return [(label, path) for label, path, role in PAGE_LINKS
            if has_role(user, role) and linked(path, kind)]


def user_menu() -> html.Div:
    logout = html.Form(
        [
            dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
            dbc.Button("Log out", type="submit", color="light", size="sm", outline=True),
        ],
        action="/logout", method="post", className="m-0",
    )
    return html.Div(
        [
            # Nine links and a full email do not fit one line below 1400 px: there the
            # bar names the role only (the email is in the tooltip and on /account).
            html.Span(f"{current_user.email} · {current_user.role}",
                      className="navbar-text text-white vl-user d-lg-none d-xxl-inline",
                      id="user-identity"),
            html.Span(current_user.role, title=current_user.email,
                      className="navbar-text text-white d-none d-lg-inline d-xxl-none"),
            dbc.NavLink("Account", href="/account", className="text-white-50 px-lg-2"),
            html.Button("◐", id="theme-toggle", type="button", title="Switch light / dark",
                        className="btn btn-sm btn-outline-light", **{"aria-label": "Switch light or dark theme"}),
            logout,
        ],
        className="d-flex flex-wrap align-items-center gap-2 ms-lg-auto py-2 py-lg-0",
    )


def navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact", className="vl-nav-link"))
             for label, path in visible_links(current_user, live_kind())]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("ValueLens", href="/"),
                html.Span(current_store().tenant.name, className="navbar-text text-white-50 me-3 text-nowrap",
                          id="tenant-name"),
                dbc.NavbarToggler(id="navbar-toggler", n_clicks=0),
                dbc.Collapse(
                    [dbc.Nav(links, navbar=True, className="flex-wrap"), user_menu()],
                    id="navbar-collapse", navbar=True, is_open=False,
                ),
            ],
            fluid=True,
        ),
        color="dark", dark=True, expand="lg", className="mb-3",
    )


def notice_area() -> html.Div:
    return html.Div(
        [
            html.Div(id="job-notices", className="vl-toasts", **{"aria-live": "polite"}),
            dcc.Store(id="job-notice-mark"),
            dcc.Interval(id="job-notice-poll", interval=NOTICE_POLL_MS),
        ]
    )


def csrf_holder() -> html.Div:
    """The session's CSRF token for the upload script's fetch() calls."""
    return html.Div(id="csrf-token", hidden=True, **{"data-token": generate_csrf()})

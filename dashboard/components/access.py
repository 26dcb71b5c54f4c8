"""Role checks for pages and callbacks, on the server.

Links and controls a role may not use are left out of the layout; that is comfort only.
Every mutating callback calls `refuse_unless(role)` first: a forged request from a lower
role raises `Forbidden`, which Dash lets through to Flask's handler (403 JSON) before
anything changes.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from flask_login import current_user

from dashboard.auth.roles import ensure_role, has_role

FORBIDDEN_TEXT = "Your role does not allow this page. Ask an admin of your organisation for access."


def allowed(role: str) -> bool:
    return has_role(current_user, role)


def refuse_unless(role: str) -> None:
    """Raise `Forbidden` (HTTP 403) unless the signed-in user holds `role` or higher."""
    ensure_role(current_user, role)


def forbidden_notice() -> dbc.Alert:
    return dbc.Alert(FORBIDDEN_TEXT, color="warning", className="mt-3", id="forbidden-notice")

"""The admin page's forms and tables (users, tokens, settings)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html
from flask_login import current_user

from dashboard import admin_service
from dashboard.components.tables import feedback, text_table
from dashboard.schema import RETRAIN_SCHEDULES, ROLES
from dashboard.store import NotFound, current_store

USER_ACTIONS = ([{"label": f"Make {role}", "value": f"role:{role}"} for role in ROLES]
                + [{"label": "Deactivate", "value": "deactivate"},
                   {"label": "Reactivate", "value": "activate"},
                   {"label": "Reset password", "value": "reset"}])


def users_table():
    users = admin_service.list_users(current_store())
    return text_table(["Email", "Role", "Active", "Last sign-in (UTC)"],
                      [(u.email, u.role, "yes" if u.active else "no", u.last_login_at)
                       for u in users], table_id="users-table")


def user_actions() -> html.Div:
    users = admin_service.list_users(current_store())
    return html.Div([
        html.H3("Add a user", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Input(id="user-add-email", type="email", placeholder="Email"), md=4),
            dbc.Col(dbc.Input(id="user-add-password", type="password",
                              placeholder="First password (12+ characters)"), md=4),
            dbc.Col(dbc.Select(id="user-add-role", value="viewer",
                               options=[{"label": r, "value": r} for r in ROLES]), xs=6, md=2),
            dbc.Col(dbc.Button("Add user", id="user-add", color="primary"), xs=6, md=2),
        ], className="g-2"),
        html.H3("Change a user", className="h6 mt-3"),
        dbc.Row([
            dbc.Col(dbc.Select(id="user-choice", placeholder="User",
                               options=[{"label": u.email, "value": u.id} for u in users]), md=5),
            dbc.Col(dbc.Select(id="user-action", placeholder="Action", options=USER_ACTIONS),
                    xs=7, md=4),
            dbc.Col(dbc.Button("Apply", id="user-apply", color="secondary"), xs=5, md=3),
        ], className="g-2"),
    ])


def all_tokens():
    tokens = admin_service.list_tokens(current_store())
    return text_table(["Name", "Owner", "Starts with", "Created", "Last used"],
                      [(t.name, email, t.prefix, t.created_at, t.last_used_at)
                       for t, email in tokens], empty="No active API tokens.",
                      table_id="admin-tokens")


def tokens_card() -> dbc.Card:
    options = [{"label": f"{t.name} · {email} ({t.prefix}…)", "value": t.id}
               for t, email in admin_service.list_tokens(current_store())]
    return dbc.Card([dbc.CardHeader("API tokens"), dbc.CardBody([
        html.Div(all_tokens(), id="admin-tokens-box"),
        dbc.InputGroup([dbc.Select(id="admin-token-choice", options=options,
                                   placeholder="A token to revoke"),
                        dbc.Button("Revoke", id="admin-token-revoke", color="danger",
                                   outline=True)], className="mt-3"),
        html.Div(id="admin-token-feedback"),
    ])], className="mb-3")


def settings_form(tenant) -> dbc.Row:
    def field(label, control, md=3):
        return dbc.Col([dbc.Label(label, html_for=control.id), control], md=md, xs=6)

    return dbc.Row([
        field("Horizon (days)", dbc.Input(id="settings-horizon", type="number", min=1,
                                          max=3650, value=tenant.horizon_days)),
        field("Currency", dbc.Input(id="settings-currency", value=tenant.currency, maxLength=3)),
        field("Time zone", dbc.Input(id="settings-timezone", value=tenant.timezone)),
        field("Retraining", dbc.Select(id="settings-schedule", value=tenant.retrain_schedule,
                                       options=[{"label": s, "value": s}
                                                for s in RETRAIN_SCHEDULES])),
        dbc.Col(dbc.Button("Save settings", id="settings-save", color="primary"), xs=12,
                className="mt-2"),
    ], className="g-2")


def revoke_with_feedback(token_id: str | None, *refresh):
    """Revoke one of the tenant's tokens for the signed-in user and say how it went; on
    success the callables in `refresh` rebuild the callback's other outputs."""
    unchanged = (dash.no_update,) * len(refresh)
    if not token_id:
        return (feedback("Choose a token to revoke.", ok=False), *unchanged)
    try:
        token = admin_service.revoke_token(current_store(), current_user, token_id)
    except NotFound:
        return (feedback("That token was not found.", ok=False), *unchanged)
    return (feedback(f"Token {token.name} was revoked."), *(build() for build in refresh))

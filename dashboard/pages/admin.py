"""Admin: the organisation's users, API tokens, settings and audit log. Every callback
checks the admin role on the server before it changes anything."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html
from flask_login import current_user

from dashboard import admin_service
from dashboard.accounts import AccountError
from dashboard.components.access import allowed, forbidden_notice, refuse_unless
from dashboard.components.admin_forms import (
    settings_form,
    tokens_card,
    user_actions,
    users_table,
)
from dashboard.components.tables import feedback, text_table
from dashboard.store import NotFound, current_store

dash.register_page(__name__, path="/admin", name="Admin", title="Admin · ValueLens",
                   min_role="admin")


def audit_table():
    events = admin_service.audit_log(current_store())
    return text_table(["When (UTC)", "Who", "What", "Details"],
                      [(e.created_at, email, e.action.replace("_", " "),
                        ", ".join(f"{k}: {v}" for k, v in (e.detail or {}).items()))
                       for e, email in events], empty="No events yet.", table_id="audit-log")


def layout(**_query):
    if not allowed("admin"):
        return forbidden_notice()
    return html.Div([
        html.H2("Admin", className="h4 mb-3"),
        dbc.Card([dbc.CardHeader("Users"), dbc.CardBody([
            html.Div(users_table(), id="users-box"), user_actions(), html.Div(id="user-feedback"),
        ])], className="mb-3"),
        tokens_card(),
        dbc.Card([dbc.CardHeader("Settings"), dbc.CardBody([
            settings_form(current_store().tenant), html.Div(id="settings-feedback")])],
            className="mb-3"),
        dbc.Card([dbc.CardHeader("Audit log"), dbc.CardBody(html.Div(audit_table(), id="audit-box"))]),
    ])


def _refreshed(message, ok=True):
    return feedback(message, ok), users_table(), audit_table()


USER_OUTPUTS = (Output("user-feedback", "children", allow_duplicate=True),
                Output("users-box", "children", allow_duplicate=True),
                Output("audit-box", "children", allow_duplicate=True))


@callback(*USER_OUTPUTS, Input("user-add", "n_clicks"), State("user-add-email", "value"),
          State("user-add-password", "value"), State("user-add-role", "value"),
          prevent_initial_call=True)
def add_user(_clicks, email, password, role):
    refuse_unless("admin")
    try:
        user = admin_service.add_user(current_store(), current_user, email or "", password or "",
                                      role or "viewer")
    except AccountError as error:
        return feedback(str(error), ok=False), dash.no_update, dash.no_update
    return _refreshed(f"{user.email} can now sign in as {user.role}.")


@callback(*USER_OUTPUTS, Input("user-apply", "n_clicks"), State("user-choice", "value"),
          State("user-action", "value"), prevent_initial_call=True)
def change_user(_clicks, user_id, action):
    refuse_unless("admin")
    if not user_id or not action:
        return feedback("Choose a user and an action.", ok=False), dash.no_update, dash.no_update
    store = current_store()
    try:
        if action.startswith("role:"):
            user = admin_service.change_role(store, current_user, user_id, action[5:])
            return _refreshed(f"{user.email} is now {user.role}.")
        if action in ("deactivate", "activate"):
            user = admin_service.set_active(store, current_user, user_id, action == "activate")
            return _refreshed(f"{user.email} was {action}d.")
        if action == "reset":
            temporary = admin_service.reset_password(store, current_user, user_id)
            message = html.Div(["Temporary password (shown once; ask them to change it): ",
                                html.Code(temporary, className="vl-token", id="temporary-password")])
            return _refreshed(message)
    except (AccountError, NotFound) as error:
        return feedback(str(error), ok=False), dash.no_update, dash.no_update
    return feedback("Unknown action.", ok=False), dash.no_update, dash.no_update


@callback(Output("admin-token-feedback", "children"), Output("admin-tokens-box", "children"),
          Output("audit-box", "children", allow_duplicate=True),
          Input("admin-token-revoke", "n_clicks"), State("admin-token-choice", "value"),
          prevent_initial_call=True)
def revoke_any_token(_clicks, token_id):
    refuse_unless("admin")
    from dashboard.components.admin_forms import all_tokens, revoke_with_feedback

    return revoke_with_feedback(token_id, all_tokens, audit_table)


@callback(Output("settings-feedback", "children"),
          Output("audit-box", "children", allow_duplicate=True),
          Input("settings-save", "n_clicks"), State("settings-horizon", "value"),
          State("settings-currency", "value"), State("settings-timezone", "value"),
          State("settings-schedule", "value"), prevent_initial_call=True)
def save_settings(_clicks, horizon, currency, timezone, schedule):
    refuse_unless("admin")
    try:
        admin_service.update_settings(current_store(), current_user, horizon_days=horizon,
                                      currency=currency, timezone=timezone,
                                      retrain_schedule=schedule)
    except AccountError as error:
        return feedback(str(error), ok=False), dash.no_update
    return feedback("Settings saved. New horizons apply from the next training."), audit_table()

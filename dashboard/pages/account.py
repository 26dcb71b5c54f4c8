"""Account: one's own password and API tokens (a new token is shown once)."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html
from flask_login import current_user

from dashboard import admin_service
from dashboard.accounts import AccountError
from dashboard.components.admin_forms import revoke_with_feedback
from dashboard.components.tables import feedback, text_table
from dashboard.store import current_store

dash.register_page(__name__, path="/account", name="Account", title="Account · ValueLens")


def own_tokens():
    tokens = admin_service.list_tokens(current_store(), current_user)
    return text_table(["Name", "Starts with", "Created", "Last used"],
                      [(t.name, t.prefix, t.created_at, t.last_used_at) for t, _ in tokens],
                      empty="You have no API tokens.", table_id="own-tokens")


def token_options():
    return [{"label": f"{t.name} ({t.prefix}…)", "value": t.id}
            for t, _ in admin_service.list_tokens(current_store(), current_user)]


def layout(**_query):
    return html.Div([
        html.H2("Account", className="h4 mb-3"),
        dbc.Card([dbc.CardHeader("Signed in"), dbc.CardBody([
            html.P(f"{current_user.email} · {current_user.role}", className="mb-2"),
            dbc.Button("Change password", href="/account/password", external_link=True,
                       color="primary", size="sm", id="change-password-link"),
        ])], className="mb-3"),
        dbc.Card([dbc.CardHeader("API tokens"), dbc.CardBody([
            html.P("Scripts use a token in an 'Authorization: Bearer' header. It is shown "
                   "once, when created; revoke it when it is no longer needed.",
                   className="text-muted small"),
            html.Div(own_tokens(), id="own-tokens-box"),
            dbc.InputGroup([dbc.Input(id="token-name", placeholder="Token name, e.g. nightly export",
                                      maxLength=200),
                            dbc.Button("Create token", id="token-create", color="primary")],
                           className="mt-3"),
            dbc.InputGroup([dbc.Select(id="token-revoke-choice", options=token_options(),
                                       placeholder="A token to revoke"),
                            dbc.Button("Revoke", id="token-revoke", color="danger", outline=True)],
                           className="mt-2"),
            html.Div(id="token-feedback"),
        ])]),
    ])


@callback(Output("token-feedback", "children"), Output("own-tokens-box", "children"),
          Output("token-revoke-choice", "options"),
          Input("token-create", "n_clicks"), State("token-name", "value"),
          prevent_initial_call=True)
def create_token(_clicks, name):
    try:
        plain = admin_service.create_token(current_store(), current_user, name or "")
    except AccountError as error:
        return feedback(str(error), ok=False), dash.no_update, dash.no_update
    shown = html.Div(["Copy this token now; it will not be shown again: ",
                      html.Code(plain, className="vl-token", id="new-token")])
    return feedback(shown), own_tokens(), token_options()


@callback(Output("token-feedback", "children", allow_duplicate=True),
          Output("own-tokens-box", "children", allow_duplicate=True),
          Output("token-revoke-choice", "options", allow_duplicate=True),
          Input("token-revoke", "n_clicks"), State("token-revoke-choice", "value"),
          prevent_initial_call=True)
def revoke_token(_clicks, token_id):
    return revoke_with_feedback(token_id, own_tokens, token_options)

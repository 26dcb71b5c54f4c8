"""One customer: scores, the model's reasons (SHAP waterfalls with a plain sentence) and
purchase history. An id that is not this tenant's shows "not found"."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.customer_view import customer_view
from dashboard.customer_history import purchase_history
from dashboard.runs import live_run_data
from dashboard.store import current_store

dash.register_page(__name__, path_template="/customers/<customer_id>", name="Customer",
                   title="Customer · ValueLens")


def not_found(text: str = "Customer not found.") -> html.Div:
    return html.Div([dbc.Alert(text, color="warning", id="customer-not-found"),
                     dcc.Link("Back to all customers", href="/customers")])


def layout(customer_id: str | None = None, **_query):
    store = current_store()
    data = live_run_data(store)
    if data is None or not customer_id:
        return not_found()
    from dashboard.customers import customer_detail

    try:
        detail = customer_detail(store, data, customer_id)
    except LookupError:
        return not_found()
    history = purchase_history(store, data, detail["customer_id"])
    return customer_view(detail, history, store.tenant.currency)

"""Customers: every customer of the live run in a grid that pages on the server."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from dashboard.components.customer_grid import customers_grid, grid_query, grid_rows
from dashboard.runs import live_run_data
from dashboard.store import current_store

dash.register_page(__name__, path="/customers", name="Customers", title="Customers · ValueLens")

NO_RUN = "No scored data yet. Once an upload has been trained and scored, every customer shows here."


def layout(**_query):
    if live_run_data(current_store()) is None:
        return html.Div([html.H2("Customers", className="h4 mb-3"),
                         dbc.Alert(NO_RUN, color="info", id="customers-empty")])
    return html.Div(
        [
            html.H2("Customers", className="h4 mb-3"),
            dbc.Input(id="customer-search", type="search", debounce=True, className="mb-2",
                      placeholder="Search by customer id", style={"maxWidth": "24rem"}),
            html.P("Sort by any column; filter from a column's menu. Click an id for the "
                   "customer's history and explanations.", className="text-muted small"),
            customers_grid(current_store().tenant.currency),
        ]
    )


@callback(Output("customers-grid", "getRowsResponse"), Input("customers-grid", "getRowsRequest"))
def customer_rows(request):
    from dashboard.customers import query_customers

    data = live_run_data(current_store())
    if data is None or request is None:
        raise dash.exceptions.PreventUpdate
    frame, total = query_customers(data, **grid_query(request))
    return grid_rows(frame, total)


@callback(Output("customers-grid", "filterModel"), Input("customer-search", "value"),
          prevent_initial_call=True)
def search_customers(text):
    text = (text or "").strip()
    if not text:
        return {}
    return {"customer_id": {"filterType": "text", "type": "contains", "filter": text}}

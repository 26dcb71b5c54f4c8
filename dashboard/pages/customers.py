"""Customers: every customer of the live run in a grid that pages on the server."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.components.customer_grid import customers_grid, grid_query, grid_rows
from dashboard.components.export import csv_download
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
            html.Div([
                html.P("Sort by any column; filter from a column's menu. Click an id for the "
                       "customer's history and explanations.", className="text-muted small mb-0"),
                dbc.Button("Export CSV", id="customers-export-button", size="sm",
                           color="secondary", outline=True),
                dcc.Download(id="customers-export"),
            ], className="d-flex justify-content-between align-items-center gap-2 mb-2"),
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


@callback(Output("customers-export", "data"), Input("customers-export-button", "n_clicks"),
          State("customers-grid", "filterModel"), prevent_initial_call=True)
def export_customers(_clicks, filter_model):
    """Every customer matching the grid's filters (not just the page shown), as CSV."""
    from dashboard.customers import SHAP_PREFIX, filter_customers

    data = live_run_data(current_store())
    if data is None:
        raise dash.exceptions.PreventUpdate
    query = grid_query({"filterModel": filter_model or {}})
    filters = {key: value for key, value in query.items() if key not in ("offset", "limit")}
    matching = filter_customers(data, **filters)
    columns = [column for column in matching.columns if not column.startswith(SHAP_PREFIX)]
    return csv_download(matching[columns], "customers.csv")

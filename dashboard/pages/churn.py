"""Churn risk: the risk distribution, high-value customers at risk (with export), the
backtest's reliability and precision–recall curves, and a threshold to try out."""

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, dcc, html

from dashboard.aggregates import aggregate, churn_threshold
from dashboard.components.cards import chart_card, empty_state, page_header, two_columns
from dashboard.components.charts import graph
from dashboard.components.export import csv_download
from dashboard.components.formatting import number, percent
from dashboard.components.live import page_data, run_cached
from dashboard.figures import churn as figures

dash.register_page(__name__, path="/churn", name="Churn risk", title="Churn risk · ValueLens",
                   order=3)

AT_RISK_ROWS = 500
NO_HISTORY = ("This analysis came from a customer table without purchase dates, so churn "
              "cannot be measured. Upload transactions (customer, date, amount) to see "
              "churn risk.")
GRID_COLUMNS = ["customer_id", "rfm_segment", "persona", "clv", "churn_probability",
                "days_since_last", "total_spend"]

HEADERS = {"customer_id": "Customer", "rfm_segment": "Segment", "persona": "Persona",
           "clv": "Predicted value", "churn_probability": "Churn risk",
           "days_since_last": "Days since last order", "total_spend": "Spent so far"}


def at_risk(customers: pd.DataFrame, threshold: float, rows: int | None = AT_RISK_ROWS
            ) -> pd.DataFrame:
    """Customers at or above the threshold, most predicted value first."""
    columns = [c for c in GRID_COLUMNS if c in customers]
    flagged = customers.loc[customers["churn_probability"] >= threshold, columns]
    if rows:  # a partial selection, not a sort of every flagged customer
        return flagged.nlargest(rows, "clv", keep="first")
    return flagged.sort_values("clv", ascending=False, kind="stable")


def _grid(frame: pd.DataFrame, currency: str) -> dag.AgGrid:
    columns = [{"field": c, "headerName": HEADERS.get(c, c)} for c in frame.columns]
    for column in columns:
        if column["field"] in ("clv", "total_spend"):
            column["headerName"] += f" ({currency})"
            column["valueFormatter"] = {"function": "d3.format(',.0f')(params.value)"}
        elif column["field"] == "churn_probability":
            column["valueFormatter"] = {"function": "d3.format('.0%')(params.value)"}
        elif column["field"] == "customer_id":
            column["cellRenderer"] = "CustomerLink"
    return dag.AgGrid(id="churn-grid", rowData=frame.astype({"rfm_segment": str}, errors="ignore")
                      .to_dict("records"), columnDefs=columns,
                      defaultColDef={"sortable": True, "resizable": True, "filter": True,
                                     "minWidth": 110},
                      dashGridOptions={"pagination": True, "paginationPageSize": 20},
                      className="ag-theme-alpine vl-grid")


def layout(**_query):
    page = page_data()
    header = page_header("Churn risk", "Who is likely to stop buying, and how sure the model is")
    if page is None:
        return html.Div([header, empty_state()])
    model = page.data.report.get("models", {}).get("churn")
    if page.kind != "transactions" or not model:
        return html.Div([header, empty_state("No churn risk for this data", NO_HISTORY)])
    return html.Div([header, _body(page)])


@run_cached
def _body(page):
    model = page.data.report["models"]["churn"]
    threshold = churn_threshold(page.data.report)
    reliability = pd.DataFrame(model["backtest"].get(model.get("champion"), {}).get("reliability") or [])
    flagged = at_risk(page.data.customers, threshold)
    slider = dcc.Slider(id="churn-threshold", min=0, max=0.9, step=0.1, value=round(min(threshold, 0.9), 1),
                        marks={v / 10: f"{v * 10}%" for v in range(0, 10, 3)})
    return html.Div([
        two_columns(
            chart_card("Risk distribution", graph(figures.risk_distribution(
                pd.DataFrame(aggregate("churn_histogram", page.data)), threshold), "churn-distribution"),
                f"Probability of no purchase in the next {page.horizon} days; line: the model's threshold"),
            chart_card("Try a threshold", html.Div([slider, html.Div(id="churn-threshold-result", className="mt-2")]),
                       "Flag everyone at or above it: backtest precision and recall, customers flagged today")),
        two_columns(
            chart_card("Reliability", graph(figures.reliability_curve(reliability), "churn-reliability"),
                       "Predicted vs observed churn in the backtest"),
            chart_card("Precision and recall", html.Div(id="churn-pr"),
                       "Each point is one threshold; the star is the one tried above")),
        chart_card(f"High-value customers at risk (top {AT_RISK_ROWS} by predicted value)", html.Div([
            dbc.Button("Export CSV", id="churn-export-button", size="sm", color="secondary",
                       outline=True, className="mb-2"),
            dcc.Download(id="churn-export"),
            _grid(flagged, page.currency),
        ])),
    ])


@dash.callback(Output("churn-threshold-result", "children"), Output("churn-pr", "children"),
               Input("churn-threshold", "value"))
def try_threshold(threshold):
    page = page_data()
    if page is None or threshold is None:
        return dash.no_update, dash.no_update
    model = page.data.report["models"]["churn"]
    reliability = pd.DataFrame(model["backtest"].get(model.get("champion"), {}).get("reliability") or [])
    points = figures.precision_recall_points(reliability)
    scores = figures.at_threshold(points, threshold)
    count = int((page.data.customers["churn_probability"] >= threshold).sum())
    result = html.Ul([
        html.Li(f"Precision {percent(scores['precision'], 0)}: of those flagged, this share churned"),
        html.Li(f"Recall {percent(scores['recall'], 0)}: of those who churned, this share was flagged"),
        html.Li(f"{number(count)} customers flagged today ({percent(count / max(len(page.data.customers), 1))})"),
    ], className="mb-0", id="churn-threshold-numbers")
    return result, graph(figures.precision_recall_curve(points, threshold), "churn-pr-curve")


@dash.callback(Output("churn-export", "data"), Input("churn-export-button", "n_clicks"),
               prevent_initial_call=True)
def export_at_risk(_clicks):
    page = page_data()
    if page is None:
        return dash.no_update
    return csv_download(at_risk(page.data.customers, churn_threshold(page.data.report), rows=None),
                        "customers-at-risk.csv")

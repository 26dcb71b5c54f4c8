"""Campaigns: choose segments or personas, the cost per contact, the expected uplift and
the margin; see the expected return per group, where to spend first, and export the
target list."""

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard.aggregates import aggregate
from dashboard.components.cards import (
    chart_card,
    empty_state,
    kpi_card,
    kpi_row,
    page_header,
    text_table,
)
from dashboard.components.charts import graph
from dashboard.components.export import csv_download
from dashboard.components.formatting import money, number, percent
from dashboard.components.live import page_data
from dashboard.figures import campaigns as figures

dash.register_page(__name__, path="/campaigns", name="Campaigns",
                   title="Campaigns · ValueLens", order=4)

GROUPINGS = {"rfm_segment": ("RFM segments", "segment_mix"), "persona": ("Personas", "persona_mix")}
TARGET_COLUMNS = ["customer_id", "rfm_segment", "persona", "clv", "churn_probability"]
NO_HISTORY = ("This analysis came from a customer table without purchase dates, and campaign "
              "returns come from predicted spend. Upload transactions (customer, date, "
              "amount) to plan campaigns.")


def _field(label, component):
    return dbc.Col([dbc.Label(label, className="small mb-1"), component], xs=12, sm=6, lg=3,
                   className="mb-2")


def layout(**_query):
    page = page_data()
    header = page_header("Campaigns", "Where a campaign pays back, and whom to contact")
    if page is None:
        return html.Div([header, empty_state()])
    if page.kind != "transactions" or "clv" not in page.data.customers:
        return html.Div([header, empty_state("No campaign planning for this data", NO_HISTORY)])
    controls = dbc.Row([
        _field("Group by", dbc.RadioItems(id="campaign-grouping", value="rfm_segment", inline=True,
                                          options=[{"label": v[0], "value": k} for k, v in GROUPINGS.items()])),
        _field(f"Cost per contact ({page.currency})", dbc.Input(id="campaign-cost", type="number", min=0,
                                                                step=0.1, value=1)),
        _field("Expected uplift in spend (%)", dbc.Input(id="campaign-uplift", type="number", min=0,
                                                         max=100, step=0.5, value=5)),
        _field("Gross margin (%)", dbc.Input(id="campaign-margin", type="number", min=0, max=100,
                                             step=1, value=40)),
        dbc.Col([dbc.Label("Groups (empty: all)", className="small mb-1"),
                 dcc.Dropdown(id="campaign-groups", multi=True, placeholder="All groups")],
                xs=12, className="mb-2"),
    ])
    return html.Div([
        header,
        dbc.Card(dbc.CardBody(controls), className="mb-3"),
        html.Div(id="campaign-totals"),
        chart_card("Net return per group", html.Div(id="campaign-chart"),
                   f"Expected over the next {page.horizon} days; red groups lose money"),
        chart_card("Where to spend first", html.Div([
            html.Div(id="campaign-ranking"),
            dbc.Button("Export target list (CSV)", id="campaign-export-button", size="sm",
                       color="secondary", outline=True, className="mt-2"),
            dcc.Download(id="campaign-export"),
        ])),
    ])


@dash.callback(Output("campaign-groups", "options"), Output("campaign-groups", "value"),
               Input("campaign-grouping", "value"))
def group_options(grouping):
    page = page_data()
    if page is None or grouping not in GROUPINGS:
        return [], []
    groups = aggregate(GROUPINGS[grouping][1], page.data)
    return [{"label": str(g["segment"]), "value": str(g["segment"])} for g in groups], []


@dash.callback(Output("campaign-totals", "children"), Output("campaign-chart", "children"),
               Output("campaign-ranking", "children"),
               Input("campaign-grouping", "value"), Input("campaign-groups", "value"),
               Input("campaign-cost", "value"), Input("campaign-uplift", "value"),
               Input("campaign-margin", "value"))
def plan(grouping, chosen, cost, uplift, margin):
    page = page_data()
    if page is None or grouping not in GROUPINGS:
        return dash.no_update, dash.no_update, dash.no_update
    groups = pd.DataFrame(aggregate(GROUPINGS[grouping][1], page.data))
    table = figures.campaign_plan(groups, chosen or None, cost, (uplift or 0) / 100, (margin or 0) / 100)
    totals = figures.plan_totals(table)
    cur = page.currency
    cards = kpi_row([kpi_card("Customers to contact", number(totals["customers"])),
                     kpi_card("Campaign cost", money(totals["cost"], cur, short=True)),
                     kpi_card("Incremental revenue", money(totals["incremental_revenue"], cur, short=True)),
                     kpi_card("Net return", money(totals["net_return"], cur, short=True)),
                     kpi_card("ROI", percent(totals["roi"], 0))])
    shown = pd.DataFrame({
        "Rank": range(1, len(table) + 1), "Group": table["segment"],
        "Customers": table["customers"].map(number),
        "Incremental revenue": table["incremental_revenue"].map(lambda v: money(v, cur)),
        "Cost": table["cost"].map(lambda v: money(v, cur)),
        "Net return": table["net_return"].map(lambda v: money(v, cur)),
        "ROI": table["roi"].map(lambda v: percent(v, 0)),
    })
    return cards, graph(figures.roi_chart(table, cur), "campaign-roi"), text_table(shown, "campaign-table")


@dash.callback(Output("campaign-export", "data"), Input("campaign-export-button", "n_clicks"),
               State("campaign-grouping", "value"), State("campaign-groups", "value"),
               prevent_initial_call=True)
def export_targets(_clicks, grouping, chosen):
    page = page_data()
    if page is None or grouping not in GROUPINGS or grouping not in page.data.customers:
        return dash.no_update
    customers = page.data.customers
    targets = customers if not chosen else customers[customers[grouping].astype(str).isin(chosen)]
    columns = [c for c in TARGET_COLUMNS if c in targets]
    return csv_download(targets[columns].sort_values("clv", ascending=False), "campaign-targets.csv")

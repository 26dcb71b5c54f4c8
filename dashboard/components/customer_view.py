"""The body of one customer's page: score cards, explanations and purchase history."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.components.formatting import day, money, number, percent
from dashboard.figures.customer import explanation_sentence, in_money, waterfall_figure

EXPLAINED = (
    # (kind, title, number format, what the axis is in)
    ("clv", "Predicted value", ",.0f", "in money over the horizon"),
    ("churn", "Churn risk", "+.2f", "in log-odds: above zero raises the risk"),
    ("regression", "Prediction", ",.2f", "in the target's unit"),
)


def stat(label: str, value: str, note: str | None = None) -> dbc.Col:
    body = [html.Div(label, className="text-muted small"),
            html.Div(value, className="fs-4 fw-semibold")]
    if note:
        body.append(html.Div(note, className="text-muted small"))
    return dbc.Col(dbc.Card(dbc.CardBody(body)), xs=6, md=3, className="mb-3")


def explanation_card(kind: str, title: str, fmt: str, unit: str, explanation: dict,
                     features: dict, currency: str) -> dbc.Col:
    sentence = explanation_sentence(kind, explanation, features, currency)
    return dbc.Col(dbc.Card([
        dbc.CardHeader(f"Why this {title.lower()}"),
        dbc.CardBody([
            html.P(sentence, className="vl-sentence", id=f"sentence-{kind}"),
            dcc.Graph(figure=waterfall_figure(explanation, value_format=fmt),
                      config={"displayModeBar": False, "responsive": True},
                      id=f"waterfall-{kind}"),
            html.P(f"Bars show how each feature moves this customer away from the average "
                   f"customer, {unit}.", className="text-muted small mb-0"),
        ]),
    ]), lg=6, className="mb-3")


def history_table(history: pd.DataFrame, currency: str):
    if history.empty:
        return html.P("No purchases on record for this customer.", className="text-muted")
    headers = [column.replace("_", " ").capitalize() for column in history.columns]
    rows = []
    for record in history.to_dict("records"):
        cells = []
        for column, value in record.items():
            if column == "date":
                text = day(value)
            elif column == "amount":
                text = money(value, currency)
            else:
                text = "" if value is None or value != value else str(value)
            cells.append(html.Td(text))
        rows.append(html.Tr(cells))
    return html.Div(dbc.Table([html.Thead(html.Tr([html.Th(h) for h in headers])),
                               html.Tbody(rows)], size="sm", hover=True, className="mb-0"),
                    className="vl-table-wrap vl-history", id="purchase-history")


def customer_view(detail: dict, history: pd.DataFrame, currency: str) -> html.Div:
    features = detail.get("features") or {}
    badges = [dbc.Badge(str(detail[key]), color=colour, className="me-2")
              for key, colour in (("segment", "primary"), ("persona", "info"))
              if detail.get(key) is not None]
    # The chance that the predicted value is nothing at all, from the purchase-count
    # model, belongs to the value; the churn risk beside it is the churn model's own.
    chance = detail.get("p_no_purchase")
    zero = (f"{percent(chance, digits=0)} chance of no purchase in the horizon"
            if chance is not None else None)
    stats = [stat("Predicted value", money(detail.get("clv"), currency), zero),
             stat("Churn risk", percent(detail.get("churn_probability"), digits=0)),
             stat("Probability still active", percent(detail.get("p_alive"), digits=0)),
             stat("Expected purchases", number(detail.get("expected_purchases"), digits=1))]
    shap = detail.get("shap") or {}
    explanations = [explanation_card(kind, title, fmt, unit, in_money(shap[kind]), features,
                                     currency)
                    for kind, title, fmt, unit in EXPLAINED if shap.get(kind)]
    return html.Div([
        dcc.Link("← All customers", href="/customers", className="small"),
        html.H2(["Customer ", html.Span(str(detail["customer_id"]), id="customer-id")],
                className="h4 mt-2 mb-2"),
        html.Div(badges, className="mb-3"),
        dbc.Row(stats),
        dbc.Row(explanations) if explanations else dbc.Alert(
            "Explanations are not ready yet for this run.", color="light"),
        dbc.Card([dbc.CardHeader("Purchase history"),
                  dbc.CardBody(history_table(history, currency))], className="mb-3"),
    ])

"""KPI cards, chart frames, plain tables and the empty state the analytics pages share.
Everything from uploaded data goes in as text children, never as HTML or markdown."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

DATA_PAGE = "/data"


def kpi_card(label: str, value: str, note: str | None = None, card_id: str | None = None
             ) -> dbc.Card:
    body = [html.Div(label, className="text-muted small text-uppercase vl-kpi-label"),
            html.Div(value, className="fs-4 fw-semibold vl-kpi-value")]
    if note:
        body.append(html.Div(note, className="text-muted small"))
    kwargs = {"id": card_id} if card_id else {}
    return dbc.Card(dbc.CardBody(body, className="py-2 px-3"), className="h-100 vl-kpi", **kwargs)


def kpi_row(cards: list) -> dbc.Row:
    """Two cards a row on a phone, three on a tablet, all in one row on a wide screen."""
    return dbc.Row([dbc.Col(card, xs=6, md=4, xl=True, className="mb-3") for card in cards],
                   className="g-2")


def chart_card(title: str, body, note: str | None = None, card_id: str | None = None
               ) -> dbc.Card:
    """A titled frame with a loading indicator while a callback refreshes the body."""
    header = [html.Span(title, className="fw-semibold")]
    if note:
        header.append(html.Div(note, className="text-muted small"))
    kwargs = {"id": card_id} if card_id else {}
    return dbc.Card([dbc.CardHeader(header),
                     dbc.CardBody(dcc.Loading(body, type="circle", delay_show=300),
                                  className="p-2")],
                    className="mb-3 h-100", **kwargs)


def two_columns(left, right) -> dbc.Row:
    """Side by side from 1200 px, stacked below."""
    return dbc.Row([dbc.Col(left, xs=12, xl=6, className="mb-3"),
                    dbc.Col(right, xs=12, xl=6, className="mb-3")])


def text_table(frame: pd.DataFrame, table_id: str | None = None, highlight_row: int | None = None
               ) -> html.Div:
    """A small table (segments, personas, models) with every cell as text; scrolls
    sideways inside its own box on a narrow screen."""
    head = html.Thead(html.Tr([html.Th(str(column)) for column in frame.columns]))
    rows = []
    for position, values in enumerate(frame.itertuples(index=False)):
        cells = [html.Td("" if value is None else str(value)) for value in values]
        rows.append(html.Tr(cells, className="table-success" if position == highlight_row else None))
    kwargs = {"id": table_id} if table_id else {}
    return html.Div(dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, className="mb-0"),
                    className="table-responsive", **kwargs)


def empty_state(title: str = "No analysis yet",
                text: str = ("Upload your sales data (a CSV of customer, date and amount per "
                             "purchase) and ValueLens segments your customers and predicts "
                             "their value and churn risk."),
                link: bool = True) -> dbc.Card:
    body = [html.H3(title, className="h5"), html.P(text, className="text-muted")]
    if link:
        body.append(dbc.Button("Upload data", href=DATA_PAGE, color="primary", id="empty-upload"))
    return dbc.Card(dbc.CardBody(body), className="mb-3 vl-empty", id="empty-state")


def page_header(title: str, subtitle: str | None = None) -> html.Div:
    children = [html.H2(title, className="h4 mb-1")]
    if subtitle:
        children.append(html.P(subtitle, className="text-muted small mb-0"))
    return html.Div(children, className="mb-3")

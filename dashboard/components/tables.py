"""Small read-only tables whose every cell is rendered as text, and the feedback line
under a form."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.formatting import MISSING


def cell_text(value) -> str:
    if value is None:
        return MISSING
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def text_table(headers, rows, empty: str = "Nothing here yet.", table_id: str | None = None):
    """`rows` are sequences of plain values; they are shown as text, never as HTML."""
    rows = list(rows)
    if not rows:
        return html.P(empty, className="text-muted mb-0", id=table_id or "")
    body = html.Tbody([html.Tr([html.Td(cell_text(value)) for value in row]) for row in rows])
    table = dbc.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), body],
                      size="sm", hover=True, className="mb-0")
    return html.Div(table, className="vl-table-wrap", id=table_id or "")


def feedback(text: str, ok: bool = True) -> dbc.Alert:
    return dbc.Alert(text, color="success" if ok else "danger", className="mt-2 mb-0 py-2",
                     dismissable=True)

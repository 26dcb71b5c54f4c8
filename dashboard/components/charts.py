"""One look for every chart: the figure style and the graph component that shows it.

Figures stay plain `go.Figure`s built in `dashboard.figures`; `style` is applied there
so a figure saved to the offline report looks the same as on the page."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from dash import dcc

from dashboard.components.formatting import currency_prefix

PALETTE = ["#2f6fb0", "#e07b39", "#3a9a6b", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd", "#1f3b5a"]
SEQUENTIAL = "Blues"
GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}
EMPTY_TEXT = "Nothing to show yet"
# The default template is attached once, unvalidated, when a figure is serialised; naming
# it in every `update_layout` made plotly validate and deep-copy all of it, about 20 ms a
# chart and most of a page's render time. The figures' JSON is the same either way.
pio.templates.default = "plotly_white"


def style(fig: go.Figure, height: int = 340, legend: bool = False) -> go.Figure:
    """Plain white chart, small margins, a legend below the plot (room on a phone)."""
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        colorway=PALETTE,
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
        hoverlabel={"namelength": -1},
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def money_axis(fig: go.Figure, currency: str, axis: str = "y") -> go.Figure:
    settings = {"tickprefix": currency_prefix(currency), "tickformat": "~s"}
    if axis == "y":
        fig.update_yaxes(**settings)
    else:
        fig.update_xaxes(**settings)
    return fig


def empty_figure(text: str = EMPTY_TEXT, height: int = 340) -> go.Figure:
    """A blank chart that says why it is blank, instead of empty axes."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#6c757d"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height)


def graph(fig: go.Figure, graph_id: str | None = None) -> dcc.Graph:
    kwargs = {"id": graph_id} if graph_id else {}
    return dcc.Graph(figure=fig, config=GRAPH_CONFIG, className="vl-graph", **kwargs)

"""Segment charts: the RFM treemap, the R × F heatmap, the k-means curves and persona
scatter, and the acquisition-cohort retention heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.aggregates import SCATTER_FEATURES
from dashboard.components.charts import PALETTE, SEQUENTIAL, empty_figure, style
from dashboard.components.formatting import currency_prefix, month
from dashboard.figures.customer import feature_label

# A positive column whose top percent lies this many times above its median is drawn on a
# log axis, so that most customers are not squashed into one corner.
LOG_SPREAD = 20


def chart_text(text) -> str:
    """Uploaded text (a persona, a column name) as Plotly shows it: literally. Plotly reads
    a few HTML tags in chart text (links among them); escaped, they stay text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def segment_treemap(segments: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """One tile per segment sized by customers; hover adds the share and the spend."""
    if segments.empty:
        return empty_figure("No RFM segments in this run")
    revenue = segments["revenue"] if "revenue" in segments else pd.Series(np.nan, segments.index)
    fig = go.Figure(go.Treemap(
        labels=segments["segment"], parents=[""] * len(segments), values=segments["customers"],
        customdata=np.column_stack([segments["share"] * 100, revenue.fillna(0)]),
        texttemplate="%{label}<br>%{value:,}",
        hovertemplate=(f"%{{label}}<br>%{{value:,}} customers (%{{customdata[0]:.1f}} %)"
                       f"<br>Spent so far {currency_prefix(currency)}%{{customdata[1]:,.0f}}"
                       "<extra></extra>"),
        marker={"colors": PALETTE * (len(segments) // len(PALETTE) + 1)},
        sort=False, tiling={"pad": 2},
    ))
    fig = style(fig, height=380)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0})
    return fig


def rfm_heatmap(matrix: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Recency score down, frequency score across, coloured by mean spend so far; the
    number in each cell is its customer count."""
    if matrix.empty:
        return empty_figure("No RFM scores in this run")
    monetary = matrix.pivot(index="r_score", columns="f_score", values="monetary").sort_index(ascending=False)
    counts = matrix.pivot(index="r_score", columns="f_score", values="customers").reindex_like(monetary)
    prefix = currency_prefix(currency)
    fig = go.Figure(go.Heatmap(
        z=monetary.to_numpy(dtype=float), x=[f"F{f}" for f in monetary.columns],
        y=[f"R{r}" for r in monetary.index], colorscale=SEQUENTIAL,
        text=counts.to_numpy(), texttemplate="%{text:,}", customdata=counts.to_numpy(),
        hovertemplate=(f"%{{y}} %{{x}}<br>%{{customdata:,}} customers<br>Mean spend {prefix}"
                       "%{z:,.0f}<extra></extra>"),
        colorbar={"title": {"text": "Mean spend"}, "tickprefix": prefix, "thickness": 12},
    ))
    fig.update_xaxes(title_text="Frequency score (5 = most orders)", side="bottom")
    fig.update_yaxes(title_text="Recency score (5 = most recent)")
    return style(fig)


def k_curves(curves: pd.DataFrame, chosen_k: int | None = None) -> go.Figure:
    """Silhouette (higher is better) and inertia (the elbow) over k, the chosen k marked."""
    if curves.empty:
        return empty_figure("No clustering curves in this run")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curves["k"], y=curves["silhouette"], name="Silhouette",
                             mode="lines+markers", marker_color=PALETTE[0],
                             hovertemplate="k = %{x}<br>silhouette %{y:.3f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=curves["k"], y=curves["inertia"], name="Inertia (elbow)",
                             mode="lines+markers", marker_color=PALETTE[1], yaxis="y2",
                             hovertemplate="k = %{x}<br>inertia %{y:,.0f}<extra></extra>"))
    if chosen_k is not None:
        fig.add_vline(x=chosen_k, line_dash="dot", line_color="#6c757d")
        fig.add_annotation(x=chosen_k, y=1, yref="paper", text=f"chosen k = {chosen_k}",
                           showarrow=False, xanchor="left", yanchor="top")
    fig.update_layout(yaxis={"title": {"text": "Silhouette"}},
                      yaxis2={"title": {"text": "Inertia"}, "overlaying": "y", "side": "right",
                              "showgrid": False, "tickformat": "~s"})
    fig.update_xaxes(title_text="Number of clusters k", dtick=1)
    return style(fig, legend=True)


def _persona_traces(fig: go.Figure, sample: pd.DataFrame, x: str, y: str, hover: str,
                    shift: float = 0.0, meta: tuple = ()) -> None:
    """One trace per persona; SVG markers, not WebGL: the sample is at most 2,000 points,
    and WebGL traces need `unsafe-eval`, which the CSP refuses. Uploaded text reaches the
    hover through `meta` (%{meta[0]} is the persona), never through the template itself."""
    for position, (persona, group) in enumerate(sample.groupby("persona", sort=True)):
        name = chart_text(persona)
        fig.add_trace(go.Scatter(
            x=group[x] + shift, y=group[y], mode="markers", name=name, meta=[name, *meta],
            marker={"size": 5, "opacity": 0.6, "color": PALETTE[position % len(PALETTE)]},
            hovertemplate=f"%{{meta[0]}}<br>{hover}<extra></extra>", customdata=group[x],
        ))


def _skewed(values: pd.Series) -> bool:
    values = pd.to_numeric(values, errors="coerce").dropna()
    if not len(values) or values.min() <= 0:
        return False
    return float(values.quantile(0.99)) > LOG_SPREAD * float(values.median())


def persona_scatter(sample: pd.DataFrame, currency: str = "USD", axes=None) -> go.Figure:
    """A random sample of customers, one colour per persona. Transactions: orders against
    spend so far (log axes, since both are heavily skewed). A customer table: the two
    `axes` columns the personas were told apart by, log axes where a column is skewed."""
    axes = tuple(axes or SCATTER_FEATURES)
    if sample.empty or not set(axes) <= set(sample):
        return empty_figure("No personas in this run")
    fig = go.Figure()
    if axes == SCATTER_FEATURES:
        sample = sample.assign(total_spend=sample["total_spend"].clip(lower=1))
        _persona_traces(fig, sample, *axes, shift=1, hover=(
            f"%{{customdata:,}} repeat purchases<br>{currency_prefix(currency)}%{{y:,.0f}} spent"))
        fig.update_xaxes(type="log", title_text="Repeat purchases + 1 (log)")
        fig.update_yaxes(type="log", title_text="Spend so far (log)",
                         tickprefix=currency_prefix(currency))
        return style(fig, height=380, legend=True)
    x, y = axes
    labels = {column: chart_text(feature_label(column)) for column in axes}
    _persona_traces(fig, sample, x, y, meta=(labels[x], labels[y]),
                    hover="%{meta[1]}: %{x:,.4~g}<br>%{meta[2]}: %{y:,.4~g}")
    for update, column in ((fig.update_xaxes, x), (fig.update_yaxes, y)):
        log = _skewed(sample[column])
        update(type="log" if log else "linear",
               title_text=labels[column] + (" (log)" if log else ""))
    return style(fig, height=380, legend=True)


def cohort_heatmap(cohorts: pd.DataFrame) -> go.Figure:
    """Share of each monthly acquisition cohort buying again k months later."""
    if cohorts.empty:
        return empty_figure("No purchase history in this run")
    later = cohorts[cohorts["period"] > 0]
    if later.empty:
        return empty_figure("Not enough months of history for cohorts")
    table = later.pivot(index="cohort", columns="period", values="retention").sort_index(ascending=False)
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["size"].reindex(table.index)
    labels = [f"{month(c)} ({int(n):,})" for c, n in zip(table.index, sizes, strict=True)]
    fig = go.Figure(go.Heatmap(
        z=table.to_numpy(dtype=float) * 100, x=table.columns.astype(int), y=labels,
        colorscale=SEQUENTIAL, zmin=0, hoverongaps=False,
        hovertemplate="%{y}<br>month %{x}: %{z:.1f} % bought<extra></extra>",
        colorbar={"title": {"text": "%"}, "thickness": 12},
    ))
    fig.update_xaxes(title_text="Months after the first purchase", dtick=3)
    fig.update_yaxes(title_text=None, tickfont={"size": 10})
    return style(fig, height=max(320, 16 * len(table) + 80))

"""Churn charts: today's risk distribution, and from the champion's backtest the
reliability curve and the precision–recall trade-off behind the threshold slider.

The report keeps the backtest as a reliability table (customers and observed churn rate
per tenth of predicted probability), not per-customer scores. Flagging everyone at or
above a bin's lower edge flags exactly the customers of that bin and the bins above it,
so precision and recall are exact at every tenth; the slider moves in tenths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import PALETTE, empty_figure, style
from dashboard.figures.overview import histogram_figure


def precision_recall_points(reliability: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and share flagged in the backtest when customers with predicted
    churn probability ≥ `threshold` are flagged, one row per bin edge."""
    if reliability.empty:
        return pd.DataFrame(columns=["threshold", "precision", "recall", "flagged_share"])
    table = reliability.sort_values("lower")
    counts = table["count"].to_numpy(dtype=float)
    churners = counts * table["observed_rate"].fillna(0).to_numpy(dtype=float)
    flagged = counts[::-1].cumsum()[::-1]
    caught = churners[::-1].cumsum()[::-1]
    total, positives = counts.sum(), churners.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, caught / flagged, np.nan)
        recall = caught / positives if positives > 0 else np.full_like(caught, np.nan)
    return pd.DataFrame({
        "threshold": table["lower"].round(6).to_numpy(), "precision": precision,
        "recall": recall, "flagged_share": flagged / total if total else np.nan,
    })


def at_threshold(points: pd.DataFrame, threshold: float) -> dict:
    """The backtest's precision and recall at the bin edge at or just below `threshold`."""
    usable = points[points["threshold"] <= threshold + 1e-9]
    if usable.empty:
        return {"precision": None, "recall": None}
    row = usable.iloc[-1]
    return {key: (None if pd.isna(row[key]) else float(row[key])) for key in ("precision", "recall")}


def risk_distribution(bins: pd.DataFrame, threshold: float | None = None) -> go.Figure:
    """Customers by predicted churn probability, the flagging threshold as a line."""
    fig = histogram_figure(bins, "Predicted probability of no purchase in the horizon",
                           color=PALETTE[3])
    if bins.empty:
        return fig
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash", line_color="#212529")
        fig.add_annotation(x=threshold, y=1, yref="paper", text="at risk →", showarrow=False,
                           xanchor="left", yanchor="top")
    return fig


def reliability_curve(reliability: pd.DataFrame) -> go.Figure:
    """Predicted vs observed churn rate per probability bin; the diagonal is perfect."""
    table = reliability.dropna(subset=["mean_predicted", "observed_rate"]) if not reliability.empty else reliability
    if table.empty:
        return empty_figure("No churn backtest for this run")
    fig = go.Figure([
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated",
                   line={"dash": "dot", "color": "#adb5bd"}, hoverinfo="skip"),
        go.Scatter(x=table["mean_predicted"], y=table["observed_rate"], mode="lines+markers",
                   name="Model", marker={"color": PALETTE[3], "size": 8},
                   customdata=table["count"],
                   hovertemplate=("predicted %{x:.0%}<br>observed %{y:.0%}<br>"
                                  "%{customdata:,} customers<extra></extra>")),
    ])
    fig.update_xaxes(title_text="Predicted churn probability", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text="Observed churn rate", tickformat=".0%", range=[0, 1])
    return style(fig, legend=True)


def precision_recall_curve(points: pd.DataFrame, threshold: float | None = None) -> go.Figure:
    """Precision against recall over thresholds, the chosen one marked."""
    table = points.dropna(subset=["precision", "recall"]) if not points.empty else points
    if table.empty:
        return empty_figure("No churn backtest for this run")
    fig = go.Figure(go.Scatter(
        x=table["recall"], y=table["precision"], mode="lines+markers", name="Thresholds",
        marker={"color": PALETTE[0]}, customdata=table["threshold"],
        hovertemplate="threshold %{customdata:.0%}<br>recall %{x:.0%}<br>precision %{y:.0%}<extra></extra>",
    ))
    if threshold is not None:
        chosen = at_threshold(points, threshold)
        if chosen["precision"] is not None and chosen["recall"] is not None:
            fig.add_trace(go.Scatter(
                x=[chosen["recall"]], y=[chosen["precision"]], mode="markers",
                name="Chosen threshold", marker={"color": PALETTE[3], "size": 14, "symbol": "star"},
                hovertemplate="chosen<br>recall %{x:.0%}<br>precision %{y:.0%}<extra></extra>"))
    fig.update_xaxes(title_text="Recall (churners caught)", tickformat=".0%", range=[0, 1.02])
    fig.update_yaxes(title_text="Precision (flagged who churned)", tickformat=".0%", range=[0, 1.02])
    return style(fig, legend=True)

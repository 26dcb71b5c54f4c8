"""Customer-value charts and the model comparison: CLV by segment, decile calibration
of the backtest, and every candidate's metrics in plain words."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import PALETTE, empty_figure, money_axis, style
from dashboard.components.formatting import currency_prefix, money, number, percent
from dashboard.labels import candidate_label

# (metric, plain name, what it means, how to write it); `money` columns take the currency.
METRICS = {
    "clv": [
        ("normalized_gini", "Ranking quality (Gini)",
         "How well the model orders customers by future spend; 1 is perfect, 0 is random.",
         "ratio"),
        ("spearman", "Rank correlation",
         "Agreement between predicted and actual order of customers (-1 to 1).", "ratio"),
        ("top_decile_capture", "Top-10 % capture",
         "Share of next-period revenue that came from the 10 % the model ranked highest.",
         "percent"),
        ("total_ratio", "Total predicted ÷ actual",
         "1.00 means the model got the total revenue right; below 1 it underestimates.",
         "ratio"),
        ("total_log_error", "Typical miss of the total",
         "How far the total was off, over or under; 0.10 is about a 10 % miss.", "ratio"),
        ("mae", "Mean absolute error", "Average miss per customer.", "money"),
        ("rmse", "Root mean squared error", "Average miss, with big misses weighted more.",
         "money"),
        ("r2", "R²", "Share of the variation in spend the model explains (1 is perfect).",
         "ratio"),
    ],
    "churn": [
        ("roc_auc", "ROC AUC",
         "Chance a random churner is ranked riskier than a random stayer (0.5 is a coin).",
         "ratio"),
        ("pr_auc", "PR AUC", "Average precision over all thresholds; higher is better.",
         "ratio"),
        ("brier", "Brier score",
         "Mean squared error of the probabilities; lower means better calibrated.", "ratio"),
        ("precision", "Precision", "Of the customers flagged, the share that did churn.",
         "percent"),
        ("recall", "Recall", "Of the customers who churned, the share that was flagged.",
         "percent"),
        ("f1", "F1", "Balance of precision and recall at the chosen threshold.", "ratio"),
        ("lift_at_10", "Lift in the top 10 %",
         "How many times the churn rate of the riskiest 10 % exceeds the average.", "times"),
    ],
}


def _write(value, how: str, currency: str) -> str:
    if how == "percent":
        return percent(value)
    if how == "money":
        return money(value, currency)
    if how == "times":
        return "–" if value is None else f"{number(value, 2)}×"
    return number(value, 3)


def mean_backtest(model: dict) -> tuple[dict, int]:
    """Each candidate's metrics as the champion rule saw them: the means over the rolling
    origins (with how many there were), or the single backtest of an older report."""
    summary = model.get("summary") or {}
    if not summary:
        return model.get("backtest") or {}, 1
    means = {name: {metric: values.get("mean") for metric, values in metrics.items()}
             for name, metrics in summary.items()}
    origins = max((values.get("origins") or 0 for metrics in summary.values()
                   for values in metrics.values()), default=1)
    return means, origins


def comparison_table(backtest: dict, champion: str | None, task: str, currency: str = "USD"
                     ) -> pd.DataFrame:
    """One row per metric, one column per candidate (champion first, marked ★), and a last
    column saying what the metric means."""
    names = sorted(backtest, key=lambda name: (name != champion, name))
    columns = {}
    for name in names:
        title = candidate_label(task, name) + (" ★ in use" if name == champion else "")
        columns[title] = [_write(backtest[name].get(metric), how, currency)
                          for metric, _, _, how in METRICS[task]]
    table = pd.DataFrame({"Metric": [plain for _, plain, _, _ in METRICS[task]], **columns})
    table["What it means"] = [meaning for _, _, meaning, _ in METRICS[task]]
    return table


def clv_by_segment(segments: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Predicted spend per segment: the total as bars, the average per customer in hover."""
    if segments.empty or "clv" not in segments:
        return empty_figure("No predictions in this run")
    ordered = segments.sort_values("clv", ascending=True)
    prefix = currency_prefix(currency)
    fig = go.Figure(go.Bar(
        x=ordered["clv"], y=ordered["segment"], orientation="h", marker_color=PALETTE[2],
        customdata=ordered[["average_clv", "customers"]].to_numpy(),
        hovertemplate=(f"%{{y}}<br>Total {prefix}%{{x:,.0f}}<br>Per customer {prefix}"
                       "%{customdata[0]:,.2f}<br>%{customdata[1]:,} customers<extra></extra>"),
    ))
    fig.update_xaxes(title_text="Predicted spend, all customers of the segment")
    return money_axis(style(fig), currency, axis="x")


def decile_calibration(deciles: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Mean predicted vs mean actual spend per predicted-value decile (1 = highest) in
    the backtest's test window: bars that match mean a well-calibrated model."""
    if deciles.empty:
        return empty_figure("No backtest for this run")
    labels = [f"D{int(d)}" for d in deciles["decile"]]
    prefix = currency_prefix(currency)
    fig = go.Figure([
        go.Bar(x=labels, y=deciles["mean_predicted"], name="Predicted", marker_color=PALETTE[0],
               hovertemplate=f"%{{x}} predicted {prefix}%{{y:,.2f}}<extra></extra>"),
        go.Bar(x=labels, y=deciles["mean_actual"], name="Actual", marker_color=PALETTE[1],
               hovertemplate=f"%{{x}} actual {prefix}%{{y:,.2f}}<extra></extra>"),
    ])
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="Customers by predicted value, deciles (D1 = top 10 %)")
    return money_axis(style(fig, legend=True), currency)

"""One customer's explanations: the SHAP waterfall and the sentence a marketer reads.

An explanation is `{"base_value", "contributions": {feature: value}, "output"}` in the
space its model names (money or log-spend for CLV, log-odds for churn): the base value
plus every contribution is the output. A log-spend CLV explanation is shown in money
(`in_money`). The waterfall shows the largest contributions and folds the
rest into one bar, so the bars still add up to the output.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from dashboard.components.formatting import money, number, percent

MAX_BARS = 8
UP = "#c0392b"
DOWN = "#2471a3"

# How a feature's value reads in a sentence; `{}` is the formatted value.
FEATURE_PHRASES = {
    "n_orders": ("{} orders", "count"),
    "frequency": ("{} repeat purchase days", "count"),
    "days_since_last": ("{} days since the last purchase", "count"),
    "recency": ("{} days between the first and the last purchase", "count"),
    "T": ("{} days as a customer", "count"),
    "tenure": ("{} days as a customer", "count"),
    "total_spend": ("{} spent in total", "money"),
    "spend_90": ("{} spent in the last 90 days", "money"),
    "spend_180": ("{} spent in the last 180 days", "money"),
    "monetary_value": ("an average repeat purchase of {}", "money"),
    "avg_order_value": ("an average order of {}", "money"),
    "ipt_mean": ("a purchase every {} days on average", "count"),
    "ipt_std": ("purchase gaps varying by {} days", "count"),
    "trend": ("a spending trend of {}", "signed"),
    "return_share": ("{} of spend returned", "share"),
    "n_categories": ("{} product categories", "count"),
    "n_channels": ("{} sales channels", "count"),
    "btyd_value": ("a purchase-pattern forecast of {}", "money"),
    "btyd_purchases": ("{} purchases expected from the purchase pattern", "decimal"),
    "btyd_p_alive": ("a {} chance of still being active", "share"),
    "btyd_avg_spend": ("an expected spend per purchase of {}", "money"),
    "btyd_p_inactive": ("a {} chance of no purchase in the horizon", "share"),
}
# Bar labels of the waterfall; other features read as their name.
FEATURE_LABELS = {
    "n_orders": "Orders", "frequency": "Repeat purchase days",
    "days_since_last": "Days since last purchase", "recency": "Days first to last purchase",
    "T": "Days since first purchase", "tenure": "Days as a customer", "total_spend": "Total spend",
    "spend_90": "Spend, last 90 days", "spend_180": "Spend, last 180 days",
    "monetary_value": "Average repeat purchase", "avg_order_value": "Average order",
    "ipt_mean": "Days between purchases", "ipt_std": "Spread of purchase gaps",
    "trend": "Spending trend", "return_share": "Share returned",
    "n_categories": "Product categories", "n_channels": "Sales channels",
    "btyd_value": "Purchase-pattern forecast", "btyd_purchases": "Expected purchases",
    "btyd_p_alive": "Chance still active", "btyd_avg_spend": "Expected spend per purchase",
    "btyd_p_inactive": "Chance of no purchase",
}
SUBJECTS = {"clv": "Predicted value", "churn": "Churn risk", "regression": "Prediction"}


def ranked_contributions(explanation: dict, max_bars: int = MAX_BARS) -> list[tuple[str, float]]:
    """The largest contributions by size, the rest summed as "other features"."""
    items = [(str(name), float(value)) for name, value in
             (explanation.get("contributions") or {}).items()
             if value is not None and not math.isnan(float(value))]
    items.sort(key=lambda item: abs(item[1]), reverse=True)
    if len(items) <= max_bars:
        return items
    rest = sum(value for _, value in items[max_bars - 1:])
    return items[:max_bars - 1] + [(f"{len(items) - max_bars + 1} other features", rest)]


def in_money(explanation: dict) -> dict:
    """A CLV explanation in log-spend restated in money, as a marketer reads it: the base
    and the output become amounts, and the change between them is shared out in
    proportion to each feature's log contribution. Signs are kept and the bars still add
    up to the prediction. Explanations in any other space are returned as they are."""
    if explanation.get("space") != "log-spend":
        return explanation
    contributions = {name: float(value) for name, value in
                     (explanation.get("contributions") or {}).items()
                     if value is not None and not math.isnan(float(value))}
    base = float(explanation.get("base_value") or 0.0)
    total = sum(contributions.values())
    base_money, output_money = math.exp(base), math.exp(base + total)
    # Money moved per unit of log contribution; at a zero total its limit, the slope.
    factor = output_money if math.isclose(total, 0.0, abs_tol=1e-12) else (
        (output_money - base_money) / total)
    return {**explanation, "space": "spend", "base_value": base_money, "output": output_money,
            "contributions": {name: value * factor for name, value in contributions.items()}}


def feature_label(feature: str) -> str:
    """A feature's name as a reader knows it: "days_since_last" → "Days since last purchase"."""
    return FEATURE_LABELS.get(feature) or feature.replace("_", " ").capitalize()


def _short(value: float, value_format: str) -> str:
    """A bar's number in a d3 format that Python reads the same way ("+,.0f" → "+233")."""
    return format(value, value_format).replace("-", "−")


def waterfall_figure(explanation: dict, title: str = "", value_format: str = ",.2f") -> go.Figure:
    """A horizontal waterfall from the base value through each contribution to the output.

    The numbers on the bars are written here rather than by a Plotly text template, so
    they come out short ("+233", "−0.86") whatever the trace type supports."""
    bars = ranked_contributions(explanation)
    base = float(explanation.get("base_value") or 0.0)
    output = explanation.get("output")
    output = float(output) if output is not None else base + sum(v for _, v in bars)
    labels = ["Average customer", *[feature_label(name) for name, _ in bars], "This customer"]
    plain = value_format.lstrip("+")
    text = [_short(base, plain), *[_short(value, "+" + plain) for _, value in bars],
            _short(output, plain)]
    running = [base]
    for _, value in bars:
        running.append(running[-1] + value)
    low, high = min(0.0, *running, output), max(0.0, *running, output)
    pad = (high - low) * 0.18 or 1.0
    figure = go.Figure(go.Waterfall(
        orientation="h",
        y=labels,
        x=[base, *[value for _, value in bars], output],
        measure=["absolute", *["relative"] * len(bars), "total"],
        increasing={"marker": {"color": UP}},
        decreasing={"marker": {"color": DOWN}},
        totals={"marker": {"color": "#7f8c8d"}},
        text=text,
        textposition="outside",
        cliponaxis=False,
        hovertemplate=f"%{{y}}: %{{x:{value_format}}}<extra></extra>",
        connector={"line": {"color": "rgba(127,127,127,0.4)"}},
    ))
    figure.update_layout(
        title=title or None, showlegend=False, height=120 + 32 * len(labels),
        margin={"l": 10, "r": 20, "t": 40 if title else 10, "b": 30},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"color": "#7f8c9a"},
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"gridcolor": "rgba(127,127,127,0.2)", "zeroline": True,
               "zerolinecolor": "rgba(127,127,127,0.5)", "range": [low - pad, high + pad],
               "tickformat": plain},
    )
    return figure


def feature_phrase(feature: str, value, currency: str = "USD") -> str:
    """"14 orders", "$1,200 spent in total"; an unknown feature reads "age of 42"."""
    template, style = FEATURE_PHRASES.get(feature, (None, None))
    if template is None:
        shown = value if isinstance(value, str) else number(value, digits=2 if _fraction(value) else 0)
        return f"{feature.replace('_', ' ')} of {shown}"
    if style == "money":
        shown = money(value, currency)
    elif style == "share":
        shown = percent(value, digits=0)
    elif style == "signed":
        shown = f"{float(value) * 100:+.0f} %"
    elif style == "decimal":
        shown = number(value, digits=1)
    else:
        shown = number(value)
    return template.format(shown)


def _fraction(value) -> bool:
    try:
        return float(value) != round(float(value))
    except (TypeError, ValueError):
        return False


def explanation_sentence(kind: str, explanation: dict, features: dict,
                         currency: str = "USD") -> str:
    """Why the model's number for this customer is high or low, in one sentence:
    "Predicted value is high mainly because of 14 orders and $1,200 spent in total."."""
    subject = SUBJECTS.get(kind, "Prediction")
    base = float(explanation.get("base_value") or 0.0)
    contributions = {name: float(value) for name, value in
                     (explanation.get("contributions") or {}).items()}
    output = explanation.get("output")
    output = float(output) if output is not None else base + sum(contributions.values())
    if not contributions or math.isclose(output, base):
        return f"{subject} is about average: no single feature stands out."
    higher = output > base
    drivers = sorted((item for item in contributions.items() if (item[1] > 0) == higher),
                     key=lambda item: abs(item[1]), reverse=True)
    level = "high" if higher else "low"
    if not drivers:
        return f"{subject} is {level}."
    # A second reason only when it weighs at least half as much as the first.
    shown = [name for name, value in drivers[:2] if abs(value) >= abs(drivers[0][1]) / 2]
    reasons = [feature_phrase(name, features.get(name), currency) for name in shown]
    return f"{subject} is {level} mainly because of {' and '.join(reasons)}."

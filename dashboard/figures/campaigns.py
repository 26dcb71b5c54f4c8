"""Campaign planning: expected incremental revenue and ROI of contacting whole segments.

For each chosen group (RFM segment or persona) of n customers whose predicted spend in
the horizon totals V:

    cost                 = n × cost per contact
    incremental revenue  = V × uplift          (uplift: the relative lift in spend expected
                                                 from the campaign, e.g. 0.05 for 5 %)
    incremental profit   = incremental revenue × margin
    net return           = incremental profit − cost
    ROI                  = net return ÷ cost

A group is worth contacting when its ROI is above 0; groups rank by net return."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import PALETTE, empty_figure, money_axis, style
from dashboard.components.formatting import currency_prefix

PLAN_COLUMNS = ["segment", "customers", "predicted_revenue", "cost", "incremental_revenue",
                "incremental_profit", "net_return", "roi"]


def campaign_plan(groups: pd.DataFrame, chosen: list[str] | None, cost_per_contact: float,
                  uplift: float, margin: float) -> pd.DataFrame:
    """The plan for the `chosen` groups (all when None), best net return first."""
    if groups.empty or "clv" not in groups:
        return pd.DataFrame(columns=PLAN_COLUMNS)
    table = groups if chosen is None else groups[groups["segment"].isin(chosen)]
    cost_per_contact, uplift, margin = (max(float(x or 0), 0.0) for x in (cost_per_contact, uplift, margin))
    plan = pd.DataFrame({"segment": table["segment"], "customers": table["customers"],
                         "predicted_revenue": table["clv"]})
    plan["cost"] = plan["customers"] * cost_per_contact
    plan["incremental_revenue"] = plan["predicted_revenue"] * uplift
    plan["incremental_profit"] = plan["incremental_revenue"] * margin
    plan["net_return"] = plan["incremental_profit"] - plan["cost"]
    with np.errstate(divide="ignore", invalid="ignore"):
        plan["roi"] = np.where(plan["cost"] > 0, plan["net_return"] / plan["cost"].where(plan["cost"] > 0), np.nan)
    return plan.sort_values("net_return", ascending=False).reset_index(drop=True)


def plan_totals(plan: pd.DataFrame) -> dict:
    cost = float(plan["cost"].sum())
    net = float(plan["net_return"].sum())
    return {"customers": int(plan["customers"].sum()), "cost": cost,
            "incremental_revenue": float(plan["incremental_revenue"].sum()),
            "net_return": net, "roi": net / cost if cost > 0 else None}


def roi_chart(plan: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Net return per group, best first; red where the campaign would lose money."""
    if plan.empty:
        return empty_figure("Choose at least one group")
    prefix = currency_prefix(currency)
    colours = [PALETTE[2] if value >= 0 else PALETTE[3] for value in plan["net_return"]]
    roi = plan["roi"].fillna(0) * 100
    fig = go.Figure(go.Bar(
        x=plan["net_return"], y=plan["segment"], orientation="h", marker_color=colours,
        customdata=np.column_stack([plan["incremental_revenue"], plan["cost"], roi]),
        hovertemplate=(f"%{{y}}<br>Net return {prefix}%{{x:,.0f}}<br>Incremental revenue "
                       f"{prefix}%{{customdata[0]:,.0f}}<br>Cost {prefix}%{{customdata[1]:,.0f}}"
                       "<br>ROI %{customdata[2]:.0f} %<extra></extra>"),
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Net return (incremental profit − cost)")
    return money_axis(style(fig, height=max(240, 36 * len(plan) + 80)), currency, axis="x")

"""Overview charts: revenue per month, the RFM segment mix and the CLV distribution."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components.charts import PALETTE, empty_figure, money_axis, style
from dashboard.components.formatting import currency_prefix, money, number, percent, signed_percent


def revenue_over_time(months: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Bars of net revenue per month (`month` "2024-01", `revenue`), with buyers per month
    in the hover."""
    if months.empty:
        return empty_figure("No purchases in this run")
    customdata = months["customers"] if "customers" in months else None
    fig = go.Figure(go.Bar(
        x=pd.to_datetime(months["month"]), y=months["revenue"], marker_color=PALETTE[0],
        customdata=customdata, name="Revenue",
        hovertemplate=(f"%{{x|%b %Y}}<br>Revenue {currency_prefix(currency)}%{{y:,.0f}}"
                       + ("<br>%{customdata:,} buyers" if customdata is not None else "")
                       + "<extra></extra>"),
    ))
    fig.update_xaxes(tickformat="%b %Y")
    return money_axis(style(fig), currency)


def segment_mix(segments: pd.DataFrame) -> go.Figure:
    """Customers per RFM segment (or persona), largest value segment on top."""
    if segments.empty:
        return empty_figure("No segments in this run")
    fig = go.Figure(go.Bar(
        x=segments["customers"], y=segments["segment"], orientation="h",
        marker_color=PALETTE[0], customdata=segments["share"] * 100,
        hovertemplate="%{y}<br>%{x:,} customers (%{customdata:.1f} %)<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text="Customers")
    return style(fig)


def histogram_figure(bins: pd.DataFrame, x_title: str, currency: str | None = None,
                     color: str = PALETTE[0]) -> go.Figure:
    """Bars from pre-counted bins (`lower`, `upper`, `customers`); the last bin also holds
    every value above it."""
    if bins.empty:
        return empty_figure()
    centres = (bins["lower"] + bins["upper"]) / 2
    widths = bins["upper"] - bins["lower"]
    prefix = currency_prefix(currency) if currency else ""
    fig = go.Figure(go.Bar(
        x=centres, y=bins["customers"], width=widths, marker_color=color,
        marker_line_width=0.5, marker_line_color="white",
        customdata=bins[["lower", "upper"]].to_numpy(),
        hovertemplate=(f"{prefix}%{{customdata[0]:,.2f}} – {prefix}%{{customdata[1]:,.2f}}"
                       "<br>%{y:,} customers<extra></extra>"),
    ))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text="Customers")
    style(fig)
    return money_axis(fig, currency, axis="x") if currency else fig


def clv_distribution(bins: pd.DataFrame, currency: str = "USD", horizon_days: int = 180
                     ) -> go.Figure:
    return histogram_figure(bins, f"Predicted spend in the next {horizon_days} days", currency)


def kpi_items(kpis: dict, currency: str = "USD", previous: dict | None = None
              ) -> list[tuple[str, str, str | None]]:
    """(label, value, change since the previous run) for each KPI the run has."""
    horizon = kpis.get("horizon_days", 180)
    wanted = [
        ("customers", "Customers", lambda v: number(v)),
        ("revenue_12m", "Revenue, last 12 months", lambda v: money(v, currency, short=True)),
        ("active_customers", f"Active (bought in {horizon} days)", lambda v: number(v)),
        ("predicted_revenue", f"Predicted revenue, next {horizon} days",
         lambda v: money(v, currency, short=True)),
        ("churn_risk_share", "At churn risk", lambda v: percent(v)),
        ("average_clv", "Average CLV", lambda v: money(v, currency)),
    ]
    items = []
    for key, label, write in wanted:
        if kpis.get(key) is None:
            continue
        items.append((label, write(kpis[key]), change_note(key, kpis, previous)))
    return items


def change_note(key: str, kpis: dict, previous: dict | None) -> str | None:
    if not previous or previous.get(key) is None or kpis.get(key) is None:
        return None
    before, now = float(previous[key]), float(kpis[key])
    if key == "churn_risk_share":
        return f"{(now - before) * 100:+.1f} pts since the last run"
    if before == 0:
        return None
    return f"{signed_percent(now / before - 1)} since the last run"


def changes(kpis: dict, previous: dict | None, currency: str = "USD") -> list[str]:
    """Sentences saying how the KPIs moved since the previous run."""
    if not previous:
        return []
    lines = []
    for label, _value, note in kpi_items(kpis, currency, previous):
        if note:
            lines.append(f"{label}: {note.replace(' since the last run', '')}")
    return lines


def overview_figures(aggregates: dict, currency: str, horizon_days: int
                     ) -> list[tuple[str, go.Figure]]:
    """The overview's charts with their titles (for the page and the offline report)."""
    segments = pd.DataFrame(aggregates.get("segment_mix") or aggregates.get("persona_mix") or [])
    charts = []
    if aggregates.get("revenue_by_month"):
        charts.append(("Revenue per month",
                       revenue_over_time(pd.DataFrame(aggregates["revenue_by_month"]), currency)))
    charts.append(("Customers per segment" if aggregates.get("segment_mix") else "Customers per persona",
                   segment_mix(segments)))
    if aggregates.get("clv_histogram"):
        charts.append((f"Predicted spend per customer, next {horizon_days} days",
                       clv_distribution(pd.DataFrame(aggregates["clv_histogram"]), currency,
                                        horizon_days)))
    return charts

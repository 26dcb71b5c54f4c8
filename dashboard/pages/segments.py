"""Segments: RFM segments with the action for each, the R × F heatmap, k-means personas
and monthly acquisition-cohort retention."""

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.aggregates import aggregate, scatter_sample
from dashboard.components.cards import chart_card, empty_state, page_header, text_table, two_columns
from dashboard.components.charts import graph
from dashboard.components.formatting import money, number, percent
from dashboard.components.live import page_data, run_cached
from dashboard.figures import segments as figures

dash.register_page(__name__, path="/segments", name="Segments", title="Segments · ValueLens",
                   order=1)


def segment_table(segments: pd.DataFrame, currency: str) -> pd.DataFrame:
    return pd.DataFrame({
        "Segment": segments["segment"],
        "Customers": segments["customers"].map(number),
        "Share": segments["share"].map(percent),
        "Average CLV": segments["average_clv"].map(lambda v: money(v, currency))
        if "average_clv" in segments else "–",
        "Recommended action": segments.get("action", pd.Series("", index=segments.index)),
    })


def profile_table(profiles: list[dict], currency: str) -> pd.DataFrame:
    frame = pd.DataFrame(profiles)
    if frame.empty:
        return frame
    shown = pd.DataFrame({"Persona": frame["persona"], "Customers": frame["size"].map(number),
                          "Share": frame["share"].map(percent)})
    for column in frame.columns.difference(["cluster", "persona", "size", "share"], sort=False):
        values = frame[column]
        is_money = "spend" in column or "value" in column
        shown[column.replace("_", " ").capitalize()] = values.map(
            lambda v, m=is_money: money(v, currency) if m else number(v, 1))
    return shown


def _rfm_section(page):
    segments = pd.DataFrame(aggregate("segment_mix", page.data))
    if segments.empty:
        return []
    return [
        two_columns(chart_card("RFM segments", graph(figures.segment_treemap(segments, page.currency),
                                                     "segments-treemap"),
                               "Tile size: number of customers"),
                    chart_card("Recency × frequency", graph(
                        figures.rfm_heatmap(pd.DataFrame(aggregate("rfm_matrix", page.data)),
                                            page.currency), "segments-rfm-heatmap"),
                        "Colour: mean spend so far; number: customers")),
        chart_card("What to do with each segment",
                   text_table(segment_table(segments, page.currency), "segments-table")),
    ]


def persona_sample(page) -> tuple[list[str], pd.DataFrame]:
    """The persona scatter's two columns and its sample (drawn afresh for a customer-table
    run stored before its sample had the table's own columns)."""
    axes = aggregate("scatter_axes", page.data)
    sample = aggregate("scatter_sample", page.data)
    if axes and not sample:
        sample = scatter_sample(page.data.customers, axes=axes)
    return axes, pd.DataFrame(sample)


def _persona_section(page):
    report = page.data.report.get("segmentation", {})
    curves = pd.DataFrame(report.get("curves") or {})
    profiles = profile_table(report.get("profiles") or [], page.currency)
    silhouette = report.get("silhouette")
    note = (f"{report.get('k', '?')} personas from k-means; silhouette {number(silhouette, 2)}"
            if silhouette is not None else None)
    axes, sample = persona_sample(page)
    scatter_note = "Up to 2,000 customers drawn at random"
    if page.kind == "customers" and axes:
        clustered = set(report.get("columns") or [])
        scatter_note += ("; the two columns that tell the personas apart best"
                         if set(axes) <= clustered else "; the personas' column and the prediction")
    return [
        chart_card("Personas", text_table(profiles, "personas-table"), note),
        two_columns(
            chart_card("Choosing the number of personas", graph(
                figures.k_curves(curves, report.get("k")), "personas-curves"),
                "Higher silhouette = better separated; the elbow is where inertia stops falling fast"),
            chart_card("Personas in a sample of customers", graph(
                figures.persona_scatter(sample, page.currency, axes), "personas-scatter"),
                scatter_note)),
    ]


def layout(**_query):
    page = page_data()
    header = page_header("Segments", "Who your customers are and what to do with each group")
    if page is None:
        return html.Div([header, empty_state()])
    return html.Div([header, _sections(page)])


@run_cached
def _sections(page):
    cohorts = pd.DataFrame(aggregate("cohort_retention", page.data))
    sections = _rfm_section(page) + _persona_section(page)
    if not cohorts.empty:
        sections.append(chart_card("Retention by acquisition month", graph(
            figures.cohort_heatmap(cohorts), "segments-cohorts"),
            "Share of each month's new customers who bought again k months later"))
    return dbc.Container(sections, fluid=True, className="px-0")

"""Customer value: the predicted CLV distribution and by segment, the champion's decile
calibration in the backtest, and every candidate model compared in plain words."""

import dash
import pandas as pd
from dash import html

from dashboard.aggregates import aggregate
from dashboard.components.cards import chart_card, empty_state, page_header, text_table, two_columns
from dashboard.components.charts import graph
from dashboard.components.live import page_data, run_cached
from dashboard.figures import overview, value
from dashboard.labels import candidate_label

dash.register_page(__name__, path="/value", name="Customer value",
                   title="Customer value · ValueLens", order=2)

NO_HISTORY = ("This analysis came from a customer table without purchase dates, so there is "
              "no spend to forecast. Upload transactions (customer, date, amount) to see "
              "predicted customer value.")


def layout(**_query):
    page = page_data()
    header = page_header("Customer value", "Predicted spend per customer and how far to trust it")
    if page is None:
        return html.Div([header, empty_state()])
    model = page.data.report.get("models", {}).get("clv")
    if page.kind != "transactions" or not model:
        return html.Div([header, empty_state("No value forecast for this data", NO_HISTORY)])
    return html.Div([header, _body(page)])


@run_cached
def _body(page):
    model = page.data.report["models"]["clv"]
    champion = model.get("champion")
    backtest = model.get("backtest") or {}
    deciles = pd.DataFrame((backtest.get(champion) or {}).get("deciles") or [])
    groups = pd.DataFrame(aggregate("segment_mix", page.data) or aggregate("persona_mix", page.data))
    means, origins = value.mean_backtest(model)
    table = value.comparison_table(means, champion, "clv", page.currency)
    compared = ("How the candidate models compared" if origins <= 1 else
                f"How the candidate models compared: means over {origins} backtest periods")
    return html.Div([
        two_columns(
            chart_card(f"Predicted spend, next {page.horizon} days", graph(
                overview.clv_distribution(pd.DataFrame(aggregate("clv_histogram", page.data)),
                                          page.currency, page.horizon), "value-distribution")),
            chart_card("Predicted spend by segment", graph(
                value.clv_by_segment(groups, page.currency), "value-by-segment"))),
        chart_card("Predicted vs actual in the backtest", graph(
            value.decile_calibration(deciles, page.currency), "value-calibration"),
            f"Model in use: {candidate_label('clv', champion or '')}. Customers ranked by "
            "predicted value in an earlier period, then compared with what they really spent."),
        chart_card(compared, html.Div([
            text_table(table, "value-models"),
            html.P(model.get("champion_rule") or "", className="text-muted small mt-2 mb-0"),
        ])),
    ])

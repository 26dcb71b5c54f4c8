"""What drives the target of a customer table: how much each column moves the prediction
and in which direction (from the SHAP values), how well the target is predicted
(cross-validation), and which columns the leakage guard left out.

The column effects come from the explanations, which the explain step adds to the run's
aggregates before the run goes live. A run stored without them (made before that order)
builds them from its stored explanations, or, when it has none, shows the rest and says
the effects are on their way."""

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.aggregates import aggregate
from dashboard.components.cards import chart_card, empty_state, page_header, two_columns
from dashboard.components.charts import graph
from dashboard.components.jobs import WIDE_ONLY
from dashboard.components.live import page_data, run_cached
from dashboard.figures import drivers as figures
from dashboard.runs import EXPLANATIONS_FILE, read_frame
from dashboard.schema import Run
from dashboard.store import current_store

dash.register_page(__name__, path="/drivers", name="Drivers", title="Drivers · ValueLens",
                   order=2)

NOT_A_TABLE = ("This page explains a customer table: one row per customer with a number to "
               "predict, such as next year's spend. The current analysis came from "
               "transactions; each customer's page names the reasons behind their predicted "
               "value and churn risk.")
PENDING = ("How much each column moves the prediction shows once the explanations are "
           "computed, the last step of the analysis. Open this page again in a moment.")


def layout(**_query):
    page = page_data()
    if page is None:
        return html.Div([page_header("What drives your target"), empty_state()])
    if page.kind != "customers":
        return html.Div([page_header("What drives your target"),
                         empty_state("Drivers are shown for customer tables", NOT_A_TABLE)])
    regression = figures.regression_report(page.data.report)
    header = page_header(f"What drives {figures.target_label(regression)}",
                         "Which columns move the prediction, how well it is predicted, and "
                         "which columns were left out")
    return html.Div([header, _explained(page) or _body(page, [])])


def word_table(frame: pd.DataFrame, table_id: str, detail: str | None = None,
               wide_only=(), numbers=()) -> html.Div:
    """A table of text that fits a phone: the `detail` column in small print under the
    first column, the `wide_only` columns left out below 768 px, long names wrapped and
    the `numbers` columns kept on one line."""
    shown = [c for c in frame.columns if c != detail]
    classes = {c: " ".join(filter(None, (WIDE_ONLY if c in wide_only else "",
                                         "text-nowrap" if c in numbers else ""))) or None
               for c in shown}
    head = html.Thead(html.Tr([html.Th(c, className=WIDE_ONLY if c in wide_only else None)
                               for c in shown]))
    rows = []
    for record in frame.to_dict(orient="records"):
        cells = []
        for position, column in enumerate(shown):
            text = [html.Div(str(record[column]), className="text-break")]
            if position == 0 and detail:
                text.append(html.Div(str(record[detail]), className="text-muted small"))
            cells.append(html.Td(text, className=classes[column]))
        rows.append(html.Tr(cells))
    return html.Div(dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, className="mb-0"),
                    id=table_id)


def _stored_explanations(page) -> pd.DataFrame | None:
    """The run's SHAP values once the explain step is done (None before)."""
    store = current_store()
    run = store.get(Run, page.data.run_id)
    return read_frame(store, run, EXPLANATIONS_FILE) if run.explained_at else None


@run_cached
def _explained(page):
    drivers = aggregate("drivers", page.data, lambda: _stored_explanations(page))
    return _body(page, drivers) if drivers else None


def _body(page, drivers: list[dict]) -> html.Div:
    regression = figures.regression_report(page.data.report)
    target = figures.target_label(regression)
    table = pd.DataFrame(drivers)
    if table.empty:
        effects = [chart_card("What moves the prediction",
                              html.P(PENDING, className="text-muted mb-0"),
                              card_id="drivers-pending")]
    else:
        effects = [
            two_columns(
                chart_card("What moves the prediction", graph(
                    figures.importance_chart(table), "drivers-importance"),
                    "Average size of each column's effect on a customer's prediction, in "
                    f"the unit of {target}. Red: higher values raise it; blue: lower it; grey: "
                    "text, or no single direction"),
                chart_card("Higher value, higher or lower prediction?", graph(
                    figures.direction_chart(table), "drivers-direction"),
                    "Correlation of each number column's value with its effect: +1 always "
                    "raises the prediction, −1 always lowers it")),
            chart_card("Every column in words",
                       word_table(figures.drivers_table(table), "drivers-table",
                                  wide_only=("Average effect",),
                                  numbers=("Share of all effects", "Average effect"))),
        ]
    metrics = figures.metrics_table(regression)
    return html.Div([
        *effects,
        two_columns(
            chart_card(f"How well {target} is predicted", html.Div([
                html.P(figures.metrics_summary(regression), className="mb-2",
                       id="drivers-summary"),
                word_table(metrics, "drivers-metrics", detail="What it means",
                           numbers=("Model", figures.BASELINE))
                if not metrics.empty else None,
            ])),
            chart_card("Columns left out", html.Ul(
                [html.Li(line) for line in figures.leakage_lines(regression)],
                className="mb-0", id="drivers-leakage"),
                "Found by the leakage guard before the model was trained")),
    ])

"""What drives a customer table's target, in figures and words: the importance and
direction charts, the cross-validation and the leakage guard's findings as sentences,
where the page is linked, and a chart for each case with nothing to draw."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from dashboard.aggregates import feature_drivers
from dashboard.components.live import linked, pages_for, run_cached
from dashboard.figures import drivers, segments
from dashboard.figures.customer import DOWN, UP
from tests.unit.test_table_aggregates import REPORT, _table


def _frame():
    return pd.DataFrame(feature_drivers(_table()))


def test_the_importance_chart_puts_the_biggest_effect_on_top_coloured_by_direction():
    fig = drivers.importance_chart(_frame())
    bar = fig.data[0]
    assert bar.orientation == "h" and list(bar.y)[-1] == "Income"
    assert list(bar.marker.color)[-1] == UP
    assert dict(zip(bar.y, bar.marker.color, strict=True))["Age"] == DOWN
    assert fig.layout.xaxis.title.text == "Average effect on the prediction"


def test_the_direction_chart_shows_numeric_columns_from_minus_one_to_one():
    fig = drivers.direction_chart(_frame())
    assert set(fig.data[0].y) == {"Income", "Age", "Noise"}
    assert tuple(fig.layout.xaxis.range) == (-1.05, 1.05)


@pytest.mark.parametrize("build", [
    lambda: drivers.importance_chart(pd.DataFrame()),
    lambda: drivers.direction_chart(pd.DataFrame()),
    lambda: drivers.direction_chart(_frame()[_frame()["kind"] == "text"]),
])
def test_without_anything_to_draw_the_chart_says_why(build):
    fig = build()
    assert not fig.data and fig.layout.annotations[0].text


def test_each_column_gets_its_direction_in_words():
    table = drivers.drivers_table(_frame())
    words = dict(zip(table["Column"].str.lower(), table["Direction"], strict=True))
    assert list(table["Column"][:2]) == ["Income", "Age"]
    assert words["income"].startswith("Higher values raise the prediction (correlation 1.00")
    assert words["age"].startswith("Higher values lower the prediction (correlation −1.00")
    assert words["region"] == "Highest for “North”, lowest for “South”"
    assert words["noise"].startswith("No single direction")
    assert drivers.direction_text({"kind": "number", "correlation": None}) == "Too little variation to tell"
    assert drivers.drivers_table(pd.DataFrame()).empty


def test_the_regression_report_is_found_in_a_workers_run_and_in_the_offline_report():
    worker = {"models": {"regression": {**REPORT["regression"], "leakage": REPORT["leakage"]}}}
    assert drivers.regression_report(worker) == drivers.regression_report(REPORT)
    assert drivers.regression_report(REPORT)["leakage"] == REPORT["leakage"]
    assert drivers.regression_report(None) == {}
    assert drivers.target_label(drivers.regression_report(REPORT)) == "spend"


def test_the_cross_validation_reads_in_plain_words_with_one_line_per_metric():
    regression = drivers.regression_report(REPORT)
    table = drivers.metrics_table(regression)
    assert list(table["Metric"]) == ["R² (share explained)", "Mean absolute error",
                                     "Root mean squared error"]
    assert list(table["Model"]) == ["0.420", "8.00", "12.00"]
    assert list(table[drivers.BASELINE]) == ["-0.010", "10.00", "16.00"]
    assert all(line.strip() for line in table["What it means"])
    summary = drivers.metrics_summary(regression)
    assert summary.startswith("Checked by 5-fold cross-validation")
    assert "explains 42 % of the differences in spend" in summary
    assert "20 % less than always guessing the average (10.00)" in summary


def test_a_run_without_cross_validation_says_so():
    assert drivers.metrics_table({}).empty
    assert drivers.metrics_summary({}) == "This run has no cross-validation results."
    bad = {"target": "spend", "cross_validation": {"model": {"mean": {"r2": -0.2}}}}
    assert "no better than always guessing the average" in drivers.metrics_summary(bad)


def test_the_leakage_guards_findings_read_as_sentences():
    lines = drivers.leakage_lines(drivers.regression_report(REPORT))
    assert lines[0] == ("Column “spend_copy” was left out: it is almost the same as “spend” "
                        "(correlation 0.99), so it is most likely computed from it and would "
                        "not be known in advance.")
    assert lines[1] == "3 rows without a spend value were left out."
    ranked = drivers.leakage_lines({"target": "spend", "excluded": [], "leakage": [
        {"feature": "rank", "pearson": -0.6, "spearman": -0.97}]})
    assert ranked == ["Column “rank” was kept although it ranks customers in almost the "
                      "reverse order of “spend” (rank correlation −0.97): check that it is "
                      "known before spend is."]


def test_without_findings_the_guard_says_nothing_was_left_out():
    lines = drivers.leakage_lines({"target": "spend", "leakage": []})
    assert lines == ["No column was left out: none follows “spend” so closely (correlation "
                     "0.95 or more) that it would give the answer away."]


def test_uploaded_names_reach_the_charts_as_text_not_markup():
    hostile = '<a href="https://evil.example">x</a>'
    assert segments.chart_text(hostile) == "&lt;a href=\"https://evil.example\"&gt;x&lt;/a&gt;"
    frame = pd.DataFrame([{"feature": hostile, "importance": 1.0, "share": 1.0, "kind": "number",
                           "correlation": 0.9, "highest": None, "lowest": None}])
    assert "<a" not in drivers.importance_chart(frame).data[0].y[0]
    sample = pd.DataFrame({"age": [1.0, 2.0], "income": [3.0, 4.0], "persona": [hostile, "b"]})
    fig = segments.persona_scatter(sample, axes=["age", "income"])
    assert all("<a" not in trace.name and "<a" not in trace.meta[0] for trace in fig.data)


def test_a_model_that_misses_like_the_average_says_so():
    regression = {"target": "spend", "cross_validation": {
        "model": {"mean": {"r2": 0.0, "mae": 10.04}}, "baseline": {"mean": {"mae": 10.0}}}}
    assert "misses by 10.04 on average, about as much as always guessing the average (10.00)" in (
        drivers.metrics_summary(regression))


# --- where the page is linked, and its cache -----------------------------------------

def test_the_drivers_page_is_linked_for_customer_tables_only():
    assert "/drivers" in pages_for("customers") and "/drivers" not in pages_for("transactions")
    assert linked("/drivers", "customers") and not linked("/drivers", "transactions")
    assert not linked("/drivers", None) and linked("/value", None)
    assert not linked("/churn", "customers") and linked("/customers", "customers")


def test_a_page_body_that_is_not_ready_is_built_again_next_time():
    answers = iter([None, "ready", "never asked"])

    @run_cached
    def body(_page):
        return next(answers)

    page = SimpleNamespace(data=SimpleNamespace(tenant_id="t", run_id="r"), currency="USD")
    assert body(page) is None
    assert body(page) == "ready" and body(page) == "ready"

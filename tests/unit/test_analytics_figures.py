"""Every analytics figure from a small table, without a browser: the right traces with
the right numbers, and a figure that says so when there is nothing to draw."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.figures import campaigns, churn, overview, segments, value
from dashboard.report_html import build_report

SEGMENTS = pd.DataFrame({"segment": ["Champions", "Lost"], "customers": [10, 30],
                         "share": [0.25, 0.75], "revenue": [900.0, 100.0], "clv": [500.0, 20.0],
                         "average_clv": [50.0, 0.67], "action": ["Reward", "Let go"]})
RELIABILITY = pd.DataFrame({"lower": [0.0, 0.5], "upper": [0.5, 1.0], "count": [60, 40],
                            "mean_predicted": [0.2, 0.8], "observed_rate": [0.1, 0.75]})


def _annotation(fig):
    return fig.layout.annotations[0].text if fig.layout.annotations else None


@pytest.mark.parametrize("build", [
    lambda empty: overview.revenue_over_time(empty), lambda empty: overview.segment_mix(empty),
    lambda empty: overview.clv_distribution(empty), lambda empty: segments.segment_treemap(empty),
    lambda empty: segments.rfm_heatmap(empty), lambda empty: segments.k_curves(empty),
    lambda empty: segments.persona_scatter(empty), lambda empty: segments.cohort_heatmap(empty),
    lambda empty: value.clv_by_segment(empty), lambda empty: value.decile_calibration(empty),
    lambda empty: churn.reliability_curve(empty), lambda empty: churn.risk_distribution(empty),
    lambda empty: churn.precision_recall_curve(churn.precision_recall_points(empty)),
    lambda empty: campaigns.roi_chart(empty),
])
def test_an_empty_table_gives_a_chart_that_says_why(build):
    fig = build(pd.DataFrame())
    assert not fig.data and _annotation(fig)


def test_revenue_over_time_has_one_bar_per_month_in_the_currency():
    months = pd.DataFrame({"month": ["2024-01", "2024-02"], "revenue": [10.0, 20.0],
                           "customers": [1, 2]})
    fig = overview.revenue_over_time(months, "EUR")
    assert list(fig.data[0].y) == [10.0, 20.0] and fig.layout.yaxis.tickprefix == "€"


def test_segment_mix_and_treemap_show_every_segment():
    assert list(overview.segment_mix(SEGMENTS).data[0].y) == ["Champions", "Lost"]
    tree = segments.segment_treemap(SEGMENTS)
    assert list(tree.data[0].labels) == ["Champions", "Lost"] and list(tree.data[0].values) == [10, 30]


def test_rfm_heatmap_puts_recency_5_on_top_with_counts():
    matrix = pd.DataFrame([{"r_score": r, "f_score": f, "customers": r * f, "monetary": float(r)}
                           for r in range(1, 6) for f in range(1, 6)])
    fig = segments.rfm_heatmap(matrix)
    assert list(fig.data[0].y)[0] == "R5" and fig.data[0].text[0][4] == 25


def test_k_curves_mark_the_chosen_k():
    curves = pd.DataFrame({"k": [2, 3, 4], "inertia": [9.0, 5.0, 4.0], "silhouette": [0.2, 0.4, 0.3]})
    fig = segments.k_curves(curves, chosen_k=3)
    assert len(fig.data) == 2 and "k = 3" in _annotation(fig)


def test_cohort_heatmap_leaves_out_the_first_month():
    cohorts = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "period": [0, 1, 0],
                            "size": [4, 4, 2], "retention": [1.0, 0.5, 1.0]})
    fig = segments.cohort_heatmap(cohorts)
    assert list(fig.data[0].x) == [1] and fig.data[0].z[-1][0] == pytest.approx(50.0)


def test_persona_scatter_has_one_trace_per_persona():
    sample = pd.DataFrame({"frequency": [0, 3, 5], "total_spend": [10, 200, 300],
                           "persona": ["A", "B", "B"]})
    traces = segments.persona_scatter(sample).data
    assert [trace.name for trace in traces] == ["A", "B"]
    assert {trace.type for trace in traces} == {"scatter"}  # no WebGL under the CSP


def test_decile_calibration_pairs_predicted_and_actual():
    deciles = pd.DataFrame({"decile": [1, 2], "mean_predicted": [100.0, 10.0],
                            "mean_actual": [90.0, 12.0]})
    fig = value.decile_calibration(deciles)
    assert [t.name for t in fig.data] == ["Predicted", "Actual"] and list(fig.data[1].y) == [90.0, 12.0]


def test_the_model_table_marks_the_champion_first_and_explains_each_metric():
    backtest = {"past_spend": {"normalized_gini": 0.5}, "btyd": {"normalized_gini": 0.71, "mae": 12.0}}
    table = value.comparison_table(backtest, "btyd", "clv", "GBP")
    assert table.columns[1].endswith("★ in use") and "past spend" in table.columns[2]
    gini = table[table["Metric"] == "Ranking quality (Gini)"].iloc[0]
    assert gini.iloc[1] == "0.710" and gini["What it means"].startswith("How well")
    assert table[table["Metric"] == "Mean absolute error"].iloc[0].iloc[1] == "£12.00"


def test_the_model_table_shows_the_means_the_champion_rule_used():
    model = {"backtest": {"xgboost": {"total_ratio": 1.12}, "btyd": {"total_ratio": 0.99}},
             "summary": {"xgboost": {"total_ratio": {"mean": 1.04, "std": 0.08, "origins": 2},
                                     "total_log_error": {"mean": 0.079, "std": 0.03, "origins": 2}},
                         "btyd": {"total_ratio": {"mean": 0.90, "std": 0.09, "origins": 2},
                                  "total_log_error": {"mean": 0.112, "std": 0.1, "origins": 2}}}}
    means, origins = value.mean_backtest(model)
    assert origins == 2 and means["xgboost"]["total_ratio"] == 1.04
    table = value.comparison_table(means, "xgboost", "clv")
    miss = table[table["Metric"] == "Typical miss of the total"].iloc[0]
    assert (miss.iloc[1], miss.iloc[2]) == ("0.079", "0.112")
    # An older report has only the one backtest window.
    assert value.mean_backtest({"backtest": model["backtest"]}) == (model["backtest"], 1)


def test_precision_and_recall_follow_from_the_reliability_bins():
    points = churn.precision_recall_points(RELIABILITY)
    # 6 + 30 churners; flagging the upper bin catches 30 of 36 among 40 flagged.
    upper = churn.at_threshold(points, 0.6)
    assert upper["precision"] == pytest.approx(0.75) and upper["recall"] == pytest.approx(30 / 36)
    everyone = churn.at_threshold(points, 0.0)
    assert everyone["recall"] == pytest.approx(1.0) and everyone["precision"] == pytest.approx(0.36)
    fig = churn.precision_recall_curve(points, 0.5)
    assert fig.data[-1].name == "Chosen threshold"


def test_reliability_curve_has_the_diagonal_and_the_model():
    fig = churn.reliability_curve(RELIABILITY)
    assert list(fig.data[1].y) == [0.1, 0.75]


def test_the_campaign_plan_ranks_by_net_return():
    plan = campaigns.campaign_plan(SEGMENTS, None, cost_per_contact=1, uplift=0.1, margin=0.5)
    assert plan["segment"].tolist() == ["Champions", "Lost"]
    champions = plan.iloc[0]
    assert champions["incremental_revenue"] == pytest.approx(50.0)
    assert champions["net_return"] == pytest.approx(15.0) and champions["roi"] == pytest.approx(1.5)
    assert plan.iloc[1]["net_return"] == pytest.approx(-29.0)
    assert campaigns.plan_totals(plan)["cost"] == 40.0
    only = campaigns.campaign_plan(SEGMENTS, ["Lost"], 0, 0.1, 0.5)
    assert only["segment"].tolist() == ["Lost"] and pd.isna(only["roi"].iloc[0])


def test_kpis_and_changes_since_the_previous_run():
    kpis = {"customers": 1100, "revenue_12m": 2_000_000.0, "churn_risk_share": 0.25, "horizon_days": 90}
    items = overview.kpi_items(kpis, "USD", {"customers": 1000, "churn_risk_share": 0.2})
    assert items[0] == ("Customers", "1,100", "+10.0 % since the last run")
    assert items[1] == ("Revenue, last 12 months", "$2M", None)
    assert overview.changes(kpis, {"churn_risk_share": 0.2}) == ["At churn risk: +5.0 pts"]


def test_the_offline_report_embeds_plotly_once_and_escapes_text():
    charts = [("Revenue", overview.revenue_over_time(pd.DataFrame(
        {"month": ["2024-01"], "revenue": [1.0], "customers": [1]}))),
        ("Segments", overview.segment_mix(SEGMENTS))]
    text = build_report("<script>alert(1)</script> Ltd", [("Customers", "10", None)], charts)
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert text.count("plotly.js v") == 1
    assert "<script src=" not in text

"""Pre-aggregated figures: JSON-safe, and each table says what the raw data says."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashboard.aggregates import aggregate, build_aggregates, cohort_retention, histogram


def _transactions():
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "a"],
        "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20", "2024-03-01",
                                "2024-02-15", "2024-03-20"]),
        "amount": [10.0, 20.0, 5.0, 7.0, 100.0, -3.0],
    })


def _customers():
    return pd.DataFrame({
        "customer_id": ["a", "b", "c"], "frequency": [2.0, 1.0, 0.0],
        "days_since_last": [10.0, 29.0, 45.0], "total_spend": [27.0, 12.0, 100.0],
        "r_score": [5, 3, 1], "f_score": [5, 3, 1], "m_score": [3, 1, 5],
        "rfm_segment": pd.Categorical(["Champions", "Loyal", "Lost"]),
        "action": ["Reward", "Upsell", "Reactivate"], "persona": ["P1", "P1", "P2"],
        "clv": [50.0, np.nan, 10.0], "churn_probability": [0.1, 0.6, 0.9],
    })


REPORT = {"models": {"churn": {"threshold": 0.5}}}


def test_the_aggregates_are_json_without_nan():
    result = build_aggregates(_customers(), _transactions(), REPORT, horizon_days=30)
    json.dumps(result, allow_nan=False)


def test_kpis_count_revenue_activity_and_risk():
    kpis = build_aggregates(_customers(), _transactions(), REPORT, horizon_days=30)["kpis"]
    assert kpis["customers"] == 3
    assert kpis["revenue_12m"] == pytest.approx(139.0)
    assert kpis["active_customers"] == 2
    assert kpis["predicted_revenue"] == pytest.approx(60.0)
    assert kpis["churn_risk_share"] == pytest.approx(2 / 3)
    assert kpis["last_date"].startswith("2024-03-20")


def test_revenue_by_month_is_net_of_returns_with_buyers():
    months = build_aggregates(_customers(), _transactions(), REPORT, 30)["revenue_by_month"]
    assert months == [{"month": "2024-01", "revenue": 15.0, "customers": 2},
                      {"month": "2024-02", "revenue": 120.0, "customers": 2},
                      {"month": "2024-03", "revenue": 4.0, "customers": 2}]


def test_segment_mix_follows_the_value_order_with_actions():
    mix = build_aggregates(_customers(), _transactions(), REPORT, 30)["segment_mix"]
    assert [row["segment"] for row in mix] == ["Champions", "Loyal", "Lost"]
    assert mix[0]["action"] == "Reward" and mix[0]["share"] == pytest.approx(1 / 3)


def test_the_rfm_matrix_has_all_25_cells():
    matrix = build_aggregates(_customers(), _transactions(), REPORT, 30)["rfm_matrix"]
    assert len(matrix) == 25
    cell = next(row for row in matrix if row["r_score"] == 5 and row["f_score"] == 5)
    assert cell == {"r_score": 5, "f_score": 5, "customers": 1, "monetary": 27.0}
    empty = next(row for row in matrix if row["r_score"] == 2 and row["f_score"] == 4)
    assert empty["customers"] == 0 and empty["monetary"] is None


def test_cohort_retention_counts_returning_buyers_per_month():
    rows = cohort_retention(_transactions())
    table = {(row["cohort"], row["period"]): row["retention"] for row in rows}
    # January cohort: a and b; a buys in Feb and Mar, b in Mar.
    assert table[("2024-01", 0)] == 1.0
    assert table[("2024-01", 1)] == 0.5
    assert table[("2024-01", 2)] == 1.0
    assert ("2024-02", 0) in table and ("2024-02", 1) not in table


def test_the_histogram_puts_outliers_in_the_last_bin():
    bins = histogram(pd.Series([1.0] * 99 + [1_000_000.0]), bins=10, upper_quantile=0.99)
    assert sum(row["customers"] for row in bins) == 100
    assert bins[-1]["upper"] < 1_000_000


def test_a_customer_table_run_has_personas_and_no_purchase_figures():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "age": [30.0, 40.0],
                              "persona": ["Young", "Older"]})
    result = build_aggregates(customers, None, {}, 180)
    assert result["revenue_by_month"] == [] and result["segment_mix"] == []
    assert {row["segment"] for row in result["persona_mix"]} == {"Young", "Older"}
    assert result["kpis"] == {"customers": 2, "horizon_days": 180}


class _Run:
    def __init__(self, aggregates):
        self.customers, self.report, self.horizon_days = _customers(), REPORT, 30
        self.aggregates = aggregates


def test_a_key_missing_from_the_stored_aggregates_is_built_from_customers():
    run = _Run({"segment_mix": [{"segment": "stored"}]})
    assert aggregate("segment_mix", run) == [{"segment": "stored"}]
    assert len(aggregate("rfm_matrix", run)) == 25
    assert aggregate("kpis", run)["customers"] == 3
    assert aggregate("revenue_by_month", run) == []

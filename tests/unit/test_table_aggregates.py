"""A customer table's aggregates: what drives its prediction, from the SHAP values, and
the persona scatter on the table's own columns, each with an answer when there is
nothing to show."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dashboard.aggregates import (
    SCATTER_FEATURES,
    aggregate,
    build_aggregates,
    explained_aggregates,
    feature_drivers,
    scatter_axes,
    scatter_sample,
    separation,
)
from dashboard.figures import segments


def _table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """A scored customer table with SHAP columns: `income` raises the prediction, `age`
    lowers it, `region` North more than South, `noise` barely matters."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 10, rows)
    age = rng.normal(40, 8, rows)
    region = np.where(np.arange(rows) % 2 == 0, "North", "South")
    return pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(rows)],
        "income": income, "age": age, "region": region,
        "noise": rng.normal(0, 1, rows),
        "spend": income * 3, "predicted_spend": income * 3 - age,
        "persona": np.where(income > 50, "High income", "Low income"),
        "shap_regression__income": (income - 50) * 3,
        "shap_regression__age": -(age - 40),
        "shap_regression__region": np.where(region == "North", 5.0, -5.0),
        "shap_regression__noise": rng.normal(0, 0.01, rows),
    })


REPORT = {"kind": "customers",
          "segmentation": {"columns": ["age", "income", "noise"]},
          "regression": {"target": "spend", "features": ["income", "age", "region", "noise"],
                         "excluded": ["spend_copy"], "notes": ["3 rows without a spend value were left out."],
                         "cross_validation": {
                             "model": {"folds": [{"fold": 1}] * 5,
                                       "mean": {"r2": 0.42, "rmse": 12.0, "mae": 8.0}},
                             "baseline": {"folds": [{"fold": 1}] * 5,
                                          "mean": {"r2": -0.01, "rmse": 16.0, "mae": 10.0}}}},
          "leakage": [{"feature": "spend_copy", "pearson": 0.993, "spearman": 0.99}]}


def _by_feature(rows: list[dict]) -> dict:
    return {row["feature"]: row for row in rows}


# --- the drivers aggregate ------------------------------------------------------------

def test_drivers_rank_columns_by_mean_absolute_shap_with_their_share():
    table = _table()
    rows = feature_drivers(table)
    assert [row["feature"] for row in rows][:1] == ["income"] and rows[-1]["feature"] == "noise"
    income = _by_feature(rows)["income"]
    assert income["importance"] == pytest.approx(table["shap_regression__income"].abs().mean())
    assert sum(row["share"] for row in rows) == pytest.approx(1.0)
    json.dumps(rows, allow_nan=False)


def test_the_direction_is_the_correlation_of_value_and_effect_or_the_text_extremes():
    rows = _by_feature(feature_drivers(_table()))
    assert rows["income"]["correlation"] == pytest.approx(1.0)
    assert rows["age"]["correlation"] == pytest.approx(-1.0)
    region = rows["region"]
    assert region["kind"] == "text" and region["correlation"] is None
    assert (region["highest"], region["lowest"]) == ("North", "South")


def test_contributions_from_the_explanations_file_are_matched_on_customer_id():
    table = _table()
    shap = [c for c in table.columns if c.startswith("shap_")]
    values = table.drop(columns=shap)
    # The explanations file is sorted by id and may come in any order.
    contributions = table[["customer_id", *shap]].sample(frac=1.0, random_state=1)
    rows = _by_feature(explained_aggregates(values, contributions)["drivers"])
    assert rows["income"]["correlation"] == pytest.approx(1.0)
    assert rows["age"]["correlation"] == pytest.approx(-1.0)


def test_a_constant_column_has_no_direction_and_without_shap_there_are_no_drivers():
    table = _table().assign(income=1.0)
    assert _by_feature(feature_drivers(table))["income"]["correlation"] is None
    assert feature_drivers(_table().filter(regex="^(?!shap_)")) == []


def _run(aggregates, customers=None, report=None):
    return SimpleNamespace(aggregates=aggregates, customers=customers if customers is not None else _table(),
                           report=report or REPORT, horizon_days=180)


def test_stored_drivers_win_and_a_run_without_them_is_built_from_its_explanations():
    stored = [{"feature": "stored"}]
    assert aggregate("drivers", _run({"drivers": stored}), explanations=lambda: 1 / 0) == stored

    table = _table()
    shap = [c for c in table.columns if c.startswith("shap_")]
    run = _run({}, customers=table.drop(columns=shap))
    calls = []

    def read():
        calls.append(1)
        return table[["customer_id", *shap]]

    built = aggregate("drivers", run, explanations=read)
    assert calls == [1] and built[0]["feature"] == "income"


def test_before_the_explain_step_a_run_without_shap_has_no_drivers_yet():
    table = _table()
    run = _run({}, customers=table.drop(columns=[c for c in table if c.startswith("shap_")]))
    assert aggregate("drivers", run, explanations=lambda: None) == []
    assert "drivers" not in build_aggregates(run.customers, None, REPORT, 180)


# --- the persona scatter of a customer table ------------------------------------------

def test_the_scatter_of_a_customer_table_plots_the_columns_that_separate_personas_best():
    table = _table()
    assert separation(table["income"], table["persona"]) > separation(table["age"], table["persona"])
    assert scatter_axes(table, REPORT)[0] == "income"
    result = build_aggregates(table, None, REPORT, 180)
    assert result["scatter_axes"] == scatter_axes(table, REPORT)
    assert set(result["scatter_sample"][0]) == {*result["scatter_axes"], "persona"}
    assert len(result["scatter_sample"]) == len(table)


def test_transactions_keep_orders_and_spend_and_without_two_columns_there_is_no_scatter():
    table = _table().assign(frequency=1.0, total_spend=2.0)
    assert scatter_axes(table, {"kind": "transactions"}) == list(SCATTER_FEATURES)
    assert scatter_axes(table, REPORT)[0] == "income"  # a table's own columns, whatever their names
    one = {"segmentation": {"columns": ["age"]}}
    assert scatter_axes(_table(), one) == ["age", "predicted_spend"]
    assert scatter_axes(_table().drop(columns="predicted_spend"), one) == []
    assert scatter_axes(_table().drop(columns="persona"), REPORT) == []
    assert scatter_sample(_table(), axes=[]) == []
    assert separation(pd.Series([1.0, 1.0]), pd.Series(["a", "b"])) == 0.0


def test_a_run_stored_without_scatter_axes_gets_them_from_its_report():
    assert aggregate("scatter_axes", _run({}))[0] == "income"
    assert set(aggregate("scatter_sample", _run({}))[0]) >= {"income", "persona"}


def test_the_persona_scatter_of_a_customer_table_names_its_axes_and_logs_skewed_ones():
    sample = pd.DataFrame({"annual_income": [1.0, 2.0, 3.0, 2.0, 5000.0] * 40,
                           "age": [20.0, 30.0, 40.0, 50.0, 60.0] * 40,
                           "persona": ["a", "b", "a", "b", "a"] * 40})
    fig = segments.persona_scatter(sample, axes=["annual_income", "age"])
    assert [trace.name for trace in fig.data] == ["a", "b"]
    assert fig.layout.xaxis.title.text == "Annual income (log)" and fig.layout.xaxis.type == "log"
    assert fig.layout.yaxis.title.text == "Age" and fig.layout.yaxis.type == "linear"
    assert {trace.type for trace in fig.data} == {"scatter"}


def test_a_scatter_without_its_columns_says_why():
    fig = segments.persona_scatter(pd.DataFrame({"age": [1.0], "persona": ["a"]}),
                                   axes=["age", "income"])
    assert not fig.data and fig.layout.annotations[0].text == "No personas in this run"

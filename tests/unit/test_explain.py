import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from scipy import special

from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.estimators.clv import PastSpendModel
from models.estimators.clv_boosting import BoostedSpendModel
from models.explain import (
    Explanation,
    exact_shapley,
    explain,
    global_importance,
    tree_contributions,
)
from tests.unit.backtest_window import cutoff_window

SMALL_TREES = {"n_estimators": 40, "max_depth": 3, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def window():
    built = cutoff_window(1500, seed=3)
    return built


def _assert_adds_up(explanation: Explanation, expected_output, space: str):
    assert explanation.space == space
    total = explanation.base_value + explanation.contributions.sum(axis=1)
    np.testing.assert_allclose(total, explanation.output, atol=1e-3)
    np.testing.assert_allclose(explanation.output, expected_output, rtol=1e-5, atol=1e-4)
    assert np.isfinite(explanation.contributions.to_numpy()).all()


def test_tweedie_trees_add_up_in_log_spend(window):
    X = window["frame"][window["columns"]]
    model = BoostedSpendModel(variance_powers=(1.5,), **SMALL_TREES).fit(X, window["spend"])
    explanation = explain(model, X)
    _assert_adds_up(explanation, np.log(model.predict(X)), "log-spend")
    assert explanation.contributions["btyd_value"].abs().sum() > 0


def test_calibrated_classifier_adds_up_in_log_odds(window):
    X = window["frame"][window["columns"]]
    model = BoostedChurnModel(**SMALL_TREES).fit(X, window["churn"])
    explanation = explain(model, X)
    _assert_adds_up(explanation, special.logit(model.predict_proba(X)[:, 1]), "log-odds")


def test_btyd_shapley_values_add_up_in_spend(window):
    X = window["frame"]
    explanation = explain(window["btyd"], X)
    _assert_adds_up(explanation, window["btyd"].predict(X), "spend")
    assert list(explanation.contributions.columns) == [
        "frequency",
        "recency",
        "days_since_last",
        "monetary_value",
    ]
    reference = window["btyd"].reference_.to_frame().T
    assert explanation.base_value == pytest.approx(window["btyd"].predict(reference)[0])


def test_btyd_churn_shapley_values_add_up_in_log_odds(window):
    model = BtydChurnModel(horizon=120).fit(window["frame"], btyd=window["btyd"])
    explanation = explain(model, window["frame"])
    _assert_adds_up(
        explanation, special.logit(model.predict_proba(window["frame"])[:, 1]), "log-odds"
    )


def test_baselines_add_up(window):
    X = window["frame"]
    past = PastSpendModel().fit(X, window["spend"])
    _assert_adds_up(explain(past, X), past.predict(X), "spend")
    recency = RecencyModel().fit(X, window["churn"])
    _assert_adds_up(explain(recency, X), recency.decision_function(X), "log-odds")
    assert recency.slope_ > 0


def test_deduplicated_tree_shap_equals_xgboost_on_every_row():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "visits": rng.poisson(2, 3000).astype(float),
            "spend": np.round(rng.gamma(2, 20, 3000), 0),
            "region": pd.Categorical(rng.choice(["n", "s", "e"], 3000)),
        }
    )
    X.loc[::7, "spend"] = np.nan
    y = X["visits"] * 3 + np.nan_to_num(X["spend"]) / 10 + (X["region"] == "n") * 5
    booster = xgb.train(
        {"tree_method": "hist", "max_depth": 4},
        xgb.DMatrix(X, y, enable_categorical=True),
        num_boost_round=30,
    )
    contributions, base = tree_contributions(booster, X)
    full = booster.predict(xgb.DMatrix(X, enable_categorical=True), pred_contribs=True)
    np.testing.assert_allclose(contributions, full[:, :-1], atol=1e-5)
    assert base == pytest.approx(float(full[0, -1]))


def test_bare_xgboost_classifier_is_explained_in_log_odds():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    y = (X["a"] + rng.normal(size=400) > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, tree_method="hist").fit(X, y)
    explanation = explain(model, X)
    _assert_adds_up(explanation, special.logit(model.predict_proba(X)[:, 1]), "log-odds")
    assert global_importance(explanation).index[0] == "a"


def test_exact_shapley_splits_an_interaction_evenly_and_keeps_additive_parts():
    X = pd.DataFrame({"a": [2.0, 1.0], "b": [3.0, 0.0], "c": [5.0, -1.0]})
    reference = pd.Series({"a": 0.0, "b": 0.0, "c": 1.0})
    base, phi = exact_shapley(lambda f: f["a"] * f["b"] + 4 * f["c"], X, reference)
    assert base == pytest.approx(4.0)
    np.testing.assert_allclose(phi["a"], [3.0, 0.0])
    np.testing.assert_allclose(phi["b"], [3.0, 0.0])
    np.testing.assert_allclose(phi["c"], [16.0, -8.0])


def test_global_importance_is_mean_absolute_contribution():
    contributions = pd.DataFrame({"x": [1.0, -3.0], "y": [0.5, 0.5]})
    explanation = Explanation(0.0, contributions, "spend", contributions.sum(axis=1))
    importance = global_importance(explanation)
    assert list(importance.index) == ["x", "y"]
    assert importance["x"] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        Explanation(0.0, contributions, "dollars", contributions.sum(axis=1))

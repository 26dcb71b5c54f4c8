import json

import numpy as np
import pandas as pd
import pytest

from models.estimators.calibration import ProbabilityMap, level_rate
from models.estimators.churn import RecencyModel, fit_logistic
from models.evaluation.churn import CANDIDATES, run_churn
from models.evaluation.data import BacktestData
from models.evaluation.metrics import best_f1_threshold, classification_metrics
from models.synthetic import generate_customers, generate_transactions

SMALL_TREES = {"n_estimators": 60, "max_depth": 3, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def synthetic():
    transactions = generate_transactions(2500, seed=9, start="2021-01-01", end="2023-12-31")
    attributes = generate_customers(2500, seed=9).set_index("customer_id")
    data = BacktestData(transactions, horizon=180, attributes=attributes)
    result = run_churn(transactions, attributes=attributes, data=data, boosting=SMALL_TREES)
    return transactions, attributes, data, result


def test_every_candidate_is_backtested_with_every_metric(synthetic):
    _, _, data, result = synthetic
    expected = set(classification_metrics([0, 1, 1], [0.2, 0.6, 0.9], 0.5)) | {
        "calibration", "raw_brier", "raw_max_decile_gap", "raw_max_judged_gap",
        "raw_within_tolerance"}
    assert set(result.backtest) == set(CANDIDATES)
    for metrics in result.backtest.values():
        assert set(metrics) == expected
        assert metrics["roc_auc"] > 0.7
        assert metrics["lift_at_10"] > 1.0
    json.dumps(result.to_dict(), allow_nan=False)
    aucs = {name: m["roc_auc"] for name, m in result.backtest.items()}
    assert aucs[result.champion] >= max(aucs.values()) - 0.005


def test_labels_cover_customers_active_before_the_cut_off(synthetic):
    transactions, _, data, result = synthetic
    cutoff = data.windows.test_cutoff
    test = data.features(cutoff)
    before = transactions[(transactions["date"] < cutoff) & (transactions["amount"] > 0)]
    assert set(test.index) == set(before["customer_id"])
    labels = data.churn_target(cutoff, test.index)
    after = transactions[(transactions["date"] >= cutoff) & (transactions["amount"] > 0)]
    stayed = set(after["customer_id"])
    assert labels.sum() == len(set(test.index) - stayed)
    assert result.backtest["recency"]["positive_rate"] == pytest.approx(labels.mean())


def test_thresholds_and_calibration_come_from_the_training_window(synthetic):
    _, _, data, result = synthetic
    train = data.features(data.windows.train_cutoff)
    test = data.features(data.windows.test_cutoff)
    y_train = data.churn_target(data.windows.train_cutoff, train.index)
    baseline = RecencyModel().fit(train, y_train)
    seen = baseline.predict_proba(train)[:, 1]
    choice = result.details["calibration"]["recency"]
    mapping = ProbabilityMap.fit(seen, y_train, choice["method"])
    raw = baseline.predict_proba(test)[:, 1]
    mapping = mapping.with_level(raw, level_rate(choice["level"], raw, test), choice["level"])
    expected = mapping.apply([best_f1_threshold(y_train, seen)])[0]
    assert result.backtest["recency"]["threshold"] == pytest.approx(expected)
    assert result.backtest["recency"]["calibration"].startswith(choice["method"])


def test_final_scores_are_probabilities_explained_in_log_odds(synthetic):
    transactions, _, data, result = synthetic
    final = data.features(data.end)
    predictions = result.predict(final)
    buyers = transactions.loc[transactions["amount"] > 0, "customer_id"].unique()
    assert sorted(predictions.index) == sorted(buyers)
    assert predictions.name == "churn_probability" and predictions.between(0, 1).all()
    assert 0 < result.threshold < 1
    explanation = result.explain(final)
    assert explanation.space == "log-odds"
    np.testing.assert_allclose(1 / (1 + np.exp(-explanation.output)), predictions, atol=1e-9)


def test_backtest_predictions_never_see_the_test_period(synthetic):
    transactions, attributes, data, first = synthetic
    later = transactions["date"] >= data.windows.test_cutoff + pd.Timedelta(days=1)
    quieter = transactions[~later | (np.arange(len(transactions)) % 2 == 0)]
    second = run_churn(quieter, attributes=attributes, boosting=SMALL_TREES)
    assert second.windows == first.windows
    for name in CANDIDATES:
        before, after = first.backtest[name], second.backtest[name]
        assert after["threshold"] == pytest.approx(before["threshold"])
        assert after["positive_rate"] >= before["positive_rate"]


def test_platt_fit_recovers_a_known_logistic():
    rng = np.random.default_rng(4)
    score = rng.normal(0, 2, 20000)
    y = rng.random(20000) < 1 / (1 + np.exp(-(0.5 + 1.5 * score)))
    slope, intercept = fit_logistic(score, y)
    assert slope == pytest.approx(1.5, rel=0.05)
    assert intercept == pytest.approx(0.5, abs=0.08)
    assert fit_logistic(score, np.ones_like(y))[0] == 0.0

import json

import numpy as np
import pytest

from models.evaluation import metrics


def _sorted_gini(actual, predicted):
    """Textbook Gini: cumulative share of actual, ordered by descending prediction."""
    order = np.argsort(-np.asarray(predicted), kind="stable")
    y = np.asarray(actual, dtype=float)[order]
    n = len(y)
    return np.cumsum(y).sum() / y.sum() / n - (n + 1) / (2 * n)


@pytest.fixture
def spend():
    rng = np.random.default_rng(7)
    actual = rng.gamma(0.5, 100.0, size=400) * (rng.random(400) < 0.4)
    predicted = actual * rng.lognormal(0.0, 0.5, size=400) + rng.random(400)
    return actual, predicted


def test_normalized_gini_matches_textbook_definition_without_ties(spend):
    actual, predicted = spend
    expected = _sorted_gini(actual, predicted) / _sorted_gini(actual, actual)
    assert metrics.normalized_gini(actual, predicted) == pytest.approx(expected, rel=1e-9)


def test_normalized_gini_is_one_for_perfect_and_negative_for_reversed_ranking(spend):
    actual, _ = spend
    assert metrics.normalized_gini(actual, actual * 3 + 1) == pytest.approx(1.0)
    assert metrics.normalized_gini(actual, -actual) < -0.5


def test_tied_predictions_do_not_depend_on_row_order():
    actual = np.array([0.0, 10.0, 0.0, 5.0, 0.0, 0.0, 20.0, 0.0, 0.0, 1.0])
    predicted = np.array([0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0])
    flipped = slice(None, None, -1)
    assert metrics.normalized_gini(actual, predicted) == pytest.approx(
        metrics.normalized_gini(actual[flipped], predicted[flipped])
    )
    assert metrics.top_decile_capture(actual, predicted) == pytest.approx(20 / 36)
    constant = np.zeros_like(actual)
    assert metrics.normalized_gini(actual, constant) == pytest.approx(0.0, abs=1e-12)
    assert metrics.top_decile_capture(actual, constant) == pytest.approx(0.1)


def test_top_decile_capture_splits_the_boundary_tie_evenly():
    actual = np.array([100.0] + [10.0] * 19)
    predicted = np.array([5.0, 5.0, 5.0] + [1.0] * 17)
    # two slots, three customers tied at the top: each counts for 2/3
    assert metrics.top_decile_capture(actual, predicted) == pytest.approx((100 + 20) * 2 / 3 / 290)


def test_regression_metrics_are_json_safe_and_complete(spend):
    actual, predicted = spend
    report = metrics.regression_metrics(actual, predicted)
    json.dumps(report, allow_nan=False)
    assert report["total_ratio"] == pytest.approx(predicted.sum() / actual.sum())
    assert report["rmse"] >= report["mae"] > 0
    assert sum(row["count"] for row in report["deciles"]) == len(actual)
    top = report["deciles"][0]
    assert top["mean_predicted"] == pytest.approx(np.sort(predicted)[-40:].mean())
    undefined = metrics.regression_metrics(np.zeros(5), np.arange(5.0))
    json.dumps(undefined, allow_nan=False)
    assert undefined["normalized_gini"] is None and undefined["r2"] is None


def test_r2_is_one_for_exact_predictions_and_zero_for_the_mean(spend):
    actual, _ = spend
    assert metrics.regression_metrics(actual, actual)["r2"] == pytest.approx(1.0)
    mean = np.full_like(actual, actual.mean())
    assert metrics.regression_metrics(actual, mean)["r2"] == pytest.approx(0.0, abs=1e-12)


def test_classification_metrics_on_a_hand_made_case():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1])
    report = metrics.classification_metrics(y, p, threshold=0.5)
    json.dumps(report, allow_nan=False)
    assert report["precision"] == pytest.approx(2 / 3)
    assert report["recall"] == pytest.approx(2 / 3)
    assert report["f1"] == pytest.approx(2 / 3)
    # top 10 % is one customer, a churner, against a 30 % base rate
    assert report["lift_at_10"] == pytest.approx(1 / 0.3)
    assert report["roc_auc"] == pytest.approx(20 / 21)
    assert report["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert sum(row["count"] for row in report["reliability"]) == len(y)
    assert len(report["reliability"]) == 10


def test_best_f1_threshold_finds_the_separating_cut():
    y = np.array([0, 0, 0, 1, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.4, 0.8, 0.9])
    threshold = metrics.best_f1_threshold(y, p)
    assert metrics.precision_recall_f1(y, p, threshold)["f1"] == pytest.approx(1.0)
    assert 0.4 < threshold <= 0.6


def test_reliability_reports_observed_rate_per_bin():
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([0.95, 0.92, 0.91, 0.15, 0.12, 0.11])
    rows = metrics.reliability_table(y, p)
    assert rows[9]["observed_rate"] == pytest.approx(2 / 3)
    assert rows[1]["observed_rate"] == pytest.approx(1 / 3)
    assert rows[5]["count"] == 0 and rows[5]["observed_rate"] is None


def test_single_class_gives_undefined_ranking_metrics():
    y = np.zeros(6, dtype=int)
    p = np.linspace(0, 1, 6)
    report = metrics.classification_metrics(y, p, threshold=0.5)
    assert report["roc_auc"] is None and report["pr_auc"] is None and report["lift_at_10"] is None
    with pytest.raises(ValueError):
        metrics.roc_auc([0, 2], [0.1, 0.2])


def test_a_candidate_without_a_number_for_some_customers_gets_no_scores():
    from models.evaluation.metrics import regression_metrics

    metrics = regression_metrics([1.0, 2.0, 0.0, 5.0], [1.0, float("nan"), 0.5, 4.0])

    assert metrics["not_finite"] == 1
    assert metrics["normalized_gini"] is None and metrics["total_ratio"] is None
    assert metrics["total_actual"] == 8.0

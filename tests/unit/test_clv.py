import json

import numpy as np
import pandas as pd
import pytest

from models.estimators.clv_boosting import LEVELS
from models.evaluation.backtest import run_backtest
from models.evaluation.clv import CANDIDATES, CHAMPION_RULE, ClvBacktest, run_clv
from models.evaluation.data import BacktestData
from models.evaluation.metrics import regression_metrics
from models.evaluation.windows import backtest_windows
from models.features import future_spend, purchased_between
from models.synthetic import generate_customers, generate_transactions
from tests.reference import load_cdnow

SMALL_TREES = {"n_estimators": 60, "max_depth": 3, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def cdnow_result():
    data = BacktestData(load_cdnow(), horizon=180)
    return run_clv(data.transactions, data=data), data.features(data.end)


@pytest.fixture(scope="module")
def synthetic():
    transactions = generate_transactions(2000, seed=8, start="2021-01-01", end="2023-12-31")
    attributes = generate_customers(2000, seed=8).set_index("customer_id")
    return transactions, attributes


def test_cdnow_report_lists_every_candidate_and_a_sound_champion(cdnow_result):
    result, _ = cdnow_result
    metric_names = set(regression_metrics([0.0, 1.0, 2.0], [0.0, 1.0, 3.0]))
    assert set(result.backtest) == set(CANDIDATES)
    for metrics in result.backtest.values():
        assert set(metrics) == metric_names
        assert all(metrics[name] is not None for name in metric_names)
    # The champion is judged on the means over the rolling origins, not one window.
    mean = {name: {m: s["mean"] for m, s in metrics.items()}
            for name, metrics in result.summary.items()}
    champion = mean[result.champion]
    assert champion["normalized_gini"] >= mean["btyd"]["normalized_gini"]
    assert 0.95 <= champion["total_ratio"] <= 1.05
    json.dumps(result.to_dict(), allow_nan=False)


def test_cdnow_windows_and_final_scores(cdnow_result):
    result, final = cdnow_result
    predictions = result.predict(final)
    assert result.windows["test_target"] == ["1998-01-02", "1998-07-01"]
    assert result.windows["train_target"] == ["1997-07-06", "1998-01-02"]
    transactions = load_cdnow()
    buyers = transactions.loc[transactions["amount"] > 0, "customer_id"].unique()
    assert sorted(predictions.index) == sorted(buyers)
    assert predictions.notna().all() and (predictions >= 0).all()
    assert result.notes == []
    explanation = result.explain(final)
    assert list(explanation.contributions.index) == list(predictions.index)


def test_backtest_windows_count_back_from_the_day_after_the_last_date():
    windows = backtest_windows(pd.Timestamp("2024-12-31 18:30"), 90)
    assert windows.end == pd.Timestamp("2025-01-01")
    assert windows.test_cutoff == pd.Timestamp("2024-10-03")
    assert windows.train_cutoff == pd.Timestamp("2024-07-05")


def test_targets_match_the_feature_module_definitions(synthetic):
    transactions, _ = synthetic
    data = BacktestData(transactions, horizon=180)
    cutoff = data.windows.test_cutoff
    index = data.features(cutoff).index
    end = cutoff + pd.Timedelta(days=180)
    spend = future_spend(transactions, cutoff, end).reindex(index, fill_value=0.0)
    np.testing.assert_allclose(data.spend_target(cutoff, index), spend.to_numpy())
    bought = purchased_between(transactions, cutoff, end).reindex(index, fill_value=False)
    np.testing.assert_array_equal(data.churn_target(cutoff, index), 1 - bought.to_numpy(dtype=int))
    past = future_spend(transactions, cutoff - pd.Timedelta(days=180), cutoff).reindex(
        index, fill_value=0.0
    )
    np.testing.assert_allclose(data.features(cutoff)["spend_last_horizon"], past.to_numpy())


def test_test_window_predictions_never_see_the_test_target(synthetic):
    transactions, attributes = synthetic
    data = BacktestData(transactions, horizon=180, attributes=attributes)
    first_task = ClvBacktest(boosting=SMALL_TREES)
    first = run_backtest(first_task, data)
    in_test_target = transactions["date"] >= data.windows.test_cutoff
    changed = transactions.assign(
        amount=transactions["amount"].where(~in_test_target, transactions["amount"] * 3)
    )
    second_task = ClvBacktest(boosting=SMALL_TREES)
    second = run_backtest(second_task, BacktestData(changed, 180, attributes))
    cutoff = data.windows.test_cutoff
    for name in ("past_spend", "btyd"):
        before, after = first.backtest[name], second.backtest[name]
        assert after["total_predicted"] == pytest.approx(before["total_predicted"], rel=1e-9)
        assert after["total_actual"] == pytest.approx(3 * before["total_actual"], rel=1e-9)
    # The trees' forecast at every level is fixed before the test period; only the
    # choice among levels, like the choice of champion, is made on the backtest.
    before = first_task.level_forecasts_["xgboost"][cutoff][1]
    after = second_task.level_forecasts_["xgboost"][cutoff][1]
    assert set(before) == set(after) == set(LEVELS)
    for level in LEVELS:
        np.testing.assert_allclose(after[level], before[level], rtol=1e-9)


def test_synthetic_run_scores_everyone_and_beats_the_baseline(synthetic):
    transactions, attributes = synthetic
    steps = []
    data = BacktestData(transactions, horizon=180, attributes=attributes)
    result = run_clv(
        transactions,
        data=data,
        boosting=SMALL_TREES,
        progress=lambda percent, message: steps.append(percent),
    )
    assert steps == sorted(steps) and steps
    final = data.features(data.end)
    assert result.predict(final).index.equals(
        pd.Index(sorted(transactions["customer_id"].unique()), name="customer_id")
    )
    gini = {name: m["normalized_gini"] for name, m in result.backtest.items()}
    assert gini["btyd"] > gini["past_spend"]
    assert gini["xgboost"] > gini["past_spend"]
    assert set(result.feature_names) <= set(result.explain(final).contributions.columns)


def test_short_history_shortens_the_horizon_and_says_so(synthetic):
    transactions, _ = synthetic
    recent = transactions[transactions["date"] >= "2023-06-01"]
    result = run_clv(recent, horizon=180, boosting=SMALL_TREES)
    assert result.horizon < 180 and result.windows["horizon_days"] == result.horizon
    assert "180-day" in result.notes[0]
    assert set(result.backtest) == set(CANDIDATES)


def test_too_short_history_gives_unvalidated_btyd_scores(synthetic):
    transactions, _ = synthetic
    recent = transactions[transactions["date"] >= "2023-11-01"]
    data = BacktestData(recent, horizon=180)
    result = run_clv(recent, data=data)
    assert result.backtest == {}
    assert result.champion == "btyd"
    assert "too few" in result.notes[0]
    assert np.isfinite(result.predict(data.features(data.end))).all()


def test_without_a_calibrated_candidate_the_best_calibrated_one_wins_and_the_notes_say_so():
    backtest = {
        "past_spend": {"total_ratio": 0.55, "normalized_gini": 0.40},
        "btyd": {"total_ratio": 1.45, "normalized_gini": 0.50},
        "xgboost": {"total_ratio": 1.30, "normalized_gini": 0.60},
    }
    notes = []
    assert ClvBacktest().choose(backtest, notes) == "xgboost"
    assert "best calibrated" in notes[0] and "xgboost" in notes[0]
    assert "closest to 1" in CHAMPION_RULE
    in_range = {**backtest, "btyd": {"total_ratio": 1.1, "normalized_gini": 0.5}}
    assert ClvBacktest().choose(in_range, []) == "btyd"

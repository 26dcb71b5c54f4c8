"""Rolling origins, the champion rule's dominance filter, tree levels and the forecast
interval, on small hand-made inputs and generated data."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from models.artifacts import load_model, save_model
from models.estimators.clv_boosting import BoostedSpendModel, level_total
from models.evaluation.backtest import origin_rows, summarise
from models.evaluation.clv import ClvBacktest, dominated
from models.evaluation.forecast import (
    coverage,
    forecast_spread,
    interval_check,
    level_origins,
    total_interval,
)
from models.evaluation.metrics import decile_reliability_gap, total_log_error
from models.evaluation.windows import MAX_ORIGINS, rolling_origins
from models.synthetic import generate_transactions
from tests.unit.backtest_window import cutoff_window


def test_origins_are_a_horizon_apart_while_history_allows():
    origins = rolling_origins("2020-01-01", pd.Timestamp("2024-07-01"), 180)
    assert len(origins) == MAX_ORIGINS
    assert all((a - b).days == 180 for a, b in zip(origins[:-1], origins[1:], strict=True))


def test_one_full_window_gets_a_second_origin_half_a_horizon_back():
    # 546 days of history (CDNOW): one full window, room for one more at H/2.
    origins = rolling_origins("1997-01-01", pd.Timestamp("1998-01-02"), 180)
    assert [o.date().isoformat() for o in origins] == ["1998-01-02", "1997-10-04"]


def test_too_little_slack_keeps_one_origin():
    assert len(rolling_origins("2024-01-01", pd.Timestamp("2024-10-01"), 180)) == 1


def test_a_candidate_beaten_on_ranking_and_calibration_is_never_champion():
    # Without the dominance filter, the Gini margin would keep the simpler btyd although
    # xgboost ranks as well and is better calibrated.
    backtest = {
        "past_spend": {"total_ratio": 1.0, "normalized_gini": 0.50},
        "btyd": {"total_ratio": 1.09, "normalized_gini": 0.700},
        "xgboost": {"total_ratio": 1.0, "normalized_gini": 0.703},
    }
    assert dominated(backtest) == {"past_spend", "btyd"}
    assert ClvBacktest().choose(backtest, []) == "xgboost"
    # Better ranking but worse calibration: not dominated.
    sharper = {**backtest, "xgboost": {"total_ratio": 1.05, "normalized_gini": 0.75},
               "btyd": {"total_ratio": 1.02, "normalized_gini": 0.70}}
    assert dominated(sharper) == set()
    assert ClvBacktest().choose(sharper, []) == "xgboost"


def test_calibration_is_judged_per_origin_so_misses_either_way_do_not_cancel():
    # Totals 1.6× and 0.46× the actual average to 1.03, but miss by 62 % at a typical
    # origin; 1.2× and 1.14× average to 1.17 and miss by 16 %.
    per_origin = {pd.Timestamp("2024-07-05"): {
                      "xgboost": {"normalized_gini": 0.79, "total_ratio": 1.6},
                      "btyd": {"normalized_gini": 0.80, "total_ratio": 1.2}},
                  pd.Timestamp("2024-01-07"): {
                      "xgboost": {"normalized_gini": 0.79, "total_ratio": 0.46},
                      "btyd": {"normalized_gini": 0.79, "total_ratio": 1.14}}}
    for candidates in per_origin.values():
        for metrics in candidates.values():
            metrics["total_log_error"] = total_log_error(metrics["total_ratio"])
    means = {name: {metric: values["mean"] for metric, values in metrics.items()}
             for name, metrics in summarise(per_origin).items()}
    assert means["xgboost"]["total_ratio"] == pytest.approx(1.03)
    assert means["xgboost"]["total_log_error"] == pytest.approx(
        (math.log(1.6) + abs(math.log(0.46))) / 2)
    assert dominated(means) == {"xgboost"}
    notes: list[str] = []
    assert ClvBacktest().choose(means, notes) == "btyd"
    assert "best calibrated" in notes[0]
    # On the mean ratio alone the wide misses would have looked the better calibrated.
    ratios_only = {name: {k: v for k, v in metrics.items() if k != "total_log_error"}
                   for name, metrics in means.items()}
    assert dominated(ratios_only) == set()


def test_total_log_error_is_the_size_of_the_miss_either_way():
    assert total_log_error(1.1) == pytest.approx(total_log_error(1 / 1.1))
    assert total_log_error(1.0) == 0.0
    assert total_log_error(None) is None and total_log_error(0.0) is None


def test_summary_holds_mean_and_spread_per_candidate_and_metric():
    per_origin = {
        pd.Timestamp("2024-01-01"): {"btyd": {"total_ratio": 0.9, "deciles": []}},
        pd.Timestamp("2023-07-01"): {"btyd": {"total_ratio": 1.1, "deciles": []}},
    }
    summary = summarise(per_origin)
    assert summary["btyd"]["total_ratio"]["mean"] == pytest.approx(1.0)
    assert summary["btyd"]["total_ratio"]["std"] == pytest.approx(0.1)
    assert "deciles" not in summary["btyd"]
    rows = origin_rows(per_origin)
    assert rows[0] == {"cutoff": "2024-01-01", "candidate": "btyd", "total_ratio": 0.9}
    json.dumps(summary, allow_nan=False)


def test_interval_widens_with_the_level_error_seen_over_origins():
    steady = [{"cutoff": "a", "rmse": 10.0, "count": 100, "total_predicted": 1000.0,
               "total_actual": 1000.0, "total_ratio": 1.0}] * 2
    swinging = [dict(steady[0], total_ratio=0.8), dict(steady[0], total_ratio=1.25)]
    assert forecast_spread(steady) == pytest.approx(0.1)
    assert forecast_spread(swinging) > forecast_spread(steady)
    interval = total_interval(1000.0, forecast_spread(steady))
    assert interval["level"] == 0.8
    assert interval["low"] == pytest.approx(1000 * math.exp(-1.2815515655 * 0.1))
    assert interval["low"] * interval["high"] == pytest.approx(1000.0**2)


def test_interval_from_few_origins_is_wider_by_students_t():
    normal = total_interval(1000.0, 0.1)
    two, three = total_interval(1000.0, 0.1, origins=2), total_interval(1000.0, 0.1, origins=3)
    assert two["high"] == pytest.approx(1000 * math.exp(1.8856180832 * 0.1))
    assert normal["high"] < three["high"] < two["high"]
    assert two["low"] * two["high"] == pytest.approx(1000.0**2)
    rows = [{"total_ratio": 1.1}, {"total_ratio": None}, {"total_ratio": 0.9}]
    assert level_origins(rows) == 2


def test_interval_check_uses_the_other_origins_and_counts_coverage():
    rows = [
        {"cutoff": "new", "rmse": 1.0, "count": 100, "total_predicted": 1000.0,
         "total_actual": 1500.0, "total_ratio": 1000 / 1500},
        {"cutoff": "old", "rmse": 1.0, "count": 100, "total_predicted": 1000.0,
         "total_actual": 1010.0, "total_ratio": 1000 / 1010},
    ]
    checks = interval_check(rows)
    # "new" is judged with the narrow spread of "old": it misses; "old" with the wide one.
    assert [c["covered"] for c in checks] == [False, True]
    assert coverage(checks) == 0.5


def test_tree_level_is_set_on_the_scored_population_and_survives_saving(tmp_path):
    window = cutoff_window(600, seed=4)
    trees = window["trees"]
    model = BoostedSpendModel(n_estimators=30, variance_powers=(1.5,), keep_offset_level=False)
    model.fit(trees, window["spend"])
    model.set_level(trees, "btyd")
    assert model.predict(trees).sum() == pytest.approx(trees["btyd_value"].sum(), rel=1e-6)
    explanation = model.explain(trees)
    total = explanation.base_value + explanation.contributions.sum(axis=1)
    np.testing.assert_allclose(total, explanation.output, rtol=1e-5, atol=1e-5)
    loaded = load_model(save_model(tmp_path / "m", model))
    assert loaded.level_ == "btyd"
    np.testing.assert_allclose(loaded.predict(trees), model.predict(trees), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown level"):
        model.set_level(trees, "hope")
    recent = level_total(trees, "btyd_recent", 0.0)
    assert recent == pytest.approx(math.sqrt(trees["btyd_value"].sum()
                                             * trees["spend_last_horizon"].clip(lower=0).sum()))


def test_decile_gap_finds_a_miscalibrated_decile():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 5000)
    y = (rng.uniform(0, 1, 5000) < p).astype(int)
    assert decile_reliability_gap(y, p) < 0.05
    assert decile_reliability_gap(y, np.clip(p + 0.2, 0, 1)) > 0.1


def test_trend_and_step_move_spend_between_periods():
    flat = generate_transactions(1500, seed=2)
    grown = generate_transactions(1500, seed=2, trend=0.5)
    stepped = generate_transactions(1500, seed=2, step=("2024-01-01", 0.5))

    def late_share(frame):
        return frame.loc[frame["date"] >= "2024-01-01", "amount"].sum() / frame["amount"].sum()

    assert late_share(grown) > late_share(flat) > late_share(stepped)

"""Churn probability calibration: the map, its level, where it is refused, and the
reliability judged only where the sample allows."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

from models.estimators.calibration import (
    METHODS,
    CalibrationRefused,
    ProbabilityMap,
    level_rate,
)
from models.evaluation.churn import _Run, choose_level, choose_method, fit_maps, run_churn
from models.evaluation.data import BacktestData
from models.evaluation.metrics import judged_reliability, roc_auc
from models.explain import Explanation
from models.synthetic import generate_transactions


def _sample(n, seed, bend=lambda z: 2.0 * z + 1.0):
    """True churn probabilities, outcomes, and a model's distorted probabilities."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.95, n)
    outcome = (rng.uniform(size=n) < truth).astype(int)
    return truth, outcome, special.expit(bend(special.logit(truth)))


@pytest.mark.parametrize("method", METHODS)
def test_map_learnt_on_one_sample_calibrates_another_and_keeps_the_ranking(method):
    _, y_old, p_old = _sample(20_000, seed=1)
    _, y_new, p_new = _sample(20_000, seed=2)
    mapping = ProbabilityMap.fit(p_old, y_old, method)
    calibrated = mapping.apply(p_new)
    before = judged_reliability(y_new, p_new)
    after = judged_reliability(y_new, calibrated)
    assert before["max_judged_gap"] > 0.1
    assert after["judged_deciles"] == 10 and after["max_judged_gap"] < 0.03
    assert after["within_tolerance"] == 1.0 and before["within_tolerance"] == 0.0
    # Strictly increasing: no new ties, the same ROC AUC.
    assert len(np.unique(calibrated)) == len(np.unique(p_new))
    assert roc_auc(y_new, calibrated) == pytest.approx(roc_auc(y_new, p_new), abs=1e-12)


def test_level_shift_sets_the_mean_on_the_scored_population_and_is_kept():
    _, y, p = _sample(5_000, seed=3)
    mapping = ProbabilityMap.fit(p, y, "isotonic")
    later = p[:1000] ** 0.5
    levelled = mapping.with_level(later, 0.3, "btyd")
    assert levelled.apply(later).mean() == pytest.approx(0.3, abs=1e-9)
    assert levelled.level == "btyd" and levelled.shift != 0
    # The shift is a number kept with the map: another table gets the same map.
    other = p[1000:2000]
    assert levelled.apply(other).mean() != pytest.approx(0.3, abs=1e-3)
    assert mapping.with_level(later, None, "btyd").level == "none"


def test_level_rates_come_from_the_model_or_bg_nbd():
    raw = np.array([0.2, 0.4])
    table = pd.DataFrame({"btyd_p_inactive": [0.5, 0.7]})
    assert level_rate("trained", raw) == pytest.approx(0.3)
    assert level_rate("btyd", raw, table) == pytest.approx(0.6)
    assert level_rate("btyd", raw, table.drop(columns="btyd_p_inactive")) is None
    with pytest.raises(ValueError, match="unknown level"):
        level_rate("hope", raw)


def test_map_survives_json_and_explanations_still_add_up():
    _, y, p = _sample(3_000, seed=4)
    mapping = ProbabilityMap.fit(p, y, "isotonic").with_level(p, 0.45, "trained")
    restored = ProbabilityMap.from_dict(json.loads(json.dumps(mapping.to_dict())))
    np.testing.assert_array_equal(restored.apply(p), mapping.apply(p))
    z = special.logit(p[:50])
    base = float(z[7])  # one customer sits exactly at the base
    contributions = pd.DataFrame({"a": (z - base) * 0.25, "b": (z - base) * 0.75})
    raw = Explanation(base, contributions, "log-odds", pd.Series(z))
    explained = restored.explain(raw)
    total = explained.base_value + explained.contributions.sum(axis=1)
    np.testing.assert_allclose(total, explained.output, atol=1e-9)
    np.testing.assert_allclose(special.expit(explained.output), restored.apply(p[:50]), atol=1e-12)
    with pytest.raises(ValueError, match="unknown calibration method"):
        ProbabilityMap.from_dict({**mapping.to_dict(), "method": "guess"})


def test_too_few_customers_or_one_outcome_or_no_rise_refuse_a_map():
    _, y, p = _sample(150, seed=5)
    with pytest.raises(CalibrationRefused, match="150 customers, fewer than the 200"):
        ProbabilityMap.fit(p, y)
    _, y, p = _sample(1_000, seed=6)
    with pytest.raises(CalibrationRefused, match="each outcome"):
        ProbabilityMap.fit(p, np.ones_like(y))
    with pytest.raises(CalibrationRefused, match="does not rise"):
        ProbabilityMap.fit(p, 1 - (p > np.median(p)).astype(int))
    maps, reason = fit_maps(p[:100], y[:100], "2024-01-01")
    assert maps == {} and "fewer than the 200" in reason
    run = _Run(p[:100], y[:100], 0.5, {"trained": 0.5}, maps, reason)
    served, threshold, how = run.served(choose_method([run], "trained"), "trained")
    assert served is run.probability and threshold == 0.5
    assert how.startswith("none: 100 customers")


def test_level_and_method_are_chosen_on_the_origins():
    truth, y, p = _sample(4_000, seed=7)
    maps, _ = fit_maps(p, y, "2024-01-01")
    # BG/NBD's rate is right, the model's own is too high: the btyd level wins.
    run = _Run(p, y, 0.5, {"trained": float(y.mean()) + 0.2, "btyd": float(y.mean())}, maps)
    assert choose_level([run]) == "btyd"
    assert choose_level([_Run(p, y, 0.5, {"trained": 0.4}, maps)]) == "trained"
    assert choose_method([run], "btyd") in METHODS
    assert choose_method([_Run(p, y, 0.5, {}, {})], "trained") is None


def test_decile_reliability_is_judged_only_where_the_sample_allows():
    rng = np.random.default_rng(8)
    p = rng.uniform(0.02, 0.98, 1_500)
    y = (rng.uniform(size=p.size) < p).astype(int)
    judged = judged_reliability(y, p)
    # 150 customers a decile: only deciles near 0 or 1 have a standard error <= 0.025.
    assert 0 < judged["judged_deciles"] < 10
    small = judged_reliability(y[:500], p[:500])
    assert small["judged_deciles"] == 0 and small["max_judged_gap"] is None
    assert small["within_tolerance"] is None and small["max_decile_gap"] > 0


def test_a_history_too_small_for_a_map_is_scored_uncalibrated_with_a_note():
    transactions = generate_transactions(120, seed=3, start="2022-01-01", end="2024-12-31")
    data = BacktestData(transactions, 180)
    result = run_churn(transactions, horizon=180, data=data)
    assert result.calibration is None
    assert any("not calibrated" in note for note in result.notes)
    final = data.features(data.end)
    raw = result.model.predict_proba(final[result.feature_names])[:, 1]
    np.testing.assert_array_equal(result.predict(final).to_numpy(), raw)
    for metrics in result.backtest.values():
        assert metrics["calibration"].startswith("none: ")
        assert metrics["brier"] == metrics["raw_brier"]

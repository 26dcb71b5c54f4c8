"""The CLV tree variants the quality benchmark compares with the product's trees: the
hurdle model and monotone constraints on recency and frequency."""

import numpy as np
import pytest

from models.artifacts import load_model, save_model
from models.estimators.clv_boosting import RECENCY_FREQUENCY, BoostedSpendModel
from models.estimators.clv_hurdle import HurdleSpendModel
from models.evaluation.backtest import run_backtest
from models.evaluation.clv import ClvBacktest
from tests.unit.backtest_window import cutoff_window

SMALL = {"n_estimators": 40, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def window():
    return cutoff_window(800, seed=6)


def test_hurdle_is_purchase_probability_times_spend_and_explains_itself(window):
    trees, spend = window["trees"], window["spend"]
    model = HurdleSpendModel(**SMALL).fit(trees, spend)
    predicted = model.predict(trees)
    probability = model.purchase_probability(trees)
    assert (predicted > 0).all() and probability.min() > 0 and probability.max() < 1
    # Customers the trees think likelier to buy get more, on average.
    high = probability > np.median(probability)
    assert predicted[high].mean() > predicted[~high].mean()
    assert spend[high].mean() > spend[~high].mean()
    explanation = model.explain(trees)
    assert explanation.space == "log-spend"
    total = explanation.base_value + explanation.contributions.sum(axis=1)
    np.testing.assert_allclose(total, np.log(predicted), atol=1e-5)


def test_hurdle_level_and_saving_keep_both_boosters(window, tmp_path):
    trees, spend = window["trees"], window["spend"]
    model = HurdleSpendModel(**SMALL).fit(trees, spend).set_level(trees, "btyd")
    assert model.predict(trees).sum() == pytest.approx(trees["btyd_value"].sum(), rel=1e-6)
    loaded = load_model(save_model(tmp_path / "hurdle", model))
    np.testing.assert_allclose(loaded.predict(trees), model.predict(trees), rtol=1e-6)
    np.testing.assert_allclose(loaded.purchase_probability(trees),
                               model.purchase_probability(trees), rtol=1e-6)
    with pytest.raises(ValueError, match="bought and who did not"):
        HurdleSpendModel(**SMALL).fit(trees, np.zeros(len(trees)))


def test_monotone_trees_never_raise_the_forecast_with_more_days_since_the_last_purchase(
        window, tmp_path):
    trees = window["trees"]
    # A target that rises with days since the last purchase over a middle range, which
    # unconstrained trees follow and constrained ones may not.
    days = trees["days_since_last"].to_numpy()
    spend = window["spend"] + 200.0 * ((days > 150) & (days < 300))
    options = {**SMALL, "variance_powers": (1.5,), "keep_offset_level": False, "offset": None}
    free = BoostedSpendModel(**options).fit(trees, spend)
    tied = BoostedSpendModel(monotone=RECENCY_FREQUENCY, **options).fit(trees, spend)
    assert "monotone_constraints" in tied._objective(1.5)
    grid = np.linspace(0, trees["days_since_last"].max(), 25)
    sample = trees.sample(60, random_state=1)

    def largest_rise(model, column, values, sign):
        curves = np.array([model.predict(sample.assign(**{column: v})) for v in values])
        return (sign * np.diff(curves, axis=0)).max()

    assert largest_rise(tied, "days_since_last", grid, 1) <= 1e-9
    counts = np.arange(0, trees["frequency"].max() + 1)
    assert largest_rise(tied, "frequency", counts, -1) <= 1e-9
    loaded = load_model(save_model(tmp_path / "tied", tied))
    assert loaded.monotone == RECENCY_FREQUENCY
    np.testing.assert_allclose(loaded.predict(trees), tied.predict(trees), rtol=1e-6)
    # Without the constraints the trees follow the rise.
    assert largest_rise(free, "days_since_last", grid, 1) > 0


def test_variants_are_backtested_beside_the_product_candidates(window):
    result = run_backtest(ClvBacktest(boosting=SMALL, variants=("xgboost_monotone", "hurdle")),
                          window["data"])
    assert {"xgboost", "xgboost_monotone", "hurdle"} <= set(result.backtest)
    assert set(result.details["levels"]) == {"xgboost", "xgboost_monotone", "hurdle"}
    with pytest.raises(ValueError, match="unknown CLV variants"):
        ClvBacktest(variants=("magic",))

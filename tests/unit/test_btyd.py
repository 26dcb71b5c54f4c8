import json

import numpy as np
import pandas as pd
import pytest
from scipy import special

from models.estimators.btyd import BetaGeoFitter, GammaGammaFitter
from models.estimators.clv import BtydModel
from tests.reference import CDNOW_SUMMARY, CDNOW_SUMMARY_WITH_SPEND


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(CDNOW_SUMMARY)


@pytest.fixture(scope="module")
def cdnow_spend():
    return pd.read_csv(CDNOW_SUMMARY_WITH_SPEND)


@pytest.fixture(scope="module")
def bgnbd(cdnow):
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def bgnbd_log_likelihood(params, x, t_x, big_t):
    """Equation (6) of Fader, Hardie & Lee (2005), written out independently."""
    r, alpha, a, b = params
    beta_ratio = special.betaln(a, b + x) - special.betaln(a, b)
    gamma_ratio = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    survive = np.exp(beta_ratio + gamma_ratio - (r + x) * np.log(alpha + big_t))
    dropped = np.where(
        x > 0,
        np.exp(special.betaln(a + 1, b + x - 1) - special.betaln(a, b) + gamma_ratio
               - (r + x) * np.log(alpha + t_x)),
        0.0,
    )
    return np.log(survive + dropped).sum()


def test_bgnbd_recovers_published_cdnow_parameters(bgnbd):
    expected = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in expected.items():
        assert bgnbd.params_[name] == pytest.approx(value, abs=0.01)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)


def test_bgnbd_conditional_expectation_matches_paper(bgnbd):
    expected = bgnbd.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86)
    assert float(expected[0]) == pytest.approx(1.226, abs=0.01)


def test_bgnbd_fit_is_a_local_optimum_of_the_likelihood(bgnbd, cdnow):
    data = (cdnow["frequency"].to_numpy(), cdnow["recency"].to_numpy(), cdnow["T"].to_numpy())
    best = np.array([bgnbd.params_[k] for k in ("r", "alpha", "a", "b")])
    at_best = bgnbd_log_likelihood(best, *data)
    assert at_best == pytest.approx(bgnbd.log_likelihood_, rel=1e-9)
    step = 1e-4
    for index in range(4):
        up, down = best.copy(), best.copy()
        up[index] *= np.exp(step)
        down[index] *= np.exp(-step)
        ll_up, ll_down = bgnbd_log_likelihood(up, *data), bgnbd_log_likelihood(down, *data)
        assert abs(ll_up - ll_down) / (2 * step) < 1e-2
        assert ll_up < at_best and ll_down < at_best


def test_bgnbd_time_unit_only_rescales_alpha(bgnbd, cdnow):
    in_days = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"] * 7, cdnow["T"] * 7)
    assert in_days.params_["alpha"] == pytest.approx(7 * bgnbd.params_["alpha"], rel=1e-4)
    for name in ("r", "a", "b"):
        assert in_days.params_[name] == pytest.approx(bgnbd.params_[name], rel=1e-4)


def test_probability_alive_behaves(bgnbd):
    alive = bgnbd.conditional_probability_alive([0, 3, 3, 3], [0, 30, 20, 5], [38, 38, 38, 38])
    assert alive[0] == 1.0
    assert 0 < alive[3] < alive[2] < alive[1] < 1


def test_unconditional_expectation_starts_at_zero_and_grows(bgnbd):
    expected = bgnbd.expected_number_of_purchases_up_to_time(np.array([0.0, 10.0, 39.0, 78.0]))
    assert expected[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(expected) > 0)


def test_bgnbd_survives_json_round_trip(bgnbd):
    restored = BetaGeoFitter.from_dict(json.loads(json.dumps(bgnbd.to_dict())))
    args = (39, np.array([0, 2, 7]), np.array([0, 30.43, 35]), np.array([38.86, 38.86, 38.86]))
    np.testing.assert_allclose(
        restored.conditional_expected_number_of_purchases_up_to_time(*args),
        bgnbd.conditional_expected_number_of_purchases_up_to_time(*args),
    )
    pd.testing.assert_frame_equal(restored.summary_, bgnbd.summary_)
    with pytest.raises(ValueError, match="GammaGammaFitter"):
        GammaGammaFitter.from_dict(bgnbd.to_dict())


def test_penalizer_shrinks_log_parameters(cdnow):
    plain = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    shrunk = BetaGeoFitter(penalizer=0.1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])

    def size(model):
        # alpha is penalised in units of the mean T, as documented.
        scaled = dict(model.params_, alpha=model.params_["alpha"] / cdnow["T"].mean())
        return sum(np.log(v) ** 2 for v in scaled.values())

    assert size(shrunk) < size(plain)
    assert shrunk.log_likelihood_ < plain.log_likelihood_


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, -1] * 6, [1, 0] * 6, [5, 5] * 6, "non-negative"),
        ([1, 0] * 6, [6, 0] * 6, [5, 5] * 6, "recency must not exceed T"),
        ([1, 0] * 6, [1, 2] * 6, [5, 5] * 6, "recency must be 0"),
        ([1.5, 0] * 6, [1, 0] * 6, [5, 5] * 6, "whole numbers"),
        ([1, 0, 2], [1, 0, 2], [5, 5, 5], "at least 10"),
        ([0] * 12, [0] * 12, [5] * 12, "repeat purchase"),
        ([1, np.nan] * 6, [1, 0] * 6, [5, 5] * 6, "missing"),
    ],
)
def test_bgnbd_rejects_bad_inputs(frequency, recency, T, message):
    with pytest.raises(ValueError, match=message):
        BetaGeoFitter().fit(frequency, recency, T)


def test_predicting_before_fitting_is_an_error():
    with pytest.raises(ValueError, match="not fitted"):
        BetaGeoFitter().conditional_probability_alive([1], [1], [2])


def test_gamma_gamma_recovers_published_cdnow_parameters(cdnow_spend):
    model = GammaGammaFitter().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    assert model.n_customers_ == 946
    assert model.params_["p"] == pytest.approx(6.25, abs=0.05)
    assert model.params_["q"] == pytest.approx(3.74, abs=0.05)
    assert model.params_["v"] == pytest.approx(15.44, abs=0.05)


def test_gamma_gamma_expected_spend_shrinks_towards_population_mean(cdnow_spend):
    model = GammaGammaFitter().fit(cdnow_spend["x"], cdnow_spend["zbar"])
    p, q, v = model.params_["p"], model.params_["q"], model.params_["v"]
    population = p * v / (q - 1)
    spend = model.conditional_expected_average_profit([0, 1, 10, 1000], [0, 100, 100, 100])
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < spend[3] < 100
    assert spend[3] == pytest.approx(100, rel=0.01)
    restored = GammaGammaFitter.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_allclose(restored.conditional_expected_average_profit([3], [40]),
                               model.conditional_expected_average_profit([3], [40]))


def test_gamma_gamma_rejects_non_positive_spend_of_repeat_customers():
    frequency = np.arange(1, 13)
    spend = np.full(12, 20.0)
    spend[3] = 0.0
    with pytest.raises(ValueError, match="positive"):
        GammaGammaFitter().fit(frequency, spend)
    with pytest.raises(ValueError, match="at least 10"):
        GammaGammaFitter().fit([0, 0, 1], [0, 0, 5])


def test_a_barely_determined_parameter_gets_an_unbounded_interval_not_an_error():
    model = BetaGeoFitter()
    model.params_ = {"r": 0.5, "alpha": 2.0, "a": 0.8, "b": 2.0}
    model._log_se = np.array([0.1, 0.2, 400.0, 0.3])

    summary = model._make_summary()

    assert np.isinf(summary.loc["a", "upper 95% bound"])
    assert np.isfinite(summary.loc["r", "upper 95% bound"])


def test_probability_of_no_purchase_matches_a_simulation_and_its_bounds(bgnbd, cdnow):
    # P(no purchase in the next t | history) = 1 - P(alive) + P(alive) E[exp(-lambda t)],
    # lambda ~ Gamma(r + x, alpha + T) a posteriori (dropping out needs a purchase first).
    model = BtydModel(horizon=39)
    model.purchases_ = bgnbd
    x, t_x, big_t = (cdnow[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    histories = pd.DataFrame({"frequency": x, "recency": t_x, "days_since_last": big_t - t_x,
                              "monetary_value": 0.0})
    inactive = model.probability_inactive(histories)
    alive = model.probability_alive(histories)
    purchases = model.expected_purchases(histories)
    assert ((inactive >= 0) & (inactive <= 1)).all()
    assert (inactive >= 1 - alive - 1e-12).all()  # a customer who left buys nothing
    assert (1 - inactive <= purchases + 1e-12).all()  # P(N >= 1) <= E[N]
    r, alpha = bgnbd.params_["r"], bgnbd.params_["alpha"]
    rng = np.random.default_rng(0)
    for i in (0, 7, int(np.argmax(x))):
        draws = 200_000
        is_alive = rng.random(draws) < alive[i]
        rate = rng.gamma(r + x[i], 1 / (alpha + big_t[i]), draws)
        quiet = ~is_alive | (rng.poisson(rate * 39) == 0)
        assert quiet.mean() == pytest.approx(inactive[i], abs=0.005)

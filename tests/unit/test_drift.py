import numpy as np
import pandas as pd
import pytest

from models.drift import population_stability


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def test_same_population_is_stable_and_a_shift_is_major(rng):
    expected = pd.DataFrame({"spend": rng.normal(100, 20, 5000), "visits": rng.poisson(3, 5000)})
    same = pd.DataFrame({"spend": rng.normal(100, 20, 5000), "visits": rng.poisson(3, 5000)})
    shifted = same.assign(spend=same["spend"] + 20)
    stable = population_stability(expected, same).set_index("feature")
    assert (stable["status"] == "stable").all()
    assert stable["psi"].max() < 0.02
    drifted = population_stability(expected, shifted).set_index("feature")
    assert drifted.loc["spend", "status"] == "major"
    assert drifted.loc["visits", "psi"] == pytest.approx(stable.loc["visits", "psi"])
    assert list(population_stability(expected, shifted)["feature"]) == ["spend", "visits"]


def test_categorical_psi_matches_the_formula():
    expected = pd.DataFrame({"region": ["north", "south"] * 50})
    actual = pd.DataFrame({"region": ["north"] * 75 + ["south"] * 25})
    row = population_stability(expected, actual).iloc[0]
    manual = (0.75 - 0.5) * np.log(0.75 / 0.5) + (0.25 - 0.5) * np.log(0.25 / 0.5)
    assert row["psi"] == pytest.approx(manual)
    assert row["status"] == "major"


def test_new_categories_missing_values_and_empty_bins_stay_finite(rng):
    expected = pd.DataFrame(
        {"channel": pd.Categorical(["web"] * 90 + ["app"] * 10), "age": rng.uniform(20, 70, 100)}
    )
    actual = pd.DataFrame(
        {
            "channel": pd.Categorical(["web"] * 80 + ["store"] * 20),
            "age": [np.nan] * 50 + [65.0] * 50,
        }
    )
    result = population_stability(expected, actual).set_index("feature")
    assert np.isfinite(result["psi"]).all()
    assert (result["status"] == "major").all()


def test_moderate_band_and_shared_columns_only(rng):
    expected = pd.DataFrame({"x": rng.normal(0, 1, 20000), "only_here": 1.0})
    actual = pd.DataFrame({"x": rng.normal(0.35, 1, 20000), "new": 2.0})
    result = population_stability(expected, actual)
    assert list(result["feature"]) == ["x"]
    assert result.loc[0, "status"] == "moderate"
    with pytest.raises(ValueError):
        population_stability(expected, actual, bins=1)

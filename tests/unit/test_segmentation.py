import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from models import segmentation
from models.segmentation import CustomerSegmenter, persona_names, silhouettes


def blobs(centers, per_blob=150, seed=0, spread=0.15):
    """Customers whose log-features form well-separated blobs around ``centers``."""
    rng = np.random.default_rng(seed)
    log_values = np.vstack([c + spread * rng.normal(size=(per_blob, len(c))) for c in centers])
    frame = pd.DataFrame(np.expm1(log_values), columns=["days_since_last", "n_orders", "total_spend"])
    return frame.set_axis([f"c{i}" for i in range(len(frame))])


FOUR_BLOBS = [
    np.array([1.0, 3.0, 7.0]),   # recent, frequent, big spenders
    np.array([5.5, 0.7, 3.0]),   # long gone, one order, small spend
    np.array([1.5, 0.7, 3.5]),   # recent first-timers
    np.array([4.0, 2.0, 5.0]),   # middling
]


def test_k_is_chosen_by_maximum_silhouette_on_separated_blobs():
    model = CustomerSegmenter(k_min=2, k_max=7).fit(blobs(FOUR_BLOBS))
    assert model.k_ == 4
    assert model.curves_["k"] == list(range(2, 8))
    assert model.silhouette_ == max(model.curves_["silhouette"])
    assert len(model.curves_["inertia"]) == 6
    assert np.all(np.diff(model.curves_["inertia"]) < 0)
    sizes = np.bincount(model.labels_)
    assert sizes.tolist() == [150, 150, 150, 150]


def test_fit_is_deterministic_for_a_seed():
    data = blobs(FOUR_BLOBS, seed=3, spread=0.6)
    first = CustomerSegmenter(random_state=7).fit(data)
    second = CustomerSegmenter(random_state=7).fit(data)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    pd.testing.assert_frame_equal(first.centers_, second.centers_)
    assert first.curves_ == second.curves_


def test_personas_are_readable_unique_and_follow_the_profiles():
    model = CustomerSegmenter(k_max=6).fit(blobs(FOUR_BLOBS))
    names = list(model.personas_.values())
    assert len(set(names)) == len(names) == model.k_
    best = model.profiles_["total_spend"].idxmax()
    assert model.personas_[best] == "High-value loyalists"
    gone = model.profiles_["days_since_last"].idxmax()
    assert model.personas_[gone] == "Lapsed low spenders"
    assert list(model.profiles_.columns[:3]) == ["persona", "size", "share"]
    assert model.profiles_["share"].sum() == pytest.approx(1.0)


def test_centers_are_in_original_units():
    model = CustomerSegmenter(k_max=6).fit(blobs(FOUR_BLOBS, spread=0.05))
    expected = np.sort(np.expm1(np.array(FOUR_BLOBS))[:, 2])
    np.testing.assert_allclose(np.sort(model.centers_["total_spend"].to_numpy()), expected, rtol=0.05)


def test_duplicate_persona_names_are_told_apart_by_value():
    centers = np.array([[-1.0, 1.0, 1.0], [-1.0, 0.8, 2.0], [1.0, -1.0, -1.0]])
    names = persona_names(centers, ["days_since_last", "n_orders", "total_spend"])
    assert names == ["High-value loyalists (lower value)", "High-value loyalists (higher value)",
                     "Lapsed low spenders"]


def test_a_customer_table_gets_names_from_what_sets_each_cluster_apart():
    centers = np.array([[1.2, -0.6, 0.1], [-1.0, 0.1, 0.05], [0.1, 0.0, -0.1], [1.1, -0.7, 0.0]])
    names = persona_names(centers, ["annual_income", "age", "loyalty_score"])
    assert names == ["High annual income, low age (1)", "Low annual income",
                     "Average on every column", "High annual income, low age (2)"]


def test_predict_and_json_round_trip_assign_the_same_clusters():
    data = blobs(FOUR_BLOBS, seed=1, spread=0.4)
    model = CustomerSegmenter(k_max=6).fit(data)
    np.testing.assert_array_equal(model.predict(data), model.labels_)
    restored = CustomerSegmenter.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(restored.predict(data), model.labels_)
    assert restored.personas_ == model.personas_
    pd.testing.assert_frame_equal(restored.profiles_, model.profiles_, check_dtype=False)
    pd.testing.assert_frame_equal(restored.centers_, model.centers_)


def test_missing_values_are_filled_and_extra_columns_ignored():
    data = blobs(FOUR_BLOBS).assign(region="north", flag=1.0)
    data.iloc[0, 1] = np.nan
    model = CustomerSegmenter(k_max=5, columns=["days_since_last", "n_orders", "total_spend"]).fit(data)
    assert model.columns_ == ["days_since_last", "n_orders", "total_spend"]
    assert len(model.labels_) == len(data)
    with pytest.raises(ValueError, match="n_orders"):
        model.predict(data.drop(columns="n_orders"))


def test_large_inputs_scan_on_a_sample(monkeypatch):
    monkeypatch.setattr(segmentation, "SCAN_LIMIT", 200)
    data = blobs(FOUR_BLOBS, per_blob=300)
    model = CustomerSegmenter(k_max=6, sample_size=150).fit(data)
    assert model.k_ == 4
    assert len(model.labels_) == 1200
    assert sorted(np.bincount(model.labels_).tolist()) == [300, 300, 300, 300]


def test_shared_pass_silhouette_matches_scikit_learn():
    rng = np.random.default_rng(5)
    points = rng.normal(size=(400, 3))
    labelings = [rng.integers(0, k, 400) for k in (2, 3, 6)] + [np.r_[np.zeros(399, int), 1]]
    expected = [silhouette_score(points, labels) for labels in labelings]
    np.testing.assert_allclose(silhouettes(points, labelings), expected, atol=1e-5)


def test_degenerate_inputs_are_rejected():
    with pytest.raises(ValueError, match="too few distinct"):
        CustomerSegmenter().fit(pd.DataFrame({"x": [1.0] * 20}))
    with pytest.raises(ValueError, match="k_min"):
        CustomerSegmenter(k_min=1).fit(blobs(FOUR_BLOBS))
    with pytest.raises(ValueError, match="not fitted"):
        CustomerSegmenter().predict(blobs(FOUR_BLOBS))

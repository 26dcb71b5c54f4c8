import json

import numpy as np
import pandas as pd
import pytest

from models.rfm import SEGMENT_ACTIONS, SEGMENTS, quintile_score, rfm_segments, rfm_thresholds


def customers(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "days_since_last": rng.integers(1, 400, n).astype(float),
            "n_orders": rng.integers(1, 20, n).astype(float),
            "total_spend": rng.gamma(2.0, 100.0, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def test_scores_are_exact_quintiles_without_ties():
    values = pd.Series(np.arange(10.0))
    assert quintile_score(values).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_score(values, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_tied_customers_share_a_score():
    orders = pd.Series([1.0] * 6 + [2.0, 3.0, 4.0, 5.0])
    scores = quintile_score(orders)
    assert scores.iloc[:6].nunique() == 1 and scores.iloc[0] == 1
    assert scores.tolist()[6:] == [4, 4, 5, 5]


def test_best_and_worst_customers_land_in_the_expected_segments():
    frame = customers()
    frame.loc["best"] = [0.0, 100.0, 1e6]
    frame.loc["oldest_one_timer"] = [5000.0, 1.0, 0.5]
    result = rfm_segments(frame)
    assert result.loc["best", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert result.loc["best", "rfm_segment"] == "Champions"
    assert result.loc["best", "rfm_score"] == 555
    assert result.loc["oldest_one_timer", "rfm_segment"] in {"Lost", "Hibernating"}
    assert result.loc["oldest_one_timer", "action"] == SEGMENT_ACTIONS[result.loc["oldest_one_timer", "rfm_segment"]]


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 1, 1, "New"),
        (4, 1, 1, "Promising"),
        (5, 2, 3, "Potential Loyalist"),
        (3, 4, 5, "Loyal"),
        (3, 3, 3, "Need Attention"),
        (3, 1, 2, "About to Sleep"),
        (2, 3, 4, "At Risk"),
        (1, 5, 5, "Can't Lose Them"),
        (2, 1, 2, "Hibernating"),
        (1, 1, 1, "Lost"),
    ],
)
def test_grid_cells_follow_the_documented_mapping(r, f, m, segment):
    # 100 reference customers with values 1..100; the target sits in the middle of the
    # requested quintile of each metric (between two reference values, so no ties).
    reference = np.arange(1.0, 101.0)

    def position(score):
        return 20 * (score - 1) + 10.5

    frame = pd.DataFrame(
        {
            "days_since_last": np.r_[reference, 101 - position(r)],
            "n_orders": np.r_[reference, position(f)],
            "total_spend": np.r_[reference, position(m)],
        }
    )
    target = rfm_segments(frame).iloc[-1]
    assert (target["r_score"], target["f_score"], target["m_score"]) == (r, f, m)
    assert target["rfm_segment"] == segment


def test_every_segment_has_an_action_and_output_is_complete():
    assert set(SEGMENT_ACTIONS) == set(SEGMENTS) and len(SEGMENTS) == 11
    result = rfm_segments(customers(500))
    assert list(result.columns) == ["r_score", "f_score", "m_score", "rfm_score", "rfm_segment", "action"]
    assert result["r_score"].between(1, 5).all()
    assert result["action"].notna().all()
    assert result["rfm_segment"].nunique() >= 8


def test_frequency_is_used_when_orders_are_missing():
    frame = customers().rename(columns={"n_orders": "frequency"})
    assert rfm_segments(frame)["f_score"].tolist() == quintile_score(frame["frequency"]).tolist()
    with pytest.raises(ValueError, match="total_spend"):
        rfm_segments(frame.drop(columns="total_spend"))


def test_stored_thresholds_score_other_customers_as_the_training_population_would():
    frame = customers(n=500, seed=4)
    thresholds = rfm_thresholds(frame)
    assert json.loads(json.dumps(thresholds)) == thresholds
    pd.testing.assert_frame_equal(rfm_segments(frame, thresholds), rfm_segments(frame))
    later = frame.iloc[:7]
    pd.testing.assert_frame_equal(rfm_segments(later, thresholds), rfm_segments(frame).iloc[:7])
    assert not rfm_segments(later).equals(rfm_segments(frame).iloc[:7])

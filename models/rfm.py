"""RFM quintile scores and the standard named RFM segments.

Scores run from 1 (worst) to 5 (best):

* R from ``days_since_last`` (fewer days is better),
* F from ``n_orders`` (``frequency`` when there is no ``n_orders`` column),
* M from ``total_spend``.

A score is ``1 + floor(5 × share of customers strictly worse)``, so without ties the
scores are exact quintiles, and tied customers always share a score: the tie group gets
the score of its lowest member. With heavy ties — say 60 % one-time buyers — every
one-time buyer has F = 1 instead of being split arbitrarily across quintiles.

The segment comes from R and FM = (F + M) / 2 rounded half up, on the widely used R vs
FM grid (rows R, columns FM):

===== =============== =============== =============== =============== ===============
R\\FM  1               2               3               4               5
===== =============== =============== =============== =============== ===============
5     New             Potential       Potential       Champions       Champions
                      Loyalist        Loyalist
4     Promising       Potential       Potential       Loyal           Loyal
                      Loyalist        Loyalist
3     About to Sleep  About to Sleep  Need Attention  Loyal           Loyal
2     Hibernating     Hibernating     At Risk         At Risk         Can't Lose Them
1     Lost            Lost            At Risk         At Risk         Can't Lose Them
===== =============== =============== =============== =============== ===============

``rfm_score`` is the three-digit code 100·R + 10·F + M (e.g. 545).

Scoring other customers (a later upload) against the customers the scores were set on
uses :func:`rfm_thresholds`: per score the four cut points, with ``score = 1 + number of
cut points the (oriented) value exceeds``, which gives exactly the scores above on the
customers the thresholds came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENTS = [
    "Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
    "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
]

# Rows are R = 5 .. 1, columns FM = 1 .. 5, as in the module table.
_GRID = {
    5: ["New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Loyal"],
    3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    1: ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
}

SEGMENT_ACTIONS = {
    "Champions": "Reward them with early access and loyalty perks, and ask for reviews and referrals.",
    "Loyal": "Upsell higher-value products and invite them into the loyalty programme.",
    "Potential Loyalist": "Offer membership or a personalised recommendation to build the habit.",
    "New": "Onboard them well: a welcome series and a reason to make the second purchase soon.",
    "Promising": "Build awareness with targeted offers on the categories they browsed or bought.",
    "Need Attention": "Send a limited-time, personalised offer before they drift away.",
    "About to Sleep": "Reconnect with popular products and a modest discount.",
    "At Risk": "Win them back with personalised emails and a meaningful incentive.",
    "Can't Lose Them": "Reach out personally with the best offers and find out what went wrong.",
    "Hibernating": "Include them in low-cost seasonal campaigns; do not overspend on them.",
    "Lost": "Try one low-cost reactivation campaign, otherwise exclude them from paid outreach.",
}


def quintile_thresholds(values: pd.Series, higher_is_better: bool = True) -> list[float]:
    """The four cut points of :func:`quintile_score` on ``values``, in the oriented scale
    (values negated when lower is better): score ≥ s + 1 exactly when the oriented value
    exceeds cut point s, i.e. when at least ceil(s·n/5) customers are strictly worse."""
    oriented = np.sort((values if higher_is_better else -values).to_numpy(dtype=float))
    n = len(oriented)
    if n == 0:
        return [np.inf] * 4
    return [float(oriented[-(-s * n // 5) - 1]) for s in range(1, 5)]


def score_by_thresholds(values: pd.Series, thresholds: list[float],
                        higher_is_better: bool = True) -> pd.Series:
    oriented = (values if higher_is_better else -values).to_numpy(dtype=float)
    score = 1 + (oriented[:, None] > np.asarray(thresholds, dtype=float)[None, :]).sum(axis=1)
    return pd.Series(score.astype(np.int64), index=values.index, name=values.name)


def quintile_score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1..5 score: 1 + floor(5 × share of customers strictly worse); ties share a score."""
    thresholds = quintile_thresholds(values, higher_is_better)
    return score_by_thresholds(values, thresholds, higher_is_better)


def _inputs(features: pd.DataFrame) -> dict[str, tuple[pd.Series, bool]]:
    frequency_column = "n_orders" if "n_orders" in features.columns else "frequency"
    required = ["days_since_last", frequency_column, "total_spend"]
    missing = [column for column in required if column not in features.columns]
    if missing:
        raise ValueError(f"features lack columns needed for RFM: {missing}")
    if features[required].isna().any().any():
        raise ValueError("RFM inputs must not contain missing values")
    return {
        "r": (features["days_since_last"], False),
        "f": (features[frequency_column], True),
        "m": (features["total_spend"], True),
    }


def rfm_thresholds(features: pd.DataFrame) -> dict[str, list[float]]:
    """JSON-ready cut points of R, F and M on these customers (see the module doc)."""
    return {key: quintile_thresholds(values, better)
            for key, (values, better) in _inputs(features).items()}


def rfm_segments(features: pd.DataFrame, thresholds: dict | None = None) -> pd.DataFrame:
    """Scores, three-digit code, segment and recommended action for every customer;
    quintiles of ``features`` itself unless ``thresholds`` (from :func:`rfm_thresholds`)."""
    inputs = _inputs(features)
    thresholds = thresholds or rfm_thresholds(features)
    r, f, m = (score_by_thresholds(values, thresholds[key], better)
               for key, (values, better) in inputs.items())
    fm = np.floor((f + m) / 2 + 0.5).astype(np.int64)
    grid = np.array([_GRID[score] for score in range(1, 6)])  # row index R - 1
    names = grid[r.to_numpy() - 1, fm.to_numpy() - 1] if len(features) else np.array([], dtype=str)
    segment = pd.Categorical(names, categories=SEGMENTS)
    return pd.DataFrame(
        {
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": 100 * r + 10 * f + m,
            "rfm_segment": segment,
            "action": pd.Series(names, index=features.index).map(SEGMENT_ACTIONS),
        },
        index=features.index,
    )

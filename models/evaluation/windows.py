"""Out-of-time windows of the CLV and churn backtests.

With ``L`` the day after the last transaction and ``H`` the horizon::

    ── history ──┤ c0 = L − 2H ── train target ──┤ c1 = L − H ── test target ──┤ L ── scored H ──
    train: features before c0, target in [c0, c1)
    test:  features before c1, target in [c1, L)      (the backtest metrics)
    final: the champion is refit on the test layout and scores features before L

The history before c0 must cover at least half a horizon. With less data the horizon is
shortened to ``floor(span / 2.5)`` days (at least :data:`MIN_HORIZON`); with even less
there is no backtest and the result says so in its notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

MIN_HORIZON = 28
HISTORY_HORIZONS = 0.5


@dataclass(frozen=True)
class Windows:
    horizon: int
    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    end: pd.Timestamp

    def to_dict(self) -> dict:
        c0, c1, end = (
            d.date().isoformat() for d in (self.train_cutoff, self.test_cutoff, self.end)
        )
        scored_until = (self.end + pd.Timedelta(days=self.horizon)).date().isoformat()
        return {
            "horizon_days": self.horizon,
            "train_features_before": c0,
            "train_target": [c0, c1],
            "test_features_before": c1,
            "test_target": [c1, end],
            "final_features_before": end,
            "scored_period": [end, scored_until],
        }


def backtest_windows(last_date, horizon: int) -> Windows:
    end = pd.Timestamp(last_date).normalize() + pd.Timedelta(days=1)
    test_cutoff = end - pd.Timedelta(days=horizon)
    return Windows(horizon, test_cutoff - pd.Timedelta(days=horizon), test_cutoff, end)


def plan_windows(transactions: pd.DataFrame, horizon: int) -> tuple[Windows | None, list[str]]:
    """The backtest windows for ``horizon``, shortened when the history is too short."""
    if horizon < 1:
        raise ValueError("horizon must be at least one day")
    dates = transactions["date"]
    if dates.notna().sum() == 0:
        raise ValueError("there are no dated transactions to learn from")
    first, last = pd.Timestamp(dates.min()).normalize(), pd.Timestamp(dates.max())
    span = (last.normalize() - first).days + 1
    needed = math.ceil((2 + HISTORY_HORIZONS) * horizon)
    if span >= needed:
        return backtest_windows(last, horizon), []
    shorter = int(span // (2 + HISTORY_HORIZONS))
    if shorter >= MIN_HORIZON:
        note = (
            f"The data covers {span} days; an out-of-time backtest with a {horizon}-day "
            f"horizon needs {needed}. Models are evaluated and predict for {shorter} days instead."
        )
        return backtest_windows(last, shorter), [note]
    note = (
        f"The data covers {span} days, too few for any out-of-time backtest (at least "
        f"{math.ceil((2 + HISTORY_HORIZONS) * MIN_HORIZON)} are needed). Scores come from "
        "the unsupervised BTYD model alone and have not been validated on later data."
    )
    return None, [note]

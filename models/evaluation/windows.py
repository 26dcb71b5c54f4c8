"""Out-of-time windows of the CLV and churn backtests.

With ``L`` the day after the last transaction and ``H`` the horizon::

    ── history ──┤ c0 = L − 2H ── train target ──┤ c1 = L − H ── test target ──┤ L ── scored H ──
    train: features before c0, target in [c0, c1)
    test:  features before c1, target in [c1, L)      (the backtest metrics)
    final: the champion is refit on the test layout and scores features before L

The history before c0 must cover at least half a horizon. With less data the horizon is
shortened to ``floor(span / 2.5)`` days (at least :data:`MIN_HORIZON`); with even less
there is no backtest and the result says so in its notes.

Rolling origins: the same layout is repeated at earlier test cut-offs, so every candidate
is judged on several next-H-day periods rather than one. Origins are H days apart (test
targets do not overlap) as far back as the history allows, at most :data:`MAX_ORIGINS`;
when it allows only one, a second origin half a horizon earlier is added if its training
window still has half a horizon of history before it. Every origin keeps the rule
"features strictly before the cut-off". ``Windows.origins`` lists the test cut-offs,
newest first; the newest is ``test_cutoff``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

MIN_HORIZON = 28
HISTORY_HORIZONS = 0.5
# Each origin costs one more feature table and one more fit per candidate.
MAX_ORIGINS = 3


@dataclass(frozen=True)
class Windows:
    horizon: int
    train_cutoff: pd.Timestamp
    test_cutoff: pd.Timestamp
    end: pd.Timestamp
    origins: tuple[pd.Timestamp, ...] = ()

    def __post_init__(self):
        if not self.origins:
            object.__setattr__(self, "origins", (self.test_cutoff,))

    def train_cutoff_of(self, origin) -> pd.Timestamp:
        """Where the training layout of the origin ``origin`` takes its features."""
        return pd.Timestamp(origin) - pd.Timedelta(days=self.horizon)

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
            "origins": [d.date().isoformat() for d in self.origins],
        }


def rolling_origins(first_date, test_cutoff, horizon: int) -> tuple[pd.Timestamp, ...]:
    """Test cut-offs, newest first (see the module docstring)."""
    earliest = (pd.Timestamp(first_date).normalize()
                + pd.Timedelta(days=math.ceil((1 + HISTORY_HORIZONS) * horizon)))
    origins = [test_cutoff]
    step = pd.Timedelta(days=horizon)
    if test_cutoff - step < earliest:
        step = pd.Timedelta(days=horizon // 2)
    while len(origins) < MAX_ORIGINS and origins[-1] - step >= earliest and step.days > 0:
        origins.append(origins[-1] - step)
        if step.days < horizon:
            break
    return tuple(origins)


def backtest_windows(last_date, horizon: int, first_date=None) -> Windows:
    end = pd.Timestamp(last_date).normalize() + pd.Timedelta(days=1)
    test_cutoff = end - pd.Timedelta(days=horizon)
    origins = () if first_date is None else rolling_origins(first_date, test_cutoff, horizon)
    return Windows(horizon, test_cutoff - pd.Timedelta(days=horizon), test_cutoff, end, origins)


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
        return backtest_windows(last, horizon, first), []
    shorter = int(span // (2 + HISTORY_HORIZONS))
    if shorter >= MIN_HORIZON:
        note = (
            f"The data covers {span} days; an out-of-time backtest with a {horizon}-day "
            f"horizon needs {needed}. Models are evaluated and predict for {shorter} days instead."
        )
        return backtest_windows(last, shorter, first), [note]
    note = (
        f"The data covers {span} days, too few for any out-of-time backtest (at least "
        f"{math.ceil((2 + HISTORY_HORIZONS) * MIN_HORIZON)} are needed). Scores come from "
        "the unsupervised BTYD model alone and have not been validated on later data."
    )
    return None, [note]

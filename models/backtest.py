"""Out-of-time windows and the per-cut-off feature tables shared by CLV and churn.

With ``L`` the day after the last transaction and ``H`` the horizon::

    ── history ──┤ c0 = L − 2H ── train target ──┤ c1 = L − H ── test target ──┤ L ── scored H ──
    train: features before c0, target in [c0, c1)
    test:  features before c1, target in [c1, L)      (the backtest metrics)
    final: the champion is refit on the test layout and scores features before L

The history before c0 must cover at least half a horizon. With less data the horizon is
shortened to ``floor(span / 2.5)`` days (at least :data:`MIN_HORIZON`); with even less
there is no backtest and the result says so in its notes.

A feature table at a cut-off is ``customer_features`` plus ``spend_last_horizon`` (net
spend in the ``H`` days before the cut-off, clipped at 0) plus the outputs of a BTYD
model fitted on that cut-off's histories alone (unsupervised, so no target leaks in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.clv_candidates import PAST_SPEND, BtydModel
from models.explain import Explanation, global_importance
from models.features import customer_features

MIN_HORIZON = 28
HISTORY_HORIZONS = 0.5
# Attribute columns with more distinct values than this are identifiers or free text,
# not segments; trees would only memorise them.
MAX_CATEGORIES = 50
_DUPLICATE_FEATURES = ("tenure",)


def no_progress(percent: float, message: str):
    return None


@dataclass
class BacktestResult:
    """What a CLV or churn run hands back: the backtest, the champion, and the champion's
    scores and explanation for every customer."""

    horizon: int
    windows: dict
    backtest: dict[str, dict]
    champion: str
    champion_rule: str
    notes: list[str]
    predictions: pd.Series
    model: object
    explanation: Explanation
    feature_names: list[str]

    def to_dict(self) -> dict:
        """The JSON-safe part of the result (no per-customer values)."""
        importance = global_importance(self.explanation)
        return {
            "horizon": self.horizon,
            "windows": self.windows,
            "backtest": self.backtest,
            "champion": self.champion,
            "champion_rule": self.champion_rule,
            "notes": list(self.notes),
            "feature_names": list(self.feature_names),
            "explanation_space": self.explanation.space,
            "global_importance": {str(k): float(v) for k, v in importance.items()},
        }


def score_champion(data: BacktestData, model, final: pd.DataFrame, predict, name: str) -> dict:
    """The champion's fields of a result: its scores (``predict`` on the final layout,
    named ``name``) and explanation for every customer, with the windows used."""
    inputs = final[model.feature_names_]
    return {
        "horizon": data.horizon,
        "windows": data.windows.to_dict() if data.windows else {"horizon_days": data.horizon},
        "predictions": pd.Series(np.asarray(predict(inputs), dtype=float), index=final.index,
                                 name=name),
        "model": model,
        "explanation": model.explain(inputs),
        "feature_names": list(model.feature_names_),
    }


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


def model_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a learned model may use: no duplicates, no identifier-like categories."""
    keep = []
    for column in frame.columns:
        values = frame[column]
        if column in _DUPLICATE_FEATURES:
            continue
        if isinstance(values.dtype, pd.CategoricalDtype):
            if len(values.cat.categories) <= MAX_CATEGORIES:
                keep.append(column)
        elif values.dtype.kind in "biuf":
            keep.append(column)
    return frame[keep]


class BacktestData:
    """Feature tables and targets at the backtest cut-offs, computed once and shared.

    ``run_clv`` and ``run_churn`` accept the same instance, so the features and BTYD
    fits at each cut-off are computed once per analysis.
    """

    def __init__(self, transactions: pd.DataFrame, horizon: int = 180, attributes=None):
        self.transactions = transactions
        self.attributes = attributes
        self.windows, self.notes = plan_windows(transactions, horizon)
        self.horizon = self.windows.horizon if self.windows else horizon
        self.end = backtest_windows(transactions["date"].max(), horizon).end
        self._frames: dict[pd.Timestamp, pd.DataFrame] = {}
        self._btyd: dict[pd.Timestamp, BtydModel | None] = {}
        self._codes = None

    def features(self, cutoff) -> pd.DataFrame:
        cutoff = pd.Timestamp(cutoff)
        if cutoff not in self._frames:
            self._frames[cutoff] = self._build(cutoff)
        return self._frames[cutoff]

    def btyd(self, cutoff) -> BtydModel | None:
        """The BTYD model fitted on the histories before ``cutoff`` (None if it cannot be)."""
        self.features(cutoff)
        return self._btyd[pd.Timestamp(cutoff)]

    def learnable_columns(self) -> list[str]:
        """Model features present at all three cut-offs (BTYD may fail at one of them)."""
        w = self.windows
        frames = [self.features(c) for c in (w.train_cutoff, w.test_cutoff, w.end)]
        return [
            c for c in model_features(frames[0]).columns if all(c in f.columns for f in frames[1:])
        ]

    def _build(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        frame = customer_features(self.transactions, cutoff, self.attributes)
        if frame.empty:
            raise ValueError(f"no customer has a purchase before {cutoff.date()}")
        customers, past, _ = self._window(cutoff - pd.Timedelta(days=self.horizon), cutoff)
        frame[PAST_SPEND] = (
            pd.Series(past, index=customers).reindex(frame.index, fill_value=0.0).to_numpy()
        )
        try:
            model = BtydModel(horizon=self.horizon).fit(frame)
        except ValueError as error:
            self._btyd[cutoff] = None
            self.notes.append(f"BTYD could not be fitted before {cutoff.date()}: {error}")
            return frame
        self._btyd[cutoff] = model
        return pd.concat([frame, model.outputs(frame)], axis=1)

    def _window(self, start, end) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """Net spend (clipped at 0) and whether anything was bought, per customer, in
        [start, end): ``features.future_spend`` and ``purchased_between`` on customer
        codes factorised once, since each of those calls factorises millions of ids."""
        if self._codes is None:
            tx = self.transactions
            self._codes, self._customers = pd.factorize(tx["customer_id"], sort=True)
            self._dates = tx["date"].to_numpy()
            self._amount = np.nan_to_num(tx["amount"].to_numpy(dtype=float, na_value=np.nan))
        inside = (
            (self._dates >= np.datetime64(pd.Timestamp(start)))
            & (self._dates < np.datetime64(pd.Timestamp(end)))
            & (self._codes >= 0)
        )
        n = len(self._customers)
        spend = np.bincount(self._codes[inside], self._amount[inside], minlength=n)
        bought = np.bincount(self._codes[inside & (self._amount > 0)], minlength=n) > 0
        customers = pd.Index(self._customers, name="customer_id")
        return customers, np.clip(spend, 0.0, None), bought

    def spend_target(self, cutoff, index: pd.Index) -> np.ndarray:
        """Net spend in [cutoff, cutoff + H), clipped at 0, for the customers in ``index``."""
        cutoff = pd.Timestamp(cutoff)
        customers, spend, _ = self._window(cutoff, cutoff + pd.Timedelta(days=self.horizon))
        return (
            pd.Series(spend, index=customers).reindex(index, fill_value=0.0).to_numpy(dtype=float)
        )

    def churn_target(self, cutoff, index: pd.Index) -> np.ndarray:
        """1 when a customer in ``index`` makes no purchase in [cutoff, cutoff + H)."""
        cutoff = pd.Timestamp(cutoff)
        customers, _, bought = self._window(cutoff, cutoff + pd.Timedelta(days=self.horizon))
        return 1 - pd.Series(bought, index=customers).reindex(index, fill_value=False).to_numpy(
            dtype=int
        )


def choose_champion(
    backtest: dict[str, dict],
    simplest_first: list[str],
    score: str,
    eligible,
    margin: float,
) -> str | None:
    """The eligible candidate with the best ``score``; a more complex candidate must beat
    the simpler incumbent by more than ``margin``. None when no candidate is eligible."""
    champion, best = None, -math.inf
    for name in simplest_first:
        metrics = backtest.get(name)
        if metrics is None or not eligible(metrics) or metrics.get(score) is None:
            continue
        value = metrics[score]
        if champion is None or value > best + margin:
            champion, best = name, value
    return champion

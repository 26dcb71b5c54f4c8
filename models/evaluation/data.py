"""Feature tables and targets at the backtest cut-offs, computed once per analysis.

A feature table at a cut-off is ``customer_features`` plus ``spend_last_horizon`` (net
spend in the ``H`` days before the cut-off, clipped at 0) plus the outputs of a BTYD
model fitted on that cut-off's histories alone (unsupervised, so no target leaks in).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.estimators.clv import PAST_SPEND, BtydModel
from models.evaluation.windows import plan_windows
from models.features import (
    MAX_CATEGORIES,
    AttributeTable,
    coded_labels,
    customer_features,
    future_spend,
)

_DUPLICATE_FEATURES = ("tenure",)


def data_end(transactions: pd.DataFrame) -> pd.Timestamp:
    """L: the day after the last transaction, where final features are taken."""
    return pd.Timestamp(transactions["date"].max()).normalize() + pd.Timedelta(days=1)


def _with_model_inputs(frame: pd.DataFrame, past: pd.Series, btyd: BtydModel | None):
    frame[PAST_SPEND] = past.reindex(frame.index, fill_value=0.0).to_numpy()
    return frame if btyd is None else pd.concat([frame, btyd.outputs(frame)], axis=1)


def final_features(transactions: pd.DataFrame, horizon: int, btyd: BtydModel | None,
                   attributes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The feature table at L for scoring: like ``BacktestData.features(L)`` but with a
    BTYD model fitted before (at training), so new data is scored by the trained models."""
    cutoff = data_end(transactions)
    frame = customer_features(transactions, cutoff, attributes)
    if frame.empty:
        raise ValueError(f"no customer has a purchase before {cutoff.date()}")
    past = future_spend(transactions, cutoff - pd.Timedelta(days=horizon), cutoff)
    return _with_model_inputs(frame, past, btyd)


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
        # Converted once, joined at every cut-off.
        self._attributes = None if attributes is None else AttributeTable(attributes)
        self._coded = None
        self.windows, self.notes = plan_windows(transactions, horizon)
        self.horizon = self.windows.horizon if self.windows else horizon
        self.end = data_end(transactions)
        self._frames: dict[pd.Timestamp, pd.DataFrame] = {}
        self._btyd: dict[pd.Timestamp, BtydModel | None] = {}
        self._codes = None
        self._windows: dict[tuple, tuple] = {}

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
        """Model features present at the latest origin's cut-offs and at L (BTYD may fail
        at one of them); an earlier origin lacking one of them is left out."""
        w = self.windows
        frames = [self.features(c) for c in (w.train_cutoff, w.test_cutoff, w.end)]
        return [
            c for c in model_features(frames[0]).columns if all(c in f.columns for f in frames[1:])
        ]

    def _build(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        if self._coded is None:
            self._coded = coded_labels(self.transactions)
        frame = customer_features(self._coded, cutoff, self._attributes)
        if frame.empty:
            raise ValueError(f"no customer has a purchase before {cutoff.date()}")
        customers, past, _ = self._window(cutoff - pd.Timedelta(days=self.horizon), cutoff)
        past = pd.Series(past, index=customers)
        try:
            model = BtydModel(horizon=self.horizon).fit(frame)
        except ValueError as error:
            model = None
            self.notes.append(f"BTYD could not be fitted before {cutoff.date()}: {error}")
        self._btyd[cutoff] = model
        return _with_model_inputs(frame, past, model)

    def _window(self, start, end) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """Net spend (clipped at 0) and whether anything was bought, per customer, in
        [start, end): ``features.future_spend`` and ``purchased_between`` on customer
        codes factorised once and rows sorted by date once, so each window is one slice
        (and each is computed once: CLV and churn ask for the same ones)."""
        key = (pd.Timestamp(start), pd.Timestamp(end))
        if key in self._windows:
            return self._windows[key]
        if self._codes is None:
            tx = self.transactions
            dates = tx["date"].to_numpy()
            order = np.argsort(dates, kind="stable")  # NaT last, outside every window
            codes, self._customers = pd.factorize(tx["customer_id"], sort=True)
            amount = np.nan_to_num(tx["amount"].to_numpy(dtype=float, na_value=np.nan))
            self._codes, self._dates, self._amount = codes[order], dates[order], amount[order]
        lo, hi = np.searchsorted(self._dates, [np.datetime64(t) for t in key])
        codes, amount = self._codes[lo:hi], self._amount[lo:hi]
        known = codes >= 0
        n = len(self._customers)
        spend = np.bincount(codes[known], amount[known], minlength=n)
        bought = np.bincount(codes[known & (amount > 0)], minlength=n) > 0
        customers = pd.Index(self._customers, name="customer_id")
        self._windows[key] = customers, np.clip(spend, 0.0, None), bought
        return self._windows[key]

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

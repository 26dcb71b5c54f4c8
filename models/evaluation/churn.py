"""Churn: no purchase in the next H days, among customers with a purchase before the cut-off.

Candidates (windows as in ``models.evaluation.backtest``):

* ``recency`` — logistic map of log(1 + days since the last purchase) (the baseline);
* ``btyd`` — BG/NBD probability of no purchase in H days, fitted on the histories
  before each cut-off (unsupervised);
* ``xgboost`` — calibrated gradient-boosted trees on every customer feature, the BTYD
  outputs included.

Each candidate's decision threshold is the one that maximises F1 on the *training*
window (for the trees, on the calibration part they were not fit on); precision, recall
and F1 on the test window use that threshold. Champion rule: the highest ROC AUC on the
test window, where a more complex candidate (order: recency, btyd, xgboost) must beat a
simpler one by more than 0.005. The champion is refit on the test layout and gives every
customer a churn probability from the features before L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.evaluation.backtest import (
    BacktestResult,
    choose_champion,
    no_progress,
    score_champion,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import best_f1_threshold, classification_metrics

__all__ = ["ChurnResult", "run_churn"]

CANDIDATES = ["recency", "btyd", "xgboost"]
AUC_MARGIN = 0.005
MIN_TREE_ROWS = 200
CHAMPION_RULE = (
    "Highest ROC AUC on the test window; a more complex candidate (order "
    f"{', '.join(CANDIDATES)}) must beat a simpler one by more than {AUC_MARGIN}."
)


@dataclass
class ChurnResult(BacktestResult):
    """Churn run result; ``predictions`` is P(no purchase in the next H days) and
    ``threshold`` the cut that maximised F1 where the champion was fitted."""

    threshold: float

    def to_dict(self) -> dict:
        return {**super().to_dict(), "threshold": self.threshold}


def _churn_probability(model, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, 1]


def _fit(name, frame, target, btyd, columns, random_state, boosting):
    """Fit candidate ``name`` on one window: (model, threshold chosen on that window)."""
    if name == "recency":
        model = RecencyModel().fit(frame, target)
        return model, best_f1_threshold(target, _churn_probability(model, frame))
    if name == "btyd":
        model = BtydChurnModel(horizon=btyd.horizon).fit(frame, btyd=btyd)
        return model, best_f1_threshold(target, _churn_probability(model, frame))
    model = BoostedChurnModel(random_state=random_state, **boosting).fit(frame[columns], target)
    return model, best_f1_threshold(model.holdout_target_, model.holdout_probability_)


def run_churn(
    transactions: pd.DataFrame,
    horizon: int = 180,
    attributes: pd.DataFrame | None = None,
    random_state: int = 0,
    progress=None,
    data: BacktestData | None = None,
    boosting: dict | None = None,
) -> ChurnResult:
    """Backtest the churn candidates, pick the champion, refit it and score every customer."""
    report = progress or no_progress
    boosting = dict(boosting or {})
    data = data or BacktestData(transactions, horizon, attributes)
    windows = data.windows
    if windows is None:
        return _unvalidated(data)
    report(5, "Churn: features at the backtest cut-offs")
    train, test = data.features(windows.train_cutoff), data.features(windows.test_cutoff)
    final = data.features(windows.end)
    y_train = data.churn_target(windows.train_cutoff, train.index)
    y_test = data.churn_target(windows.test_cutoff, test.index)
    notes = list(data.notes)
    columns = data.learnable_columns()
    btyd_train, btyd_test = data.btyd(windows.train_cutoff), data.btyd(windows.test_cutoff)

    names = ["recency"]
    if btyd_train is not None and btyd_test is not None:
        names.append("btyd")
    if len(train) >= MIN_TREE_ROWS and 0 < y_train.sum() < len(y_train):
        names.append("xgboost")
    else:
        notes.append(
            f"Too few customers ({len(train)}) or a single outcome to train the tree model."
        )
    backtest = {}
    for name in names:
        report(10 + 15 * len(backtest), f"Churn: backtesting {name}")
        model, threshold = _fit(name, train, y_train, btyd_train, columns, random_state, boosting)
        if name == "btyd":
            model = BtydChurnModel(horizon=data.horizon).fit(test, btyd=btyd_test)
        backtest[name] = classification_metrics(y_test, _churn_probability(model, test), threshold)

    champion = choose_champion(backtest, CANDIDATES, "roc_auc", lambda metrics: True, AUC_MARGIN)
    champion = champion or "recency"
    report(60, f"Churn: refitting {champion} on the latest window")
    if champion == "btyd":
        # Threshold from the test layout; the scores come from BTYD refit before L.
        _, threshold = _fit("btyd", test, y_test, btyd_test, columns, random_state, boosting)
        model = BtydChurnModel(horizon=data.horizon).fit(final, btyd=data.btyd(windows.end))
    else:
        model, threshold = _fit(champion, test, y_test, btyd_test, columns, random_state, boosting)
    report(80, "Churn: scoring and explaining every customer")
    return _result(data, backtest, champion, CHAMPION_RULE, notes, model, threshold, final)


def _unvalidated(data: BacktestData) -> ChurnResult:
    btyd = data.btyd(data.end)
    if btyd is None:
        raise ValueError("too little history to estimate churn: no backtest and no BTYD fit")
    final = data.features(data.end)
    model = BtydChurnModel(horizon=data.horizon).fit(final, btyd=btyd)
    rule = "No backtest was possible; the unsupervised BG/NBD model is used with a 0.5 threshold."
    return _result(data, {}, "btyd", rule, list(data.notes), model, 0.5, final)


def _result(data, backtest, champion, rule, notes, model, threshold, final) -> ChurnResult:
    return ChurnResult(
        backtest=backtest, champion=champion, champion_rule=rule, notes=notes,
        threshold=float(threshold),
        **score_champion(data, model, final, lambda inputs: _churn_probability(model, inputs),
                         "churn_probability"),
    )

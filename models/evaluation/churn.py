"""Churn: no purchase in the next H days, among customers with a purchase before the cut-off.

Candidates (windows as in ``models.evaluation.backtest``):

* ``recency`` — logistic map of log(1 + days since the last purchase) (the baseline);
* ``btyd`` — BG/NBD probability of no purchase in H days, fitted on the histories
  before each cut-off (unsupervised);
* ``xgboost`` — calibrated gradient-boosted trees on every customer feature, the BTYD
  outputs included.

Each candidate's decision threshold is the one that maximises F1 on the *training*
window (for the trees, on the calibration part they were not fit on); precision, recall
and F1 on the test window use that threshold. Every candidate is scored at each rolling
origin (ROC AUC, Brier and the largest decile reliability gap per origin). Champion rule:
the highest mean ROC AUC over the origins, where a more complex candidate (order: recency, btyd, xgboost) must beat a
simpler one by more than 0.005. The champion is refit on the test layout and gives every
customer a churn probability from the features before L.
"""

from __future__ import annotations

import pandas as pd

from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.evaluation.backtest import (
    CHURN_OUTPUT,
    MIN_TREE_ROWS,
    BacktestResult,
    champion_result,
    choose_champion,
    run_backtest,
    tree_options,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import best_f1_threshold, classification_metrics

__all__ = ["ChurnBacktest", "run_churn"]

CANDIDATES = ["recency", "btyd", "xgboost"]
AUC_MARGIN = 0.005
CHAMPION_RULE = (
    "Highest mean ROC AUC over the rolling origins; a more complex candidate (order "
    f"{', '.join(CANDIDATES)}) must beat a simpler one by more than {AUC_MARGIN}."
)


def _churn_probability(model, X: pd.DataFrame):
    return model.predict_proba(X)[:, 1]


class ChurnBacktest:
    """The churn part of ``run_backtest``: candidates, metrics, champion rule and refit."""

    label, output, rule = "Churn", CHURN_OUTPUT, CHAMPION_RULE

    def __init__(self, random_state: int = 0, boosting: dict | None = None):
        self.random_state = random_state
        self.boosting = dict(boosting or {})

    @staticmethod
    def target(data: BacktestData, cutoff, index):
        return data.churn_target(cutoff, index)

    def _fit(self, name, frame, target, btyd, layouts):
        """Fit candidate ``name`` on one window of ``layouts``: (model, threshold chosen on
        that window)."""
        if name == "recency":
            model = RecencyModel().fit(frame, target)
            return model, best_f1_threshold(target, _churn_probability(model, frame))
        if name == "btyd":
            model = BtydChurnModel(horizon=btyd.horizon).fit(frame, btyd=btyd)
            return model, best_f1_threshold(target, _churn_probability(model, frame))
        model = BoostedChurnModel(random_state=self.random_state,
                                  **tree_options(self.boosting, layouts))
        model.fit(frame[layouts.columns], target)
        return model, best_f1_threshold(model.holdout_target_, model.holdout_probability_)

    def candidates(self, layouts, notes: list[str]) -> list[str]:
        data = layouts.data
        names = ["recency"]
        if (data.btyd(layouts.train_cutoff) is not None
                and data.btyd(layouts.test_cutoff) is not None):
            names.append("btyd")
        y_train = layouts.y_train
        if len(layouts.train) >= MIN_TREE_ROWS and 0 < y_train.sum() < len(y_train):
            names.append("xgboost")
        else:
            notes.append(
                f"Too few customers ({len(layouts.train)}) or a single outcome to train the "
                "tree model."
            )
        return names

    def evaluate(self, name: str, layouts) -> dict:
        data = layouts.data
        model, threshold = self._fit(name, layouts.train, layouts.y_train,
                                     data.btyd(layouts.train_cutoff), layouts)
        if name == "btyd":
            model = BtydChurnModel(horizon=data.horizon).fit(
                layouts.test, btyd=data.btyd(layouts.test_cutoff))
        probability = _churn_probability(model, layouts.test)
        return classification_metrics(layouts.y_test, probability, threshold)

    def choose(self, backtest: dict[str, dict], notes: list[str]) -> str:
        champion = choose_champion(backtest, CANDIDATES, "roc_auc", lambda m: True, AUC_MARGIN)
        return champion or "recency"

    def refit(self, champion: str, layouts, notes: list[str]):
        data, windows = layouts.data, layouts.data.windows
        model, threshold = self._fit(champion, layouts.test, layouts.y_test,
                                     data.btyd(layouts.test_cutoff), layouts)
        if champion == "btyd":
            # Threshold from the test layout; the scores come from BTYD refit before L.
            model = BtydChurnModel(horizon=data.horizon).fit(
                layouts.final, btyd=data.btyd(windows.end))
        return champion, model, threshold

    def unvalidated(self, data: BacktestData) -> BacktestResult:
        btyd = data.btyd(data.end)
        if btyd is None:
            raise ValueError("too little history to estimate churn: no backtest and no BTYD fit")
        model = BtydChurnModel(horizon=data.horizon).fit(data.features(data.end), btyd=btyd)
        rule = "No backtest was possible; the unsupervised BG/NBD model is used with a 0.5 threshold."
        return champion_result(data, self.output, {}, "btyd", rule, list(data.notes), model, 0.5)


def run_churn(
    transactions: pd.DataFrame,
    horizon: int = 180,
    attributes: pd.DataFrame | None = None,
    random_state: int = 0,
    progress=None,
    data: BacktestData | None = None,
    boosting: dict | None = None,
) -> BacktestResult:
    """Backtest the churn candidates, pick the champion and refit it for final scoring;
    the result's ``threshold`` is the cut that maximised F1 where the champion was fitted."""
    data = data or BacktestData(transactions, horizon, attributes)
    return run_backtest(ChurnBacktest(random_state, boosting), data, progress)

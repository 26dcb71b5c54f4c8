"""One backtest routine for CLV and churn, and the result it hands back.

:func:`run_backtest` does what both tasks share, in this order (windows in
``models.evaluation.windows``, feature tables in ``models.evaluation.data``):

1. the feature tables before c0 (train), c1 (test) and L (final) and the task's target
   on the train and test layouts (:class:`Layouts`);
2. each candidate the task admits is fit on the train layout and scored on the test
   layout with the task's metrics;
3. the task's champion rule picks one, and the champion is refit on the test layout
   (BTYD on the histories before L), ready to score the final layout.

A task (``models.evaluation.clv.ClvBacktest``, ``models.evaluation.churn.ChurnBacktest``)
supplies only its own part: ``label``, ``output`` (the score's name), ``target``,
``candidates``, ``evaluate``, ``choose``, ``refit`` and ``unvalidated`` (the result
without a backtest, for histories too short for one).

Scoring and explaining are separate calls on the result (:meth:`BacktestResult.predict`,
:meth:`BacktestResult.explain`), so a pipeline can fit, persist, score and explain in
different processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evaluation.data import BacktestData
from models.explain import Explanation

MIN_TREE_ROWS = 200
CLV_OUTPUT, CHURN_OUTPUT = "clv", "churn_probability"


def no_progress(percent: float, message: str):
    return None


@dataclass
class Layouts:
    """The train, test and final feature tables with the task's train and test targets."""

    data: BacktestData
    train: pd.DataFrame
    test: pd.DataFrame
    final: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    columns: list[str]

    @classmethod
    def build(cls, data: BacktestData, target) -> Layouts:
        windows = data.windows
        train = data.features(windows.train_cutoff)
        test = data.features(windows.test_cutoff)
        final = data.features(windows.end)
        return cls(
            data, train, test, final,
            target(data, windows.train_cutoff, train.index),
            target(data, windows.test_cutoff, test.index),
            data.learnable_columns(),
        )


@dataclass
class BacktestResult:
    """The backtest of every candidate and the champion, refit for final scoring.

    ``output`` names the score: ``clv`` (expected spend in the next ``horizon`` days) or
    ``churn_probability`` (P(no purchase in the next ``horizon`` days)); ``threshold``
    is the churn decision threshold (None for CLV).
    """

    horizon: int
    windows: dict
    backtest: dict[str, dict]
    champion: str
    champion_rule: str
    notes: list[str]
    model: object
    feature_names: list[str]
    output: str = CLV_OUTPUT
    threshold: float | None = None

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """The champion's score for every row of a feature table (index customer_id)."""
        inputs = features[self.feature_names]
        if self.output == CHURN_OUTPUT:
            values = self.model.predict_proba(inputs)[:, 1]
        else:
            values = self.model.predict(inputs)
        return pd.Series(np.asarray(values, dtype=float), index=features.index, name=self.output)

    def explain(self, features: pd.DataFrame) -> Explanation:
        """The champion's additive explanation of every row (see ``models.explain``)."""
        return self.model.explain(features[self.feature_names])

    def to_dict(self) -> dict:
        """The JSON-safe part of the result (no per-customer values)."""
        payload = {
            "horizon": self.horizon,
            "windows": self.windows,
            "backtest": self.backtest,
            "champion": self.champion,
            "champion_rule": self.champion_rule,
            "notes": list(self.notes),
            "feature_names": list(self.feature_names),
        }
        if self.threshold is not None:
            payload["threshold"] = self.threshold
        return payload


def champion_result(data: BacktestData, output: str, backtest: dict, champion: str, rule: str,
                    notes: list[str], model, threshold: float | None = None) -> BacktestResult:
    return BacktestResult(
        horizon=data.horizon,
        windows=data.windows.to_dict() if data.windows else {"horizon_days": data.horizon},
        backtest=backtest, champion=champion, champion_rule=rule, notes=notes, model=model,
        feature_names=list(model.feature_names_), output=output,
        threshold=None if threshold is None else float(threshold),
    )


def run_backtest(task, data: BacktestData, progress=None) -> BacktestResult:
    """Backtest ``task``'s candidates on ``data``, choose and refit the champion."""
    report = progress or no_progress
    if data.windows is None:
        return task.unvalidated(data)
    report(5, f"{task.label}: features at the backtest cut-offs")
    layouts = Layouts.build(data, task.target)
    notes = list(data.notes)
    names = task.candidates(layouts, notes)
    backtest = {}
    for name in names:
        report(10 + 50 * len(backtest) / len(names), f"{task.label}: backtesting {name}")
        backtest[name] = task.evaluate(name, layouts)
    champion = task.choose(backtest, notes)
    report(60, f"{task.label}: refitting {champion} on the latest window")
    champion, model, threshold = task.refit(champion, layouts, notes)
    report(100, f"{task.label}: champion {champion} ready")
    return champion_result(data, task.output, backtest, champion, task.rule, notes, model,
                           threshold)


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

"""The result of a CLV or churn backtest and the champion's scores (windows in
``models.evaluation.windows``, feature tables in ``models.evaluation.data``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.evaluation.data import BacktestData
from models.explain import Explanation, global_importance


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

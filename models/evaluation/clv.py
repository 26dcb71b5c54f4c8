"""Customer lifetime value: spend in the next H days, evaluated out of time.

Candidates (see ``models.evaluation.backtest`` for the windows):

* ``past_spend`` — spend in the last H days before the cut-off × a factor fit on the
  training window (the baseline);
* ``btyd`` — BG/NBD expected purchases in H days × Gamma-Gamma expected spend per
  purchase, fitted on the histories before each cut-off (unsupervised);
* ``xgboost`` — gradient-boosted trees with a Tweedie loss on every customer feature,
  the BTYD outputs included.

Every candidate is scored with every metric of ``models.evaluation.metrics.regression_metrics`` on
the test window. Champion rule: among the candidates whose total predicted / actual
lies in [0.8, 1.2], the one with the highest normalised Gini, where a more complex
candidate (order: past_spend, btyd, xgboost) must beat a simpler one by more than 0.005;
when no candidate is within the range, the best calibrated one (total ratio closest to
1; the simpler one on a tie), and the notes say so. The champion is
refit on the test layout (features before c1, target in [c1, L)) — BTYD on the
histories before L — and scores every customer with the features before L.
"""

from __future__ import annotations

import pandas as pd

from models.estimators.clv import PastSpendModel
from models.estimators.clv_boosting import BoostedSpendModel
from models.evaluation.backtest import (
    CLV_OUTPUT,
    MIN_TREE_ROWS,
    BacktestResult,
    champion_result,
    choose_champion,
    run_backtest,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import regression_metrics

__all__ = ["ClvBacktest", "run_clv"]

CANDIDATES = ["past_spend", "btyd", "xgboost"]
TOTAL_RATIO_RANGE = (0.8, 1.2)
GINI_MARGIN = 0.005
CHAMPION_RULE = (
    "Highest normalised Gini on the test window among candidates whose total predicted / "
    f"actual is within [{TOTAL_RATIO_RANGE[0]}, {TOTAL_RATIO_RANGE[1]}]; a more complex "
    f"candidate (order {', '.join(CANDIDATES)}) must beat a simpler one by more than "
    f"{GINI_MARGIN}. Without any candidate in range: the best calibrated one (total "
    "predicted / actual closest to 1)."
)


def _ratio_in_range(metrics: dict) -> bool:
    ratio = metrics["total_ratio"]
    return ratio is not None and TOTAL_RATIO_RANGE[0] <= ratio <= TOTAL_RATIO_RANGE[1]


def best_calibrated(backtest: dict[str, dict]) -> str | None:
    """The candidate whose total predicted / actual is closest to 1 (simplest on a tie)."""
    ratios = {name: metrics.get("total_ratio") for name, metrics in backtest.items()}
    known = [name for name in CANDIDATES if ratios.get(name) is not None]
    return min(known, key=lambda name: abs(ratios[name] - 1.0)) if known else None


class ClvBacktest:
    """The CLV part of ``run_backtest``: candidates, metrics, champion rule and refit."""

    label, output, rule = "CLV", CLV_OUTPUT, CHAMPION_RULE

    def __init__(self, random_state: int = 0, boosting: dict | None = None):
        self.random_state = random_state
        self.boosting = dict(boosting or {})

    @staticmethod
    def target(data: BacktestData, cutoff, index):
        return data.spend_target(cutoff, index)

    def _fit_boosted(self, frame, target, columns):
        model = BoostedSpendModel(random_state=self.random_state, **self.boosting)
        return model.fit(frame[columns], target)

    def candidates(self, layouts, notes: list[str]) -> list[str]:
        names = ["past_spend"]
        if layouts.data.btyd(layouts.data.windows.test_cutoff) is not None:
            names.append("btyd")
        if len(layouts.train) >= MIN_TREE_ROWS and layouts.y_train.sum() > 0:
            names.append("xgboost")
        else:
            notes.append(
                f"Too few customers ({len(layouts.train)}) or no spend to train the tree model."
            )
        return names

    def evaluate(self, name: str, layouts) -> dict:
        train, test = layouts.train, layouts.test
        if name == "past_spend":
            predicted = PastSpendModel().fit(train, layouts.y_train).predict(test)
        elif name == "btyd":
            predicted = layouts.data.btyd(layouts.data.windows.test_cutoff).predict(test)
        else:
            predicted = self._fit_boosted(train, layouts.y_train, layouts.columns).predict(test)
        return regression_metrics(layouts.y_test, predicted)

    def choose(self, backtest: dict[str, dict], notes: list[str]) -> str:
        champion = choose_champion(
            backtest, CANDIDATES, "normalized_gini", _ratio_in_range, GINI_MARGIN
        )
        if champion is None:
            champion = best_calibrated(backtest) or "past_spend"
            notes.append(
                f"No candidate's total predicted / actual is within {TOTAL_RATIO_RANGE}; "
                f"using the best calibrated one, {champion}."
            )
        return champion

    def refit(self, champion: str, layouts, notes: list[str]):
        data = layouts.data
        if champion == "btyd" and data.btyd(data.windows.end) is None:
            champion = "past_spend"
            notes.append("BTYD could not be refitted on the latest data; using past_spend.")
        if champion == "past_spend":
            model = PastSpendModel().fit(layouts.test, layouts.y_test)
        elif champion == "btyd":
            model = data.btyd(data.windows.end)
        else:
            model = self._fit_boosted(layouts.test, layouts.y_test, layouts.columns)
        return champion, model, None

    def unvalidated(self, data: BacktestData) -> BacktestResult:
        model = data.btyd(data.end)
        champion, rule = "btyd", "No backtest was possible; the unsupervised BTYD model is used."
        if model is None:
            model = PastSpendModel().fit(data.features(data.end))
            champion = "past_spend"
            rule = ("No backtest was possible and BTYD could not be fitted; the last period's "
                    "spend is repeated.")
        return champion_result(data, self.output, {}, champion, rule, list(data.notes), model)


def run_clv(
    transactions: pd.DataFrame,
    horizon: int = 180,
    attributes: pd.DataFrame | None = None,
    random_state: int = 0,
    progress=None,
    data: BacktestData | None = None,
    boosting: dict | None = None,
) -> BacktestResult:
    """Backtest the CLV candidates, pick the champion and refit it for final scoring.

    ``data`` lets CLV and churn share feature tables; ``boosting`` overrides the
    hyper-parameters of the tree candidate (see ``models.estimators.boosting``).
    """
    data = data or BacktestData(transactions, horizon, attributes)
    return run_backtest(ClvBacktest(random_state, boosting), data, progress)

"""Customer lifetime value: spend in the next H days, evaluated out of time.

Candidates (see ``models.evaluation.backtest`` for the windows and rolling origins):

* ``past_spend`` — spend in the last H days before the cut-off × a factor fit on the
  training window (the baseline);
* ``btyd`` — BG/NBD expected purchases in H days × Gamma-Gamma expected spend per
  purchase, fitted on the histories before each cut-off (unsupervised);
* ``xgboost`` — gradient-boosted trees with a Tweedie loss on every customer feature,
  boosting from the log of the BTYD forecast, followed by a level recalibration.

Level recalibration of the trees: the trees rank customers well, but the level they
learn belongs to their training target period; a cohort whose spending decays (or
grows, or has a season) makes it wrong for the next one. At every origin the trees'
forecast is also rescaled to each total of ``models.estimators.clv_boosting.LEVELS``
(the trees' own, BTYD's, the last H days', the geometric mean of the last two), all
computed from the features before the cut-off; the level whose **mean** total predicted
/ actual over the origins is closest to 1 is kept for every origin and for the final
model. The ranking is the same at every level.

Every candidate is scored with every metric of
``models.evaluation.metrics.regression_metrics`` at each origin. Champion rule, on the
means over the origins: first every candidate that another one beats on both ranking
(normalised Gini) and calibration (|log total ratio|), at least as well on both and
strictly on one, is dropped; then among the candidates whose mean total predicted /
actual lies in [0.9, 1.1], the one with the highest mean normalised Gini, where a more
complex candidate (order: past_spend, btyd, xgboost) must beat a simpler one by more
than 0.005; when no candidate is within the range, the best calibrated one (mean total
ratio closest to 1; the simpler one on a tie), and the notes say so. The champion is
refit on the newest test layout (features before c1, target in [c1, L)) — BTYD on the
histories before L — and scores every customer with the features before L.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models.estimators.clv import PastSpendModel
from models.estimators.clv_boosting import (
    LEVELS,
    RECENCY_FREQUENCY,
    BoostedSpendModel,
    level_total,
)
from models.estimators.clv_hurdle import HurdleSpendModel
from models.evaluation.backtest import (
    CLV_OUTPUT,
    MIN_TREE_ROWS,
    BacktestResult,
    champion_result,
    choose_champion,
    dominated_by_another,
    run_backtest,
    tree_options,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import regression_metrics

__all__ = ["ClvBacktest", "run_clv"]

CANDIDATES = ["past_spend", "btyd", "xgboost"]
# Tree variants a run may add (``ClvBacktest(variants=...)``), in order of complexity
# after the product's candidates: the Tweedie trees with monotone constraints on
# recency and frequency, and the hurdle model (``models.estimators.clv_hurdle``).
VARIANTS = ("xgboost_monotone", "hurdle")
ORDER = [*CANDIDATES, *VARIANTS]
TREES = ("xgboost", *VARIANTS)
TOTAL_RATIO_RANGE = (0.9, 1.1)
GINI_MARGIN = 0.005
CHAMPION_RULE = (
    "On the means over the rolling origins: candidates beaten on both normalised Gini and "
    "calibration (the mean over the origins of |log total predicted / actual|) by another "
    "are dropped; then the "
    "highest normalised Gini among candidates whose total predicted / actual is within "
    f"[{TOTAL_RATIO_RANGE[0]}, {TOTAL_RATIO_RANGE[1]}]; a more complex candidate (order "
    f"{', '.join(CANDIDATES)}) must beat a simpler one by more than {GINI_MARGIN}. Without "
    "any candidate in range: the best calibrated one (smallest mean |log total predicted / "
    "actual|). Tree forecasts take the level (trees, BTYD, last period, or BTYD × last "
    "period) whose mean total ratio over the origins is closest to 1."
)


def _miscalibration(metrics: dict) -> float | None:
    """How far off the candidate's totals are: the mean over the origins of
    |ln(total predicted / actual)| where the backtest has it, else that of the ratio."""
    error = metrics.get("total_log_error")
    if error is not None:
        return error
    ratio = metrics.get("total_ratio")
    return abs(math.log(ratio)) if ratio is not None and ratio > 0 else None


def _ratio_in_range(metrics: dict) -> bool:
    ratio = metrics["total_ratio"]
    return ratio is not None and TOTAL_RATIO_RANGE[0] <= ratio <= TOTAL_RATIO_RANGE[1]


def best_calibrated(backtest: dict[str, dict]) -> str | None:
    """The candidate whose totals are the least off (`_miscalibration`; simplest on a
    tie)."""
    errors = {name: _miscalibration(metrics) for name, metrics in backtest.items()}
    known = [name for name in ORDER if errors.get(name) is not None]
    return min(known, key=lambda name: errors[name]) if known else None


def dominated(backtest: dict[str, dict]) -> set[str]:
    """Candidates another candidate beats on Gini and on calibration (ties on one allowed)."""
    scores = {name: (metrics.get("normalized_gini"), _miscalibration(metrics))
              for name, metrics in backtest.items()}
    return dominated_by_another({name: pair for name, pair in scores.items()
                                 if None not in pair})


class ClvBacktest:
    """The CLV part of ``run_backtest``: candidates, metrics, level, champion rule, refit."""

    label, output, rule = "CLV", CLV_OUTPUT, CHAMPION_RULE

    def __init__(self, random_state: int = 0, boosting: dict | None = None,
                 variants: tuple[str, ...] = ()):
        unknown = set(variants) - set(VARIANTS)
        if unknown:
            raise ValueError(f"unknown CLV variants {sorted(unknown)}; expected some of {VARIANTS}")
        self.random_state = random_state
        self.boosting = dict(boosting or {})
        self.variants = tuple(variants)
        self.power_: float | None = None
        self.levels_: dict[str, str] = {}
        self.level_forecasts_: dict[str, dict] = {}

    @staticmethod
    def target(data: BacktestData, cutoff, index):
        return data.spend_target(cutoff, index)

    def _fit_boosted(self, frame, target, layouts, name: str = "xgboost"):
        if name == "hurdle":
            model = HurdleSpendModel(random_state=self.random_state,
                                     **tree_options(self.boosting, layouts))
            return model.fit(frame[layouts.columns], target)
        options = {"keep_offset_level": False, **tree_options(self.boosting, layouts)}
        if name == "xgboost_monotone":
            options["monotone"] = RECENCY_FREQUENCY
        if self.power_ is not None:
            # The variance power is tuned once, at the newest origin, and then kept.
            options["variance_powers"] = (self.power_,)
        model = BoostedSpendModel(random_state=self.random_state, **options)
        model.fit(frame[layouts.columns], target)
        self.power_ = model.power_
        return model

    def candidates(self, layouts, notes: list[str]) -> list[str]:
        names = ["past_spend"]
        if layouts.data.btyd(layouts.test_cutoff) is not None:
            names.append("btyd")
        if len(layouts.train) >= MIN_TREE_ROWS and layouts.y_train.sum() > 0:
            names.extend(["xgboost", *self.variants])
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
            predicted = layouts.data.btyd(layouts.test_cutoff).predict(test)
        else:
            predicted = self._fit_boosted(train, layouts.y_train, layouts, name).predict(
                test[layouts.columns])
            self.level_forecasts_.setdefault(name, {})[layouts.test_cutoff] = (
                layouts.y_test, _at_levels(test, predicted))
        return regression_metrics(layouts.y_test, predicted)

    def settle(self, per_origin: dict, notes: list[str]) -> dict:
        """Give each tree candidate the level whose mean total ratio is closest to 1
        (reported in ``details``; a choice made on the backtest, like the champion)."""
        for name, runs in self.level_forecasts_.items():
            errors = {}
            for level in LEVELS:
                ratios = [forecasts[level].sum() / y.sum() for y, forecasts in runs.values()
                          if level in forecasts and y.sum() > 0]
                if len(ratios) == len(runs):
                    errors[level] = abs(math.log(max(np.mean(ratios), 1e-12)))
            if not errors:
                continue
            level = min(errors, key=errors.get)
            self.levels_[name] = level
            for cutoff, (y, forecasts) in runs.items():
                per_origin[cutoff][name] = regression_metrics(y, forecasts[level])
        return per_origin

    def details(self) -> dict:
        return {"levels": dict(self.levels_)}

    def choose(self, backtest: dict[str, dict], notes: list[str]) -> str:
        beaten = dominated(backtest)
        kept = {name: metrics for name, metrics in backtest.items() if name not in beaten}
        champion = choose_champion(kept, ORDER, "normalized_gini", _ratio_in_range, GINI_MARGIN)
        if champion is None:
            champion = best_calibrated(kept) or "past_spend"
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
            model = self._fit_boosted(layouts.test, layouts.y_test, layouts, champion)
            model.set_level(layouts.final[layouts.columns], self.levels_.get(champion, "trained"))
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


def _at_levels(X: pd.DataFrame, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """The tree forecast rescaled to every available level's total."""
    total = float(predicted.sum())
    forecasts = {}
    for level in LEVELS:
        wanted = level_total(X, level, total)
        if wanted is not None and total > 0:
            forecasts[level] = predicted * (wanted / total)
    return forecasts


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

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
when no candidate is within the range, ``btyd`` (else ``past_spend``). The champion is
refit on the test layout (features before c1, target in [c1, L)) — BTYD on the
histories before L — and scores every customer with the features before L.
"""

from __future__ import annotations

import pandas as pd

from models.estimators.clv import PastSpendModel
from models.estimators.clv_boosting import BoostedSpendModel
from models.evaluation.backtest import (
    BacktestResult,
    choose_champion,
    no_progress,
    score_champion,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import regression_metrics

__all__ = ["ClvResult", "run_clv"]

CANDIDATES = ["past_spend", "btyd", "xgboost"]
TOTAL_RATIO_RANGE = (0.8, 1.2)
GINI_MARGIN = 0.005
MIN_TREE_ROWS = 200
CHAMPION_RULE = (
    "Highest normalised Gini on the test window among candidates whose total predicted / "
    f"actual is within [{TOTAL_RATIO_RANGE[0]}, {TOTAL_RATIO_RANGE[1]}]; a more complex "
    f"candidate (order {', '.join(CANDIDATES)}) must beat a simpler one by more than "
    f"{GINI_MARGIN}. Without any candidate in range: btyd, else past_spend."
)


class ClvResult(BacktestResult):
    """CLV run result; ``predictions`` is the expected spend in the next H days."""


def _ratio_in_range(metrics: dict) -> bool:
    ratio = metrics["total_ratio"]
    return ratio is not None and TOTAL_RATIO_RANGE[0] <= ratio <= TOTAL_RATIO_RANGE[1]


def _fit_boosted(frame, target, columns, random_state, boosting):
    return BoostedSpendModel(random_state=random_state, **boosting).fit(frame[columns], target)


def run_clv(
    transactions: pd.DataFrame,
    horizon: int = 180,
    attributes: pd.DataFrame | None = None,
    random_state: int = 0,
    progress=None,
    data: BacktestData | None = None,
    boosting: dict | None = None,
) -> ClvResult:
    """Backtest the CLV candidates, pick the champion, refit it and score every customer.

    ``data`` lets CLV and churn share feature tables; ``boosting`` overrides the
    hyper-parameters of the tree candidate (see ``models.estimators.boosting``).
    """
    report = progress or no_progress
    boosting = dict(boosting or {})
    data = data or BacktestData(transactions, horizon, attributes)
    windows = data.windows
    if windows is None:
        return _unvalidated(data)
    report(5, "CLV: features at the backtest cut-offs")
    train = data.features(windows.train_cutoff)
    test = data.features(windows.test_cutoff)
    final = data.features(windows.end)
    y_train = data.spend_target(windows.train_cutoff, train.index)
    y_test = data.spend_target(windows.test_cutoff, test.index)
    notes = list(data.notes)
    columns = data.learnable_columns()

    predictions = {"past_spend": PastSpendModel().fit(train, y_train).predict(test)}
    btyd_test = data.btyd(windows.test_cutoff)
    if btyd_test is not None:
        predictions["btyd"] = btyd_test.predict(test)
    report(30, "CLV: training the tree model")
    if len(train) >= MIN_TREE_ROWS and y_train.sum() > 0:
        boosted = _fit_boosted(train, y_train, columns, random_state, boosting)
        predictions["xgboost"] = boosted.predict(test)
    else:
        notes.append(f"Too few customers ({len(train)}) or no spend to train the tree model.")
    backtest = {name: regression_metrics(y_test, pred) for name, pred in predictions.items()}

    champion = choose_champion(
        backtest, CANDIDATES, "normalized_gini", _ratio_in_range, GINI_MARGIN
    )
    if champion is None:
        champion = "btyd" if "btyd" in backtest else "past_spend"
        notes.append(
            f"No candidate's total predicted / actual is within {TOTAL_RATIO_RANGE}; using {champion}."
        )

    report(60, f"CLV: refitting {champion} on the latest window")
    if champion == "btyd" and data.btyd(windows.end) is None:
        champion = "past_spend"
        notes.append("BTYD could not be refitted on the latest data; using past_spend.")
    if champion == "past_spend":
        model = PastSpendModel().fit(test, y_test)
    elif champion == "btyd":
        model = data.btyd(windows.end)
    else:
        model = _fit_boosted(test, y_test, columns, random_state, boosting)
    report(80, "CLV: scoring and explaining every customer")
    return _result(data, backtest, champion, CHAMPION_RULE, notes, model, final)


def _unvalidated(data: BacktestData) -> ClvResult:
    final = data.features(data.end)
    notes = list(data.notes)
    model = data.btyd(data.end)
    champion, rule = "btyd", "No backtest was possible; the unsupervised BTYD model is used."
    if model is None:
        model = PastSpendModel().fit(final)
        champion = "past_spend"
        rule = "No backtest was possible and BTYD could not be fitted; the last period's spend is repeated."
    return _result(data, {}, champion, rule, notes, model, final)


def _result(data, backtest, champion, rule, notes, model, final) -> ClvResult:
    return ClvResult(
        backtest=backtest, champion=champion, champion_rule=rule, notes=notes,
        **score_champion(data, model, final, model.predict, "clv"),
    )

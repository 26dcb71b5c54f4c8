"""Transactions: train, score and explain as three separate calls.

* :func:`train_transactions` — features at L (the day after the last transaction), RFM
  thresholds, k-means segments, the CLV and churn backtests with every candidate's
  metrics, the champions (rules in ``models.evaluation.clv`` / ``.churn``) refit for
  final scoring. Returns :class:`Trained`; ``Trained.report`` is the JSON-safe report
  (``kind``, ``timings`` of these stages, ``data``, ``rfm``, ``segmentation``,
  ``models.clv`` / ``models.churn``, ``forecast``: the tenant's total for the next
  ``horizon`` days with an 80 % interval, see ``models.evaluation.forecast``).
  ``data.customers_without_purchase`` counts and
  names (first five ids, sorted) the customers in the data without any positive amount
  before L: they get no features and no scores.
* :func:`score_transactions` — one row per customer with a purchase: ``customer_id``,
  the features (``models.features`` plus ``spend_last_horizon`` and the ``btyd_*``
  inputs), ``r_score, f_score, m_score, rfm_score, rfm_segment, action``,
  ``cluster, persona, clv, p_no_purchase, churn_probability, p_alive,
  expected_purchases`` (BG/NBD fitted before L: P(no purchase in the next ``horizon``
  days) beside the CLV, probability alive and purchases in the next ``horizon`` days;
  without BTYD, ``p_no_purchase`` is the churn champion's probability and the other two
  are empty).
* :func:`explain_transactions` — the champions' SHAP contributions, see
  ``models.pipeline.explanations``.

Scoring and explaining take the features at the end of the transactions they are given,
so the trained models can score a later upload as well as the data they were trained on.
Persistence: ``Trained.save(directory)`` / ``models.pipeline.load_trained(directory)``
(layout in ``models.pipeline.trained``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models.evaluation.backtest import run_backtest
from models.evaluation.churn import ChurnBacktest
from models.evaluation.clv import ClvBacktest
from models.evaluation.data import BacktestData, final_features
from models.evaluation.forecast import (
    coverage,
    forecast_spread,
    interval_check,
    level_origins,
    total_interval,
)
from models.evaluation.windows import HISTORY_HORIZONS, MIN_HORIZON
from models.pipeline.explanations import Explanations
from models.pipeline.stages import Progress, Stages
from models.pipeline.trained import Trained
from models.rfm import rfm_segments, rfm_thresholds
from models.segmentation import CustomerSegmenter

SEGMENT_COLUMNS = ["frequency", "days_since_last", "total_spend", "avg_order_value", "tenure"]
# Where each training stage starts on the 0–100 progress scale (their shares of the time).
TRAIN_STAGES = {"features": 0, "rfm": 12.5, "segmentation": 16.25, "clv": 25, "churn": 68.75}
EXAMPLE_IDS = 5
SCORE_NAMES = {"clv": "future spend (CLV)", "churn_probability": "churn risk"}
# The shortest history any backtest can use (see models.evaluation.windows).
MIN_HISTORY_DAYS = math.ceil((2 + HISTORY_HORIZONS) * MIN_HORIZON)


class UnusableHistory(ValueError):
    """The transactions cannot support the models; the message is for the user."""


def _customers_without_purchase(transactions: pd.DataFrame, features: pd.DataFrame) -> dict:
    ids = pd.Index(transactions["customer_id"].dropna().unique()).astype(str)
    missing = ids.difference(features.index.astype(str))
    return {"count": int(len(missing)), "examples": [str(i) for i in missing[:EXAMPLE_IDS]]}


def train_transactions(transactions: pd.DataFrame, horizon: int = 180,
                       attributes: pd.DataFrame | None = None, random_state: int = 0,
                       progress: Progress | None = None, boosting: dict | None = None
                       ) -> Trained:
    """Fit everything on canonical transactions (``attributes``: index customer_id)."""
    if horizon < 1:
        raise ValueError("the horizon must be at least one day")
    if not (transactions["amount"] > 0).any():
        raise UnusableHistory("No transaction has a positive amount: with only returns there "
                              "is no spend to learn from.")
    stages = Stages(TRAIN_STAGES, progress)
    with stages.stage("features", "Building customer features"):
        data = BacktestData(transactions, horizon, attributes)
        features = data.features(data.end)
    with stages.stage("rfm", "Scoring RFM segments"):
        thresholds = rfm_thresholds(features)
        segments = rfm_segments(features, thresholds)["rfm_segment"]
    with stages.stage("segmentation", "Clustering customers"):
        segmenter = CustomerSegmenter(random_state=random_state, columns=SEGMENT_COLUMNS)
        segmenter.fit(features)
    with stages.stage("clv", "Backtesting and fitting CLV models") as report:
        clv = run_backtest(ClvBacktest(random_state, boosting), data, report)
    with stages.stage("churn", "Backtesting and fitting churn models") as report:
        churn = run_backtest(ChurnBacktest(random_state, boosting), data, report)
    scores = {result.output: result.predict(features) for result in (clv, churn)}
    _require_scores(transactions, features, data.horizon, scores, clv, churn)
    stages.progress(100, "Models trained")
    report = {
        "kind": "transactions",
        "timings": stages.timings,
        "data": {
            "customers": int(len(features)),
            "transactions": int(len(transactions)),
            "first_date": transactions["date"].min().isoformat(),
            "last_date": transactions["date"].max().isoformat(),
            "customers_without_purchase": _customers_without_purchase(transactions, features),
        },
        "rfm": {"segments": counts(segments)},
        "segmentation": segmentation_report(segmenter),
        "models": {"clv": clv.to_dict(), "churn": churn.to_dict()},
        "forecast": tenant_forecast(clv, features, scores[clv.output]),
    }
    return Trained(data.horizon, report, thresholds, segmenter, clv, churn, data.btyd(data.end))


def _require_scores(transactions: pd.DataFrame, features: pd.DataFrame, horizon: int,
                    scores: dict, *results) -> None:
    """Refuse to hand on models that give no number for some customers: an unvalidated
    BTYD fit on a few weeks of data can, and a blank CLV would look like a zero one.
    ``scores``: each result's predictions on ``features``, by output name."""
    for result in results:
        missing = int((~np.isfinite(scores[result.output])).sum())
        if not missing:
            continue
        dates = transactions["date"]
        span = (dates.max().normalize() - dates.min().normalize()).days + 1
        raise UnusableHistory(
            f"The data covers {span} days, too little history to predict "
            f"{SCORE_NAMES.get(result.output, result.output)} over {horizon} days: the "
            f"{result.champion} model gave no value for "
            f"{missing:,} of {len(features):,} customers. Upload at least "
            f"{MIN_HISTORY_DAYS} days of transactions (more for a longer horizon).")


def tenant_forecast(clv, features: pd.DataFrame, predicted: pd.Series | None = None) -> dict:
    """The champion's total for the next H days, its 80 % interval from the rolling
    backtest, and how often such an interval covered the actual total there
    (``predicted``: the champion's forecasts on ``features`` when already made)."""
    rows = [row for row in clv.origins if row["candidate"] == clv.champion]
    predicted = clv.predict(features) if predicted is None else predicted
    total = float(np.nansum(predicted.to_numpy()))
    checks = interval_check(rows)
    interval = total_interval(total, forecast_spread(rows), origins=level_origins(rows))
    return {**interval, "horizon": int(clv.horizon),
            "checks": checks, "coverage": coverage(checks)}


def _features(trained: Trained, frame: pd.DataFrame, attributes) -> pd.DataFrame:
    """Features at the end of ``frame`` when it holds transactions, else ``frame`` itself
    (a feature table or scored customers, indexed by or holding ``customer_id``)."""
    if {"date", "amount"} <= set(frame.columns):
        return final_features(frame, trained.horizon, trained.btyd, attributes)
    return frame.set_index("customer_id") if "customer_id" in frame.columns else frame


def score_transactions(trained: Trained, transactions: pd.DataFrame,
                       attributes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer with a purchase (columns in the module docstring)."""
    features = _features(trained, transactions, attributes)
    customers = features.join(rfm_segments(features, trained.rfm_thresholds))
    labels = trained.segmenter.predict(features)
    customers["cluster"] = labels
    customers["persona"] = [trained.segmenter.personas_[label] for label in labels]
    customers["clv"] = trained.clv.predict(features)
    customers["churn_probability"] = trained.churn.predict(features)
    customers["p_no_purchase"] = features.get("btyd_p_inactive", customers["churn_probability"])
    missing = pd.Series(float("nan"), index=features.index)
    customers["p_alive"] = features.get("btyd_p_alive", missing)
    customers["expected_purchases"] = features.get("btyd_purchases", missing)
    customers.index.name = "customer_id"
    return customers.reset_index()


def explain_transactions(trained: Trained, transactions_or_features: pd.DataFrame,
                         attributes: pd.DataFrame | None = None) -> Explanations:
    """The CLV and churn champions' contributions for every customer."""
    features = _features(trained, transactions_or_features, attributes)
    return Explanations.of({"clv": trained.clv.explain(features),
                            "churn": trained.churn.explain(features)})


def counts(values: pd.Series) -> dict[str, int]:
    return {str(name): int(count) for name, count in values.value_counts().items()}


def segmentation_report(segmenter: CustomerSegmenter) -> dict:
    return {
        "k": int(segmenter.k_),
        "silhouette": float(segmenter.silhouette_),
        "curves": segmenter.curves_,
        "columns": list(segmenter.columns_),
        "personas": [segmenter.personas_[label] for label in range(segmenter.k_)],
        "profiles": segmenter.profiles_.reset_index().to_dict(orient="records"),
    }

"""The gradient-boosted CLV candidate (see :class:`BoostedSpendModel`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from models.estimators.boosting import BoostedModel, split_rows
from models.estimators.clv import PAST_SPEND
from models.evaluation.metrics import normalized_gini
from models.explain import Explanation

# Where a tree forecast's total can come from, on the population it scores:
# "trained" — the trees' own level, learned on the training target period;
# "btyd" — BTYD's forecast total (``btyd_value``), an average over whole histories;
# "recent" — the spend of the last H days (``spend_last_horizon``) repeated;
# "btyd_recent" — the geometric mean of the two, when neither alone is trusted.
LEVELS = ("trained", "btyd", "recent", "btyd_recent")
# Monotone constraints a CLV practitioner would impose: more repeat purchases never lower
# the forecast, more days since the last purchase never raise it.
RECENCY_FREQUENCY = {"frequency": 1, "days_since_last": -1}


def monotone_constraints(feature_names: list[str], monotone: dict) -> dict:
    """XGBoost's ``monotone_constraints`` for the features in ``monotone`` ({name: ±1});
    nothing when none of them is a feature."""
    signs = [int(monotone.get(name, 0)) for name in feature_names]
    if not any(signs):
        return {}
    return {"monotone_constraints": "(" + ",".join(map(str, signs)) + ")"}


def level_total(X: pd.DataFrame, level: str, trained_total: float) -> float | None:
    """The forecast total under ``level`` for the customers of ``X`` (None if unknown)."""
    if level == "trained":
        return trained_total
    totals = {}
    for name, column in (("btyd", "btyd_value"), ("recent", PAST_SPEND)):
        if column in X.columns:
            totals[name] = float(np.nansum(np.clip(X[column].to_numpy(dtype=float), 0, None)))
    if level == "btyd_recent" and {"btyd", "recent"} <= set(totals):
        return float(np.sqrt(totals["btyd"] * totals["recent"]))
    total = totals.get(level)
    return total if total is None or total > 0 else None


class Levelled:
    """``set_level`` for spend models that keep a log-level shift (``level_shift_``,
    added to their log forecast) and the name of their level (``level_``)."""

    def set_level(self, X: pd.DataFrame, level: str):
        """Shift the log-level so the forecast total on ``X`` is ``level``'s total
        (:data:`LEVELS`); ``X`` is the population the model is about to score."""
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
        total = float(self.predict(X).sum())
        wanted = level_total(X, level, total)
        if wanted is None or total <= 0:
            raise ValueError(f"the {level!r} level is not available for this table")
        self.level_shift_ += float(np.log(wanted) - np.log(total))
        self.level_ = level
        return self


class BoostedSpendModel(Levelled, BoostedModel):
    """XGBoost with a Tweedie loss: suited to spend that is often 0 and heavy-tailed.

    With ``offset`` (default ``btyd_value``) the trees boost from the log of that
    column, i.e. they learn a multiplicative correction to the BTYD forecast. BTYD
    carries the ageing of customers from one cut-off to the next, which trees cannot
    extrapolate; without an offset a model trained on a younger cohort over-predicts.
    Values below ``1e-3`` × the training mean are floored before the log.

    With ``keep_offset_level`` the trees only redistribute the offset forecast: a constant
    shift makes the corrected forecast total equal the offset total on the training
    window. The level the trees learn belongs to the training target period (its
    season, its trend) and does not carry over to the next period; BTYD's level, an
    average over each customer's whole history, does better out of time.

    :meth:`set_level` recalibrates the total after fitting (see :data:`LEVELS`): the
    trees rank, the level comes from a forecast of the total that a rolling backtest
    found better calibrated than the trees' own.

    The variance power is chosen among ``variance_powers`` by the normalised Gini on the
    validation part of the training window (on at most ``tuning_rows`` training rows, to
    keep the search cheap). Trees work on log spend, so explanations are in "log-spend";
    the offset's share is ``log(offset) − mean training log(offset)``, added to the
    offset column's contribution.
    """

    kind = "xgboost_spend"

    def __init__(
        self,
        variance_powers=(1.2, 1.5, 1.8),
        tuning_rows: int = 20_000,
        offset: str | None = "btyd_value",
        keep_offset_level: bool = True,
        monotone: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.variance_powers = variance_powers
        self.tuning_rows = tuning_rows
        self.offset = offset
        self.keep_offset_level = keep_offset_level
        self.monotone = dict(monotone or {})

    def _objective(self, power: float) -> dict:
        params = {"objective": "reg:tweedie", "tweedie_variance_power": float(power),
                  **monotone_constraints(self.feature_names_, self.monotone)}
        if self.offset_floor_ is not None:
            # With an offset the trees alone must start at a margin of 0 (= log 1).
            params["base_score"] = 1.0
        return params

    def _log_offset(self, X: pd.DataFrame) -> np.ndarray | None:
        if self.offset_floor_ is None:
            return None
        values = X[self.offset].to_numpy(dtype=float)
        return np.log(np.maximum(np.nan_to_num(values, nan=0.0), self.offset_floor_))

    def fit(self, X: pd.DataFrame, y):
        self._learn_schema(X)
        data = self.prepare(X)
        target = np.asarray(y, dtype=float)
        self.offset_floor_ = None
        if self.offset is not None and self.offset in X.columns:
            mean = float(np.nanmean(X[self.offset].to_numpy(dtype=float)))
            self.offset_floor_ = 1e-3 * mean if mean > 0 else 1e-3
        offset = self._log_offset(X)
        self.offset_reference_ = float(offset.mean()) if offset is not None else 0.0
        rows = self._sample(len(data))
        shares = (1 - self.validation_share, self.validation_share)
        fit_rows, valid_rows = (
            rows[part] for part in split_rows(len(rows), shares, self.random_state)
        )
        self.power_ = float(self.variance_powers[0])
        if len(self.variance_powers) > 1:
            self.power_ = self._tune_power(
                data, target, offset, fit_rows[: self.tuning_rows], valid_rows
            )
        self.booster_ = self._train(
            data, target, self._objective(self.power_), fit_rows, valid_rows, offset
        )
        self.level_shift_, self.level_ = 0.0, "trained"
        if offset is not None and self.keep_offset_level:
            trees = super().margin(X.iloc[rows])
            start = offset[rows]
            self.level_shift_ = float(
                np.log(np.exp(start).sum()) - np.log(np.exp(start + trees).sum())
            )
        return self

    def _tune_power(self, data, target, offset, fit_rows, valid_rows) -> float:
        valid = xgb.DMatrix(data.iloc[valid_rows], enable_categorical=True,
                            nthread=self.n_threads)
        start = 0.0 if offset is None else offset[valid_rows]
        # One pair of matrices for every power: the rows and bins do not depend on it.
        parts = self._matrices(data, target, fit_rows, valid_rows, offset)
        scores = []
        for power in self.variance_powers:
            booster = self._train(
                data, target, self._objective(power), fit_rows, valid_rows, offset, parts
            )
            gini = normalized_gini(
                target[valid_rows], start + booster.predict(valid, output_margin=True)
            )
            scores.append(-np.inf if gini is None else gini)
        return float(self.variance_powers[int(np.argmax(scores))])

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        offset = self._log_offset(X)
        trees = super().margin(X) + self.level_shift_
        return trees if offset is None else trees + offset

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.exp(self.margin(X))

    def explain(self, X: pd.DataFrame) -> Explanation:
        contributions, base = self.tree_contributions(X)
        offset = self._log_offset(X)
        base += self.level_shift_
        if offset is not None:
            contributions[self.offset] += offset - self.offset_reference_
            base += self.offset_reference_
        output = pd.Series(self.margin(X), index=X.index, name="output")
        return Explanation(base, contributions, "log-spend", output)

    def _hyper_parameters(self) -> dict:
        return {
            **super()._hyper_parameters(),
            "variance_powers": [float(p) for p in self.variance_powers],
            "tuning_rows": self.tuning_rows,
            "offset": self.offset,
            "keep_offset_level": self.keep_offset_level,
            "monotone": dict(self.monotone),
        }

    def to_dict(self) -> dict:
        return {
            **super().to_dict(),
            "power": self.power_,
            "offset_floor": self.offset_floor_,
            "offset_reference": self.offset_reference_,
            "level_shift": self.level_shift_,
            "level": self.level_,
        }

    def _restore_fitted(self, payload: dict):
        self.power_ = float(payload["power"])
        self.offset_floor_ = payload["offset_floor"]
        self.offset_reference_ = float(payload["offset_reference"])
        self.level_shift_ = float(payload["level_shift"])
        self.level_ = str(payload.get("level", "trained"))

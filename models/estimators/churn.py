"""Churn candidates: the recency baseline, BG/NBD and calibrated XGBoost.

Each gives ``decision_function`` (churn log-odds), ``predict_proba`` (scikit-learn
layout: columns P(stays), P(churns)) and ``explain`` in "log-odds" space.

* ``RecencyModel`` — log-odds ``a + b · log1p(days_since_last)`` fit by logistic
  regression on the training window.
* ``BtydChurnModel`` — P(no purchase in the next ``horizon`` days | history) under a
  fitted BG/NBD (see ``BtydModel.probability_inactive``); unsupervised.
* ``BoostedChurnModel`` — XGBoost (binary logistic, hist, early stopping) followed by
  ONE monotone map: a Platt logistic on the tree margin, fit on a calibration part of
  the training window that neither the trees nor early stopping saw. The map is linear
  in the log-odds, so tree SHAP values scaled by its slope add up to the calibrated
  log-odds exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from models.estimators.boosting import BoostedModel, split_rows
from models.estimators.clv import BtydModel
from models.explain import Explanation, exact_shapley

RECENCY = "days_since_last"
_RIDGE = 1e-6


@threadpool_limits.wrap(limits=1, user_api="blas")
def fit_logistic(score: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of P(y = 1) = expit(intercept + slope · score), max. likelihood.

    A tiny ridge keeps the fit finite when the classes are perfectly separated; BLAS
    runs single-threaded (two parameters: its threads would only wait for each other).
    """
    score = np.asarray(score, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return 1.0, 0.0
    rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    if y.min() == y.max() or np.ptp(score) == 0:
        return 0.0, float(special.logit(rate))
    center, spread = score.mean(), score.std()
    z = (score - center) / spread

    def loss(theta):
        eta = theta[0] + theta[1] * z
        p = special.expit(eta)
        value = np.sum(np.logaddexp(0, eta) - y * eta) + _RIDGE * theta[1] ** 2
        residual = p - y
        return value, np.array([residual.sum(), residual @ z + 2 * _RIDGE * theta[1]])

    start = np.array([special.logit(rate), 0.0])
    theta = optimize.minimize(loss, start, jac=True, method="L-BFGS-B").x
    slope = theta[1] / spread
    return float(slope), float(theta[0] - slope * center)


def _probabilities(log_odds: np.ndarray) -> np.ndarray:
    churn = special.expit(log_odds)
    return np.column_stack([1 - churn, churn])


class _FewInputLogOdds:
    """Churn models with a closed-form log-odds over a few inputs: probabilities from
    ``decision_function`` and exact Shapley values against the reference customer."""

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _probabilities(self.decision_function(X))

    def explain(self, X: pd.DataFrame) -> Explanation:
        inputs = X[self.feature_names_]
        base, contributions = exact_shapley(self.decision_function, inputs, self.reference_)
        output = pd.Series(self.decision_function(inputs), index=X.index, name="output")
        return Explanation(base, contributions, "log-odds", output)


class RecencyModel(_FewInputLogOdds):
    kind = "recency"

    def fit(self, X: pd.DataFrame, y):
        self.slope_, self.intercept_ = fit_logistic(np.log1p(self._days(X)), y)
        self.feature_names_ = [RECENCY]
        self.reference_ = X[[RECENCY]].median().astype(float)
        return self

    @staticmethod
    def _days(X: pd.DataFrame) -> np.ndarray:
        return np.clip(X[RECENCY].to_numpy(dtype=float), 0.0, None)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.intercept_ + self.slope_ * np.log1p(self._days(X))

    def to_dict(self) -> dict:
        return {
            "slope": self.slope_,
            "intercept": self.intercept_,
            "reference": self.reference_.to_dict(),
        }

    @classmethod
    def from_dict(cls, payload: dict) -> RecencyModel:
        model = cls()
        model.slope_, model.intercept_ = float(payload["slope"]), float(payload["intercept"])
        model.feature_names_ = [RECENCY]
        model.reference_ = pd.Series(payload["reference"], dtype=float)
        return model


class BtydChurnModel(_FewInputLogOdds):
    """Churn as seen by BG/NBD; ``fit`` fits the BTYD model unless one is given."""

    kind = "btyd_churn"
    inputs = ["frequency", "recency", "days_since_last"]

    def __init__(self, horizon: int = 180):
        self.horizon = horizon

    def fit(self, X: pd.DataFrame, y=None, btyd: BtydModel | None = None):
        self.btyd_ = btyd if btyd is not None else BtydModel(horizon=self.horizon).fit(X)
        self.feature_names_ = list(self.inputs)
        self.reference_ = self.btyd_.reference_[self.feature_names_]
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        histories = X[self.feature_names_].assign(monetary_value=0.0)
        return self.btyd_.churn_log_odds(histories)

    def to_dict(self) -> dict:
        return {"horizon": self.horizon, "btyd": self.btyd_.to_dict()}

    @classmethod
    def from_dict(cls, payload: dict) -> BtydChurnModel:
        model = cls(horizon=payload["horizon"])
        model.btyd_ = BtydModel.from_dict(payload["btyd"])
        model.feature_names_ = list(cls.inputs)
        model.reference_ = model.btyd_.reference_[model.feature_names_]
        return model


class BoostedChurnModel(BoostedModel):
    """XGBoost classifier with a Platt map on its margin (see the module docstring).

    After ``fit``, ``holdout_target_`` and ``holdout_probability_`` hold the calibrated
    predictions on the calibration part, for choosing a decision threshold honestly.
    """

    kind = "xgboost_churn"

    def __init__(self, calibration_share: float = 0.2, **kwargs):
        super().__init__(**kwargs)
        self.calibration_share = calibration_share

    def fit(self, X: pd.DataFrame, y):
        self._learn_schema(X)
        data = self.prepare(X)
        target = np.asarray(y, dtype=float)
        rows = self._sample(len(data))
        shares = (
            1 - self.validation_share - self.calibration_share,
            self.validation_share,
            self.calibration_share,
        )
        fit_rows, valid_rows, calibration_rows = (
            rows[part] for part in split_rows(len(rows), shares, self.random_state)
        )
        params = {"objective": "binary:logistic", "eval_metric": "logloss"}
        self.booster_ = self._train(data, target, params, fit_rows, valid_rows)
        margin = super().margin(X.iloc[calibration_rows])
        self.slope_, self.intercept_ = fit_logistic(margin, target[calibration_rows])
        self.holdout_target_ = target[calibration_rows].astype(int)
        self.holdout_probability_ = special.expit(self.intercept_ + self.slope_ * margin)
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.intercept_ + self.slope_ * self.margin(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return _probabilities(self.decision_function(X))

    def explain(self, X: pd.DataFrame) -> Explanation:
        contributions, base = self.tree_contributions(X)
        output = pd.Series(self.decision_function(X), index=X.index, name="output")
        return Explanation(
            self.intercept_ + self.slope_ * base, contributions * self.slope_, "log-odds", output
        )

    def _hyper_parameters(self) -> dict:
        return {**super()._hyper_parameters(), "calibration_share": self.calibration_share}

    def to_dict(self) -> dict:
        return {**super().to_dict(), "slope": self.slope_, "intercept": self.intercept_}

    def _restore_fitted(self, payload: dict):
        self.slope_, self.intercept_ = float(payload["slope"]), float(payload["intercept"])

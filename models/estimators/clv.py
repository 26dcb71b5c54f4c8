"""The simple CLV candidates: the past-spend baseline and BG/NBD + Gamma-Gamma (the tree
candidate is in ``models.estimators.clv_boosting``).

Both take the feature table of one cut-off (``models.features.customer_features`` plus
``spend_last_horizon``) and predict each customer's spend in the next ``horizon`` days.
Their parameters are plain numbers, so ``to_dict``/``from_dict`` persist them as JSON.

``BtydModel`` reads ``frequency``, ``recency``, ``days_since_last`` and
``monetary_value``; T is ``recency + days_since_last``. Writing the inputs this way keeps
every mix of a customer's and the reference customer's inputs a valid history (recency
never exceeds T), which the exact Shapley explanation needs; for the same reason a
history without repeat purchases ignores ``recency``, as BG/NBD does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from models.estimators.btyd import BetaGeoFitter, GammaGammaFitter
from models.explain import Explanation, exact_shapley

PAST_SPEND = "spend_last_horizon"
BTYD_INPUTS = ["frequency", "recency", "days_since_last", "monetary_value"]


def _reference(X: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The median customer, with whole repeat purchases."""
    reference = X[columns].median().astype(float)
    if "frequency" in reference:
        reference["frequency"] = float(np.round(reference["frequency"]))
    return reference


class PastSpendModel:
    """Spend in the last ``horizon`` days before the cut-off × a factor fit on the target.

    The factor (total target / total past spend on the training window) carries the
    overall trend from one period to the next; the ranking is the past spend itself.
    Without a target (no backtest possible) the factor is 1: the last period repeats.
    """

    kind = "past_spend"

    def __init__(self, feature: str = PAST_SPEND):
        self.feature = feature

    def fit(self, X: pd.DataFrame, y=None):
        past = X[self.feature].clip(lower=0).to_numpy(dtype=float)
        total = past.sum()
        if y is None:
            self.factor_ = 1.0
        else:
            self.factor_ = float(np.sum(y) / total) if total > 0 else 0.0
        self.feature_names_ = [self.feature]
        self.reference_ = _reference(X, self.feature_names_)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.factor_ * X[self.feature].clip(lower=0).to_numpy(dtype=float)

    def explain(self, X: pd.DataFrame) -> Explanation:
        inputs = X[self.feature_names_]
        base, contributions = exact_shapley(self.predict, inputs, self.reference_)
        output = pd.Series(self.predict(inputs), index=X.index, name="output")
        return Explanation(base, contributions, "spend", output)

    def to_dict(self) -> dict:
        return {
            "feature": self.feature,
            "factor": self.factor_,
            "reference": self.reference_.to_dict(),
        }

    @classmethod
    def from_dict(cls, payload: dict) -> PastSpendModel:
        model = cls(feature=payload["feature"])
        model.factor_ = float(payload["factor"])
        model.feature_names_ = [model.feature]
        model.reference_ = pd.Series(payload["reference"], dtype=float)
        return model


class BtydModel:
    """BG/NBD purchases in the next ``horizon`` days × Gamma-Gamma spend per purchase.

    Fitting is unsupervised (``y`` is ignored): the parameters come from the histories
    before the cut-off only, so the model can be refit on any cut-off without leakage.
    The four population parameters are estimated on a seeded random sample of at most
    ``max_fit_customers`` histories, which keeps them precise and the fit fast.
    """

    kind = "btyd"

    def __init__(
        self,
        horizon: int = 180,
        penalizer: float = 0.0,
        max_fit_customers: int = 100_000,
        random_state: int = 0,
    ):
        self.horizon = horizon
        self.penalizer = penalizer
        self.max_fit_customers = max_fit_customers
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None):
        frequency, recency, T, monetary = self._histories(X)
        if len(frequency) > self.max_fit_customers:
            rng = np.random.default_rng(self.random_state)
            rows = rng.choice(len(frequency), self.max_fit_customers, replace=False)
            frequency, recency, T, monetary = (v[rows] for v in (frequency, recency, T, monetary))
        self.purchases_ = BetaGeoFitter(self.penalizer).fit(frequency, recency, T)
        self.spend_ = GammaGammaFitter(self.penalizer).fit(frequency, monetary)
        if self.spend_.params_["q"] <= 1:
            raise ValueError("the fitted BTYD parameters give no finite expected spend")
        self.feature_names_ = list(BTYD_INPUTS)
        self.reference_ = _reference(X, self.feature_names_)
        return self

    @staticmethod
    def _histories(X: pd.DataFrame):
        frequency = np.round(X["frequency"].to_numpy(dtype=float))
        recency = np.where(frequency > 0, X["recency"].to_numpy(dtype=float), 0.0)
        T = recency + X["days_since_last"].to_numpy(dtype=float)
        monetary = np.clip(X["monetary_value"].to_numpy(dtype=float), 0.0, None)
        return frequency, recency, T, monetary

    def expected_purchases(self, X: pd.DataFrame) -> np.ndarray:
        frequency, recency, T, _ = self._histories(X)
        return self.purchases_.conditional_expected_number_of_purchases_up_to_time(
            float(self.horizon), frequency, recency, T
        )

    def probability_alive(self, X: pd.DataFrame) -> np.ndarray:
        frequency, recency, T, _ = self._histories(X)
        return self.purchases_.conditional_probability_alive(frequency, recency, T)

    def average_spend(self, X: pd.DataFrame) -> np.ndarray:
        frequency, _, _, monetary = self._histories(X)
        return self.spend_.conditional_expected_average_profit(frequency, monetary)

    def probability_inactive(self, X: pd.DataFrame) -> np.ndarray:
        """P(no purchase in the next ``horizon`` days | history) under BG/NBD.

        A customer who is alive at T has rate λ ~ Gamma(r + x, α + T) a posteriori and
        buys nothing in t days with probability ((α + T) / (α + T + t))^(r + x); one who
        has dropped out buys nothing for sure.
        """
        frequency, recency, T, _ = self._histories(X)
        r, alpha = self.purchases_.params_["r"], self.purchases_.params_["alpha"]
        alive = self.purchases_.conditional_probability_alive(frequency, recency, T)
        quiet = np.exp((r + frequency) * (np.log(alpha + T) - np.log(alpha + T + self.horizon)))
        return 1.0 - alive + alive * quiet

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.expected_purchases(X) * self.average_spend(X)

    def churn_log_odds(self, X: pd.DataFrame) -> np.ndarray:
        inactive = np.clip(self.probability_inactive(X), 1e-12, 1 - 1e-12)
        return special.logit(inactive)

    def explain(self, X: pd.DataFrame) -> Explanation:
        inputs = X[self.feature_names_]
        base, contributions = exact_shapley(self.predict, inputs, self.reference_)
        output = pd.Series(self.predict(inputs), index=X.index, name="output")
        return Explanation(base, contributions, "spend", output)

    def outputs(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's views of each customer, for use as features of other models."""
        purchases = self.expected_purchases(X)
        spend = self.average_spend(X)
        return pd.DataFrame(
            {
                "btyd_purchases": purchases,
                "btyd_p_alive": self.probability_alive(X),
                "btyd_p_inactive": self.probability_inactive(X),
                "btyd_avg_spend": spend,
                "btyd_value": purchases * spend,
            },
            index=X.index,
        )

    def to_dict(self) -> dict:
        return {
            "horizon": self.horizon,
            "penalizer": self.penalizer,
            "max_fit_customers": self.max_fit_customers,
            "random_state": self.random_state,
            "bgnbd": self.purchases_.to_dict(),
            "gamma_gamma": self.spend_.to_dict(),
            "reference": self.reference_.to_dict(),
        }

    @classmethod
    def from_dict(cls, payload: dict) -> BtydModel:
        model = cls(
            horizon=payload["horizon"],
            penalizer=payload["penalizer"],
            max_fit_customers=payload["max_fit_customers"],
            random_state=payload["random_state"],
        )
        model.purchases_ = BetaGeoFitter.from_dict(payload["bgnbd"])
        model.spend_ = GammaGammaFitter.from_dict(payload["gamma_gamma"])
        model.feature_names_ = list(BTYD_INPUTS)
        model.reference_ = pd.Series(payload["reference"], dtype=float)
        return model

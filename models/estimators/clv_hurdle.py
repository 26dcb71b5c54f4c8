"""The hurdle CLV candidate: P(a purchase in the horizon) × expected spend given one.

Two boosted tree models on the same features:

* **purchase** — binary logistic trees on "bought anything in the target window",
  boosting from BG/NBD's log-odds of a purchase (``1 − btyd_p_inactive``);
* **spend** — gamma-regression trees (log link) on the spend of the customers who
  bought, boosting from the log of BG/NBD's spend given a purchase
  (``btyd_value / (1 − btyd_p_inactive)``).

The forecast is their product: an expected value, so most customers get a small positive
number rather than a tie at zero. Like the Tweedie trees, the total takes a level
(``set_level``, :data:`models.estimators.clv_boosting.LEVELS`) chosen by the rolling
backtest. Explanations are in "log-spend": log P + log spend-given-purchase. The spend
trees' contributions add up in log space as they are; the purchase trees' add up in
log-odds, and log P is a monotone function of the log-odds, so each customer's purchase
contributions are scaled by (log P − log P(base)) / (log-odds − base log-odds). The
spend booster is kept as XGBoost's own JSON inside ``to_dict`` (the purchase booster is
the artifact's ``booster.ubj``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy import special

from models.estimators.boosting import BoostedModel, split_rows
from models.estimators.clv_boosting import Levelled
from models.explain import Explanation, tree_contributions

P_INACTIVE, VALUE = "btyd_p_inactive", "btyd_value"
_FLOOR = 1e-6


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -z)


class HurdleSpendModel(Levelled, BoostedModel):
    """P(purchase) × E[spend | purchase] with boosted trees (module docstring)."""

    kind = "xgboost_hurdle"

    def _offsets(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        """BG/NBD's purchase log-odds and log spend given a purchase, when available."""
        if not {P_INACTIVE, VALUE} <= set(X.columns):
            return None
        buy = np.clip(1 - X[P_INACTIVE].to_numpy(dtype=float), _FLOOR, 1 - _FLOOR)
        buy = np.nan_to_num(buy, nan=0.5)
        value = np.nan_to_num(X[VALUE].to_numpy(dtype=float), nan=0.0)
        given = np.maximum(value / buy, self.spend_floor_)
        return special.logit(buy), np.log(given)

    def fit(self, X: pd.DataFrame, y):
        self._learn_schema(X)
        data = self.prepare(X)
        target = np.asarray(y, dtype=float)
        bought = target > 0
        if bought.sum() < 2 or bought.all():
            raise ValueError("a hurdle model needs customers who bought and who did not")
        mean_spend = float(target[bought].mean())
        self.spend_floor_ = 1e-3 * mean_spend
        offsets = self._offsets(X)
        self.uses_offsets_ = offsets is not None
        buy_offset, spend_offset = offsets if offsets is not None else (None, None)
        rows = self._sample(len(data))
        shares = (1 - self.validation_share, self.validation_share)
        fit_rows, valid_rows = (
            rows[part] for part in split_rows(len(rows), shares, self.random_state))
        neutral = {"base_score": 0.5} if offsets is not None else {}
        self.booster_ = self._train(
            data, bought.astype(float),
            {"objective": "binary:logistic", "eval_metric": "logloss", **neutral},
            fit_rows, valid_rows, buy_offset)
        neutral = {"base_score": 1.0} if offsets is not None else {}
        self.spend_booster_ = self._train(
            data, target, {"objective": "reg:gamma", "eval_metric": "gamma-nloglik", **neutral},
            fit_rows[bought[fit_rows]], valid_rows[bought[valid_rows]], spend_offset)
        self.spend_booster_.set_param({"nthread": self.n_threads})
        self.reference_ = ([float(v.mean()) for v in offsets] if offsets is not None
                           else [0.0, 0.0])
        self.level_shift_, self.level_ = 0.0, "trained"
        return self

    def _margins(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(purchase log-odds, log spend given a purchase) per customer, before the level."""
        matrix = self.matrix(X)
        buy = self.booster_.predict(matrix, output_margin=True).astype(float)
        spend = self.spend_booster_.predict(matrix, output_margin=True).astype(float)
        offsets = self._offsets(X) if self.uses_offsets_ else None
        if offsets is not None:
            buy, spend = buy + offsets[0], spend + offsets[1]
        return buy, spend

    def purchase_probability(self, X: pd.DataFrame) -> np.ndarray:
        """P(at least one purchase in the horizon)."""
        return special.expit(self._margins(X)[0])

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        buy, spend = self._margins(X)
        return _log_sigmoid(buy) + spend + self.level_shift_

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.exp(self.margin(X))

    def explain(self, X: pd.DataFrame) -> Explanation:
        inputs = self.prepare(X)
        buy_c, buy_base = tree_contributions(self.booster_, inputs)
        spend_c, spend_base = tree_contributions(self.spend_booster_, inputs)
        names = self.feature_names_
        buy_c = pd.DataFrame(buy_c, index=X.index, columns=names)
        spend_c = pd.DataFrame(spend_c, index=X.index, columns=names)
        offsets = self._offsets(X) if self.uses_offsets_ else None
        if offsets is not None:
            for frame, offset, reference, column in ((buy_c, offsets[0], self.reference_[0],
                                                      P_INACTIVE),
                                                     (spend_c, offsets[1], self.reference_[1],
                                                      VALUE)):
                frame[column if column in names else names[0]] += offset - reference
            buy_base, spend_base = buy_base + self.reference_[0], spend_base + self.reference_[1]
        z = buy_base + buy_c.sum(axis=1).to_numpy()
        distance = z - buy_base
        close = np.abs(distance) < 1e-9
        # d/dz log sigmoid(z) = 1 − sigmoid(z): the slope where z is the base.
        factor = np.where(close, 1 - special.expit(z),
                          (_log_sigmoid(z) - _log_sigmoid(buy_base))
                          / np.where(close, 1.0, distance))
        contributions = buy_c.mul(factor, axis=0) + spend_c
        base = float(_log_sigmoid(np.array(buy_base)) + spend_base + self.level_shift_)
        output = pd.Series(self.margin(X), index=X.index, name="output")
        return Explanation(base, contributions, "log-spend", output)

    def to_dict(self) -> dict:
        return {
            **super().to_dict(),
            "spend_booster": json.loads(bytes(self.spend_booster_.save_raw("json"))),
            "spend_floor": self.spend_floor_,
            "uses_offsets": self.uses_offsets_,
            "reference": list(self.reference_),
            "level_shift": self.level_shift_,
            "level": self.level_,
        }

    def _restore_fitted(self, payload: dict):
        booster = xgb.Booster()
        booster.load_model(bytearray(json.dumps(payload["spend_booster"]).encode()))
        booster.set_param({"nthread": self.n_threads})
        self.spend_booster_ = booster
        self.spend_floor_ = float(payload["spend_floor"])
        self.uses_offsets_ = bool(payload["uses_offsets"])
        self.reference_ = [float(v) for v in payload["reference"]]
        self.level_shift_ = float(payload["level_shift"])
        self.level_ = str(payload["level"])

"""The customer-table regressor: XGBoost on the attributes of a customer table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.estimators.boosting import BoostedModel, split_rows
from models.explain import Explanation


class TableRegressor(BoostedModel):
    """XGBoost regression (squared error) with early stopping on a validation part."""

    kind = "xgboost_table"

    def __init__(self, **kwargs):
        kwargs.setdefault("learning_rate", 0.05)
        super().__init__(**kwargs)

    def fit(self, X: pd.DataFrame, y):
        self._learn_schema(X)
        data = self.prepare(X)
        target = np.asarray(y, dtype=float)
        rows = self._sample(len(data))
        shares = (1 - self.validation_share, self.validation_share)
        fit_rows, valid_rows = (
            rows[part] for part in split_rows(len(rows), shares, self.random_state)
        )
        self.booster_ = self._train(
            data, target, {"objective": "reg:squarederror"}, fit_rows, valid_rows
        )
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.margin(X)

    def explain(self, X: pd.DataFrame) -> Explanation:
        contributions, base = self.tree_contributions(X)
        return Explanation(
            base, contributions, "value", pd.Series(self.predict(X), index=X.index, name="output")
        )

"""XGBoost plumbing shared by the CLV and churn tree candidates.

* Features: every numeric column of the training table plus its categorical columns
  (pandas ``category``; XGBoost's native categorical splits). The categories seen at
  fit time are stored and imposed at prediction time, so codes always mean the same.
* Training: ``tree_method="hist"`` with early stopping on a random validation part of
  the *training* window; the booster is cut to its best iteration. Above
  ``max_train_rows`` rows a seeded random sample is used for training, which bounds the
  fit time on very large tenants at a small cost in accuracy.
* Threads: ``n_threads`` (default 1) for sketching, boosting and predicting. On the
  loaded, shared 2-core machine two OpenMP threads made a fit 6–20× slower in wall time
  (10–25× in CPU time) than one, from 20,000 to 250,000 rows: a descheduled thread
  stalls every barrier of every boosting round. Parallelism comes from running jobs side
  by side instead.
* Persistence: hyper-parameters, feature names and categories are JSON
  (:meth:`to_dict`); the booster itself is saved by ``models.artifacts`` in XGBoost's
  own format.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb

from models.explain import tree_contributions


def split_rows(n: int, shares: tuple[float, ...], random_state: int) -> list[np.ndarray]:
    """Shuffle ``range(n)`` and cut it into consecutive parts of the given shares."""
    order = np.random.default_rng(random_state).permutation(n)
    bounds = np.round(np.cumsum(shares) * n).astype(int)
    return np.split(order, bounds[:-1])


def _has_categories(values: pd.Series, categories: list[str]) -> bool:
    return (isinstance(values.dtype, pd.CategoricalDtype)
            and list(values.cat.categories) == categories)


class BoostedModel:
    """Base for the gradient-boosted candidates; subclasses add the objective."""

    kind = ""

    def __init__(
        self,
        n_estimators: int = 300,
        max_depth: int = 3,
        learning_rate: float = 0.1,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        early_stopping_rounds: int = 25,
        validation_share: float = 0.2,
        max_train_rows: int = 250_000,
        max_bin: int = 128,
        random_state: int = 0,
        n_threads: int = 1,
    ):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_share = validation_share
        self.max_train_rows = max_train_rows
        self.max_bin = max_bin
        self.random_state = random_state
        self.n_threads = n_threads

    def _hyper_parameters(self) -> dict:
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "learning_rate": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "early_stopping_rounds": self.early_stopping_rounds,
            "validation_share": self.validation_share,
            "max_train_rows": self.max_train_rows,
            "max_bin": self.max_bin,
            "random_state": self.random_state,
            "n_threads": self.n_threads,
        }

    def _booster_params(self) -> dict:
        return {
            "tree_method": "hist",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "max_bin": self.max_bin,
            "seed": self.random_state,
            "nthread": self.n_threads,
        }

    def _learn_schema(self, X: pd.DataFrame):
        names, categories = [], {}
        for column in X.columns:
            values = X[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                categories[str(column)] = [str(c) for c in values.cat.categories]
            elif values.dtype.kind not in "biuf":
                continue
            names.append(str(column))
        if not names:
            raise ValueError("no numeric or categorical feature to learn from")
        self.feature_names_ = names
        self.categories_ = categories

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's input table: its features, float32, with the fitted categories."""
        missing = set(self.feature_names_) - set(X.columns)
        if missing:
            raise ValueError(f"feature table lacks columns {sorted(missing)}")
        columns = {}
        for name in self.feature_names_:
            values = X[name]
            if name in self.categories_ and _has_categories(values, self.categories_[name]):
                columns[name] = values.array  # already coded with the fitted categories
            elif name in self.categories_:
                text = values.astype("string")
                columns[name] = pd.Categorical(text, categories=self.categories_[name])
            else:
                columns[name] = X[name].to_numpy(dtype=np.float32, na_value=np.nan)
        return pd.DataFrame(columns, index=X.index)

    def _sample(self, n: int) -> np.ndarray:
        if n <= self.max_train_rows:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(n, self.max_train_rows, replace=False))

    def _matrices(self, X, y, fit_rows, valid_rows, offset=None) -> list[xgb.DMatrix]:
        """The fit and validation matrices. Plain DMatrix: ``hist`` bins the fit part once
        (the same cuts as a QuantileDMatrix, without its two passes over the data), and
        the validation part is only predicted, never binned."""
        return [
            xgb.DMatrix(X.iloc[rows], y[rows], base_margin=None if offset is None else offset[rows],
                        enable_categorical=True, nthread=self.n_threads)
            for rows in (fit_rows, valid_rows)
        ]

    def _train(self, X, y, params: dict, fit_rows, valid_rows, offset=None,
               parts=None) -> xgb.Booster:
        """Boost from ``offset`` (a per-row starting margin) when given, with early stopping;
        ``parts`` are matrices from :meth:`_matrices` to reuse."""
        parts = parts or self._matrices(X, y, fit_rows, valid_rows, offset)
        booster = xgb.train(
            {**self._booster_params(), **params},
            parts[0],
            num_boost_round=self.n_estimators,
            evals=[(parts[1], "valid")],
            early_stopping_rounds=self.early_stopping_rounds,
            verbose_eval=False,
        )
        return booster[: booster.best_iteration + 1]

    def matrix(self, X: pd.DataFrame) -> xgb.DMatrix:
        return xgb.DMatrix(self.prepare(X), enable_categorical=True, nthread=self.n_threads)

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(self.matrix(X), output_margin=True).astype(float)

    def tree_contributions(self, X: pd.DataFrame) -> tuple[pd.DataFrame, float]:
        contributions, base = tree_contributions(self.booster_, self.prepare(X))
        return pd.DataFrame(contributions, index=X.index, columns=self.feature_names_), base

    def to_dict(self) -> dict:
        return {
            "hyper_parameters": self._hyper_parameters(),
            "feature_names": list(self.feature_names_),
            "categories": dict(self.categories_),
            "n_trees": int(self.booster_.num_boosted_rounds()),
        }

    @classmethod
    def from_dict(cls, payload: dict, booster: xgb.Booster):
        model = cls(**payload["hyper_parameters"])
        model.feature_names_ = list(payload["feature_names"])
        model.categories_ = {k: list(v) for k, v in payload["categories"].items()}
        booster.set_param({"nthread": model.n_threads})
        model.booster_ = booster
        model._restore_fitted(payload)
        return model

    def _restore_fitted(self, payload: dict):
        """Subclasses restore their own fitted attributes from :meth:`to_dict` output."""

"""Per-customer explanations of the model that produced the number shown.

An :class:`Explanation` holds additive contributions: for every customer
``base_value + contributions.sum(axis=1) == output`` in the named ``space``:

* ``"spend"`` — expected spend (BTYD and the past-spend baseline);
* ``"log-spend"`` — the natural log of expected spend (the Tweedie trees work on that
  scale; a contribution of +0.3 multiplies the prediction by e^0.3 ≈ 1.35);
* ``"log-odds"`` — the calibrated churn log-odds; the calibration map is linear on the
  log-odds, so scaled tree contributions still add up;
* ``"value"`` — the units of a customer-table target.

Tree models are explained with XGBoost's exact path-dependent tree SHAP, computed once
per distinct branch pattern of each tree and shared by the customers with that pattern
(:func:`tree_contributions`), which makes it several times faster on large tables. Models with a handful of inputs (BTYD, baselines) get exact
Shapley values against one reference customer over all 2^k coalitions
(:func:`exact_shapley`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
import xgboost as xgb

SPACES = ("spend", "log-spend", "log-odds", "value")
# Branch patterns of trees with up to this many split nodes are indexed directly (a
# table of 2^bits entries); larger ones are sorted. Beyond 64 they no longer fit a word.
_DIRECT_PATTERN_BITS = 16
_MAX_PATTERN_BITS = 64


@dataclass
class Explanation:
    base_value: float
    contributions: pd.DataFrame
    space: str
    output: pd.Series

    def __post_init__(self):
        if self.space not in SPACES:
            raise ValueError(f"unknown explanation space {self.space!r}")

    def for_customer(self, customer_id) -> pd.Series:
        """One customer's contributions, largest magnitude first."""
        row = self.contributions.loc[customer_id]
        return row.reindex(row.abs().sort_values(ascending=False).index)


def explain(model, X: pd.DataFrame) -> Explanation:
    """Explain ``model`` on the feature table ``X`` (one row per customer).

    ValueLens models carry their own ``explain``; a bare XGBoost booster or
    scikit-learn wrapper is explained in its margin space.
    """
    if hasattr(model, "explain"):
        return model.explain(X)
    booster = model.get_booster() if isinstance(model, xgb.XGBModel) else model
    if not isinstance(booster, xgb.Booster):
        raise TypeError(f"cannot explain a {type(model).__name__}")
    contributions, base = tree_contributions(booster, X)
    output = booster.predict(xgb.DMatrix(X, enable_categorical=True), output_margin=True)
    space = "log-odds" if _objective(booster).startswith("binary:") else "log-spend"
    return Explanation(
        base_value=base,
        contributions=pd.DataFrame(contributions, index=X.index, columns=list(X.columns)),
        space=space,
        output=pd.Series(output, index=X.index, name="output"),
    )


def global_importance(explanation: Explanation) -> pd.Series:
    """Mean absolute contribution per feature, largest first."""
    importance = explanation.contributions.abs().mean(axis=0)
    return importance.sort_values(ascending=False).rename("mean_abs_contribution")


def _objective(booster: xgb.Booster) -> str:
    return json.loads(booster.save_config())["learner"]["objective"]["name"]


def _trees(booster: xgb.Booster) -> list[dict]:
    """Split nodes of every tree: feature, threshold or category set, missing direction."""
    model = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]
    trees = []
    for tree in model["trees"]:
        nodes = np.flatnonzero(np.asarray(tree["left_children"]) >= 0)
        segments = dict(
            zip(
                tree["categories_nodes"],
                zip(tree["categories_segments"], tree["categories_sizes"], strict=True),
                strict=True,
            )
        )
        categories = np.asarray(tree["categories"], dtype=np.int64)
        trees.append(
            {
                "feature": np.asarray(tree["split_indices"], dtype=np.int64)[nodes],
                "threshold": np.asarray(tree["split_conditions"], dtype=np.float32)[nodes],
                "default_left": np.asarray(tree["default_left"], dtype=bool)[nodes],
                "categories": [
                    categories[segments[n][0] : segments[n][0] + segments[n][1]]
                    if n in segments
                    else None
                    for n in nodes
                ],
            }
        )
    return trees


def _goes_right(tree: dict, node: int, column: np.ndarray) -> np.ndarray:
    """XGBoost's branch rule: numeric ``x < threshold`` goes left; a category in the
    node's set goes right; a missing value follows the node's default."""
    categories = tree["categories"][node]
    missing = np.isnan(column)
    if categories is None:
        right = ~(column < tree["threshold"][node])
    else:
        right = np.isin(column, categories.astype(np.float32))
    right[missing] = not tree["default_left"][node]
    return right


def _decision_patterns(tree: dict, columns: list[np.ndarray]) -> np.ndarray:
    """One integer per row whose bits are the branch taken at each split node."""
    patterns = np.zeros(len(columns[0]), dtype=np.uint64)
    for node, feature in enumerate(tree["feature"]):
        patterns |= _goes_right(tree, node, columns[feature]).astype(np.uint64) << np.uint64(node)
    return patterns


def _representatives(patterns: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct pattern, index of each row's pattern among them)."""
    if n_nodes > _DIRECT_PATTERN_BITS:
        _, first, inverse = np.unique(patterns, return_index=True, return_inverse=True)
        return first, inverse.ravel()
    codes = patterns.astype(np.int64)
    first = np.full(1 << n_nodes, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    present = np.flatnonzero(first >= 0)
    position = np.zeros(1 << n_nodes, dtype=np.int64)
    position[present] = np.arange(len(present))
    return first[present], position[codes]


def _numeric_columns(X: pd.DataFrame) -> list[np.ndarray]:
    """The values XGBoost compares: float32, categories as codes, missing as NaN."""
    columns = []
    for name in X.columns:
        values = X[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.float32)
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(values.to_numpy(dtype=np.float32, na_value=np.nan))
    return columns


def tree_contributions(booster: xgb.Booster, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Exact tree SHAP in margin space: (contributions n × features, base value).

    Path-dependent tree SHAP of one tree depends on a row only through the branch it
    would take at each of that tree's split nodes. So per tree, the distinct branch
    patterns (at most 2^7 for a depth-3 tree) are explained by XGBoost and copied to
    the rows that share them; SHAP values add over trees. Trees with more than
    :data:`_MAX_PATTERN_BITS` split nodes are explained row by row.
    """
    if len(X) == 0:
        return np.zeros((0, X.shape[1])), 0.0
    base = float(
        booster.predict(xgb.DMatrix(X.iloc[:1], enable_categorical=True), pred_contribs=True)[0, -1]
    )
    trees = _trees(booster)
    if any(len(tree["feature"]) > _MAX_PATTERN_BITS for tree in trees):
        raw = booster.predict(xgb.DMatrix(X, enable_categorical=True), pred_contribs=True)
        return raw[:, :-1].astype(float), base
    columns = _numeric_columns(X)
    X = X.reset_index(drop=True)
    # Feature-major, so adding one feature's values is a contiguous write.
    contributions = np.zeros((X.shape[1], len(X)))
    for index, tree in enumerate(trees):
        if len(tree["feature"]) == 0:
            continue
        first, position = _representatives(_decision_patterns(tree, columns), len(tree["feature"]))
        single = booster[index : index + 1]
        phi = single.predict(
            xgb.DMatrix(X.iloc[first], enable_categorical=True), pred_contribs=True
        ).astype(float)
        for feature in np.unique(tree["feature"]):
            contributions[feature] += phi[:, feature][position]
    return contributions.T, base


def exact_shapley(value_fn, X: pd.DataFrame, reference: pd.Series) -> tuple[float, pd.DataFrame]:
    """Exact Shapley values of ``value_fn`` against one reference customer.

    ``value_fn(frame)`` maps a frame with the columns of ``X`` to one number per row.
    For each of the 2^k coalitions the inputs outside the coalition are set to the
    reference; returns ``(value_fn(reference), contributions)``.
    """
    columns = list(X.columns)
    k = len(columns)
    values: dict[tuple[bool, ...], np.ndarray] = {}
    for coalition in product((False, True), repeat=k):
        frame = X.copy()
        for column, present in zip(columns, coalition, strict=True):
            if not present:
                frame[column] = reference[column]
        values[coalition] = np.asarray(value_fn(frame), dtype=float)
    base = float(values[(False,) * k][0])
    contributions = np.zeros((len(X), k))
    for coalition, value in values.items():
        size = sum(coalition)
        for i in range(k):
            if coalition[i]:
                continue
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            with_i = coalition[:i] + (True,) + coalition[i + 1 :]
            contributions[:, i] += weight * (values[with_i] - value)
    return base, pd.DataFrame(contributions, index=X.index, columns=columns)

"""Customer-table mode: regression of one column of a customer table on the others.

``run_customer_table`` evaluates gradient-boosted trees against a mean baseline with
k-fold cross-validation (shuffled, seeded), then fits the trees on every row; the
result's ``predictions`` are the out-of-fold ones. The trees are explained with tree SHAP
in the target's own units (space "value") by ``result.model.explain(model_inputs(...))``.

Leakage guard: a numeric feature whose absolute Pearson *or* Spearman correlation with the
target is at least 0.95 is almost certainly derived from it (a total next to its
average, a score computed from it); such features are listed in ``leakage`` and, unless
``exclude_leaky=False``, left out of the model.

Features default to every other column except identifiers (``customer_id``, ``user_id``,
``id`` and ``*_id``) and text columns with more than ``MAX_CATEGORIES`` distinct values.
Without a target, the first of :data:`DEFAULT_TARGETS` present is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from models.estimators.boosting import split_rows
from models.estimators.table import TableRegressor
from models.features import MAX_CATEGORIES

LEAKAGE_THRESHOLD = 0.95
DEFAULT_TARGETS = ("purchase_amount", "clv", "lifetime_value", "total_spend", "revenue", "spend")
_ID_COLUMNS = ("customer_id", "user_id", "id")


@dataclass
class CustomerTableResult:
    target: str
    features: list[str]
    leakage: list[dict]
    excluded: list[str]
    cross_validation: dict
    predictions: pd.Series
    model: TableRegressor
    notes: list[str]

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "features": list(self.features),
            "leakage": self.leakage,
            "excluded": list(self.excluded),
            "cross_validation": self.cross_validation,
            "notes": list(self.notes),
        }


def _is_identifier(name: str) -> bool:
    lowered = str(name).lower()
    return lowered in _ID_COLUMNS or lowered.endswith("_id")


def _choose_target(frame: pd.DataFrame, target: str | None) -> str:
    if target is not None:
        if target not in frame.columns:
            raise ValueError(f"target column {target!r} is not in the table")
        if frame[target].dtype.kind not in "biuf":
            raise ValueError(f"target column {target!r} is not numeric")
        return target
    lowered = {str(c).lower(): c for c in frame.columns}
    for name in DEFAULT_TARGETS:
        if name in lowered and frame[lowered[name]].dtype.kind in "biuf":
            return lowered[name]
    raise ValueError("choose a numeric target column; none of the usual names was found")


def model_inputs(frame: pd.DataFrame, target: str, features) -> pd.DataFrame:
    """The model's input table of ``frame``: ``features`` (None: every usable column but
    the target and identifiers), numbers as float, short text columns as categories;
    indexed by a unique ``customer_id`` / ``user_id`` column when there is one."""
    X = _feature_table(frame, target, features)
    identifier = next((c for c in frame.columns if str(c).lower() in _ID_COLUMNS[:2]), None)
    if identifier is not None and frame[identifier].is_unique:
        X.index = pd.Index(frame[identifier].to_numpy(), name=identifier)
    return X


def _feature_table(frame: pd.DataFrame, target: str, features) -> pd.DataFrame:
    names = (
        list(features)
        if features is not None
        else [c for c in frame.columns if c != target and not _is_identifier(c)]
    )
    columns = {}
    for name in names:
        values = frame[name]
        if values.dtype.kind in "biuf":
            columns[name] = values.astype(float)
        elif values.dtype.kind == "M":
            continue
        else:
            text = values.astype("string")
            if text.nunique() <= MAX_CATEGORIES:
                columns[name] = text.astype("category")
    return pd.DataFrame(columns, index=frame.index)


def leakage_report(
    X: pd.DataFrame, y: np.ndarray, threshold: float = LEAKAGE_THRESHOLD
) -> list[dict]:
    """Numeric features with |Pearson| or |Spearman| correlation to ``y`` ≥ threshold."""
    flagged = []
    for name in X.columns:
        if isinstance(X[name].dtype, pd.CategoricalDtype):
            continue
        values = X[name].to_numpy(dtype=float)
        present = np.isfinite(values) & np.isfinite(y)
        if present.sum() < 3 or np.ptp(values[present]) == 0 or np.ptp(y[present]) == 0:
            continue
        pearson = float(np.corrcoef(values[present], y[present])[0, 1])
        spearman = float(spearmanr(values[present], y[present]).statistic)
        if max(abs(pearson), abs(spearman)) >= threshold:
            flagged.append({"feature": str(name), "pearson": pearson, "spearman": spearman})
    return flagged


def _scores(actual: np.ndarray, predicted: np.ndarray) -> dict:
    residual = predicted - actual
    variance = np.sum((actual - actual.mean()) ** 2)
    return {
        "r2": float(1 - np.sum(residual**2) / variance) if variance > 0 else None,
        "rmse": float(np.sqrt(np.mean(residual**2))),
        "mae": float(np.mean(np.abs(residual))),
    }


def _summary(folds: list[dict]) -> dict:
    mean = {}
    for key in ("r2", "rmse", "mae"):
        values = [f[key] for f in folds if f[key] is not None]
        mean[key] = float(np.mean(values)) if values else None
    return {"folds": folds, "mean": mean}


def run_customer_table(
    frame: pd.DataFrame,
    target: str | None = None,
    features=None,
    random_state: int = 0,
    folds: int = 5,
    exclude_leaky: bool = True,
    boosting: dict | None = None,
    progress=None,
) -> CustomerTableResult:
    """Cross-validated regression of ``target`` with the leakage guard, and the model
    refit on every row; ``progress(percent, message)`` after each fold."""
    report = progress or (lambda percent, message: None)
    target = _choose_target(frame, target)
    notes = []
    known = frame[target].notna().to_numpy()
    if not known.all():
        notes.append(f"{int((~known).sum())} rows without a {target} value were left out.")
    table = frame.loc[known]
    y = table[target].to_numpy(dtype=float)
    X = model_inputs(table, target, features)
    leakage = leakage_report(X, y)
    excluded = [item["feature"] for item in leakage] if exclude_leaky else []
    X = X.drop(columns=excluded)
    if X.shape[1] == 0:
        raise ValueError("no usable feature columns are left")
    if len(X) < 2 * folds:
        raise ValueError(f"{folds}-fold cross-validation needs at least {2 * folds} rows")
    settings = {"random_state": random_state, **(boosting or {})}

    out_of_fold = np.empty(len(y))
    model_folds, baseline_folds = [], []
    for k, test_rows in enumerate(split_rows(len(y), (1 / folds,) * folds, random_state)):
        report(100 * k / (folds + 1), f"Cross-validation fold {k + 1} of {folds}")
        train_rows = np.setdiff1d(np.arange(len(y)), test_rows)
        model = TableRegressor(**settings).fit(X.iloc[train_rows], y[train_rows])
        out_of_fold[test_rows] = model.predict(X.iloc[test_rows])
        baseline = np.full(len(test_rows), y[train_rows].mean())
        model_folds.append({"fold": k + 1, **_scores(y[test_rows], out_of_fold[test_rows])})
        baseline_folds.append({"fold": k + 1, **_scores(y[test_rows], baseline)})

    report(100 * folds / (folds + 1), "Fitting the model on every row")
    final = TableRegressor(**settings).fit(X, y)
    return CustomerTableResult(
        target=str(target),
        features=list(final.feature_names_),
        leakage=leakage,
        excluded=excluded,
        cross_validation={"model": _summary(model_folds), "baseline": _summary(baseline_folds)},
        predictions=pd.Series(out_of_fold, index=X.index, name=f"{target}_cv_prediction"),
        model=final,
        notes=notes,
    )

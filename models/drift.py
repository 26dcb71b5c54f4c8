"""Population stability index (PSI) per feature between two feature tables.

For a numeric feature the bins are the deciles (``bins`` quantiles) of the *expected*
table — repeated quantiles merge, so a mostly-constant feature gets fewer bins — with
missing values in a bin of their own. For a categorical feature the bins are the
categories of both tables (missing included). With shares e_i (expected) and a_i
(actual), an empty bin's share is raised to ``EPSILON`` so the log stays finite, and

    PSI = Σ (a_i − e_i) · ln(a_i / e_i)

Status: ``stable`` below 0.1, ``moderate`` from 0.1, ``major`` from 0.25.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPSILON = 1e-4
MODERATE, MAJOR = 0.1, 0.25


def _status(psi: float) -> str:
    if psi < MODERATE:
        return "stable"
    return "moderate" if psi < MAJOR else "major"


def _psi(expected_counts: np.ndarray, actual_counts: np.ndarray) -> float:
    e = np.maximum(expected_counts / max(expected_counts.sum(), 1), EPSILON)
    a = np.maximum(actual_counts / max(actual_counts.sum(), 1), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_counts(expected: pd.Series, actual: pd.Series, bins: int):
    e = expected.to_numpy(dtype=float, na_value=np.nan)
    a = actual.to_numpy(dtype=float, na_value=np.nan)
    present = e[~np.isnan(e)]
    if len(present) == 0:
        return None
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1]))

    def counts(values):
        index = np.where(
            np.isnan(values), len(edges) + 1, np.searchsorted(edges, values, side="right")
        )
        return np.bincount(index.astype(int), minlength=len(edges) + 2)

    return counts(e), counts(a)


def _categorical_counts(expected: pd.Series, actual: pd.Series):
    e = expected.astype("string").fillna("\x00missing")
    a = actual.astype("string").fillna("\x00missing")
    categories = pd.Index(e.unique()).union(pd.Index(a.unique()))
    return (
        e.value_counts().reindex(categories, fill_value=0).to_numpy(),
        a.value_counts().reindex(categories, fill_value=0).to_numpy(),
    )


def _is_numeric(series: pd.Series) -> bool:
    return series.dtype.kind in "iuf" and not isinstance(series.dtype, pd.CategoricalDtype)


def population_stability(
    expected: pd.DataFrame, actual: pd.DataFrame, bins: int = 10
) -> pd.DataFrame:
    """PSI of every column the two tables share: DataFrame[feature, psi, status]."""
    if bins < 2:
        raise ValueError("bins must be at least 2")
    rows = []
    for column in expected.columns:
        if column not in actual.columns:
            continue
        e, a = expected[column], actual[column]
        if _is_numeric(e) and _is_numeric(a):
            counts = _numeric_counts(e, a, bins)
        elif e.dtype.kind == "M" or a.dtype.kind == "M":
            continue
        else:
            counts = _categorical_counts(e, a)
        if counts is None:
            continue
        psi = _psi(*counts)
        rows.append({"feature": str(column), "psi": psi, "status": _status(psi)})
    result = pd.DataFrame(rows, columns=["feature", "psi", "status"])
    return result.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)

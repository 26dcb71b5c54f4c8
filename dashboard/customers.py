"""Customers of the live run: filtered, sorted and paged lists, one customer's scores and
explanation, and formula-safe CSV export. Serves the REST API and the dashboard grid.

Everything reads the run through `dashboard.runs` (cached per tenant and run), so a list
request at 500,000 customers is a few vectorised masks and one partial sort in memory,
never a file read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from dashboard.components.export import safe_frame
from dashboard.runs import (
    EXPLANATIONS_FILE,
    EXPLANATIONS_META_FILE,
    RunData,
    read_frame,
    read_json,
)
from dashboard.schema import Run
from dashboard.store import NotFound, TenantStore

# Columns a client may sort by (when the run has them), besides every numeric feature.
SORTABLE = ("customer_id", "clv", "churn_probability", "p_alive", "expected_purchases",
            "rfm_segment", "persona", "cluster", "frequency", "total_spend", "days_since_last",
            "recency", "tenure", "avg_order_value")
LIST_COLUMNS = ("customer_id", "rfm_segment", "persona", "cluster", "clv", "churn_probability",
                "p_alive", "expected_purchases", "frequency", "total_spend", "days_since_last")
SHAP_PREFIX = "shap_"
EXPORT_CHUNK_ROWS = 20_000


class BadQuery(ValueError):
    """A filter or sort the run cannot answer (HTTP 400)."""


def _score_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.startswith(SHAP_PREFIX)]


def filter_customers(data: RunData, segment=None, persona=None, min_churn=None, min_clv=None,
                     q=None) -> pd.DataFrame:
    frame = data.customers
    mask = np.ones(len(frame), dtype=bool)
    for column, value in (("rfm_segment", segment), ("persona", persona)):
        if value:
            if column not in frame.columns:
                raise BadQuery(f"this run has no {column.replace('_', ' ')}")
            mask &= (frame[column] == value).to_numpy()
    for column, value in (("churn_probability", min_churn), ("clv", min_clv)):
        if value is not None:
            if column not in frame.columns:
                raise BadQuery(f"this run has no {column.replace('_', ' ')}")
            mask &= (frame[column] >= value).to_numpy()
    if q:
        ids = frame["customer_id"].astype(str)
        mask &= ids.str.contains(str(q), case=False, regex=False).to_numpy()
    return frame[mask]


def _sorted(frame: pd.DataFrame, sort: str | None) -> pd.DataFrame:
    if not sort:
        return frame
    field = sort.removeprefix("-")
    allowed = set(SORTABLE) | {c for c in frame.columns
                                if c in frame and frame[c].dtype.kind in "iuf"
                                and not c.startswith(SHAP_PREFIX)}
    if field not in frame.columns or field not in allowed:
        raise BadQuery(f"cannot sort by {field!r}")
    # A stable sort with the id as tie-breaker keeps pages consistent between requests.
    return frame.sort_values([field, "customer_id"], ascending=[not sort.startswith("-"), True],
                             kind="stable", na_position="last")


def query_customers(data: RunData, segment=None, persona=None, min_churn=None, min_clv=None,
                    q=None, sort=None, limit: int = 50, offset: int = 0
                    ) -> tuple[pd.DataFrame, int]:
    """One page of the run's customers matching the filters, and how many match."""
    matching = filter_customers(data, segment, persona, min_churn, min_clv, q)
    page = _sorted(matching, sort).iloc[offset:offset + limit]
    return page[[c for c in LIST_COLUMNS if c in page.columns] or _score_columns(page)], len(matching)


def _plain(value):
    """A JSON-safe scalar: numpy types unwrapped, NaN and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def customers_to_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _explanation(store: TenantStore, run: Run, customer_id: str) -> dict:
    meta = read_json(store, run, EXPLANATIONS_META_FILE) or {}
    rows = read_frame(store, run, EXPLANATIONS_FILE, filters=[("customer_id", "==", customer_id)])
    if rows is None or rows.empty:
        return {}
    row = rows.iloc[0]
    explained = {}
    for model, info in meta.get("models", {}).items():
        prefix = f"{SHAP_PREFIX}{model}__"
        contributions = {c.removeprefix(prefix): _plain(row[c]) for c in rows.columns
                         if c.startswith(prefix)}
        base = float(info["base_value"])
        explained[model] = {
            "base_value": base,
            "contributions": contributions,
            "output": base + sum(v for v in contributions.values() if v is not None),
            "space": info.get("space"),
        }
    return explained


def customer_detail(store: TenantStore, data: RunData, customer_id: str) -> dict:
    """Scores, features and explanation of one customer of the live run (404 otherwise)."""
    frame = data.customers
    match = frame[frame["customer_id"].astype(str) == str(customer_id)]
    if match.empty:
        raise NotFound(f"customer {customer_id!r} not found")
    row = {k: _plain(v) for k, v in match.iloc[0].items()}
    known = {"customer_id", "rfm_segment", "cluster", "persona", "clv", "churn_probability",
             "p_alive", "expected_purchases"}
    return {
        "customer_id": str(row["customer_id"]),
        "segment": row.get("rfm_segment"),
        "cluster": row.get("cluster"),
        "persona": row.get("persona"),
        "clv": row.get("clv"),
        "churn_probability": row.get("churn_probability"),
        "p_alive": row.get("p_alive"),
        "expected_purchases": row.get("expected_purchases"),
        "features": {k: v for k, v in row.items()
                     if k not in known and not k.startswith(SHAP_PREFIX)},
        "shap": _explanation(store, store.get(Run, data.run_id), str(customer_id)),
    }


def export_csv(frame: pd.DataFrame) -> Iterator[str]:
    """The rows as formula-safe CSV text in chunks, for a streamed response."""
    columns = _score_columns(frame)
    for start in range(0, max(len(frame), 1), EXPORT_CHUNK_ROWS):
        chunk = frame.iloc[start:start + EXPORT_CHUNK_ROWS][columns]
        yield safe_frame(chunk).to_csv(index=False, header=start == 0)

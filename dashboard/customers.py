"""Customers of the live run: filtered, sorted and paged lists, one customer's scores and
explanation, and formula-safe CSV export. Serves the REST API and the dashboard grid.

Everything reads the run through `dashboard.runs` (cached per tenant and run), so a list
request at 500,000 customers is a few vectorised masks taken in a cached sort order,
never a sort or a file read.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.components.export import safe_frame
from dashboard.runs import (
    EXPLANATIONS_FILE,
    EXPLANATIONS_META_FILE,
    PRELOAD_HOOKS,
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


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text columns in one contiguous block each. Parquet reads them as
    chunked Arrow arrays, and taking even one row of those costs milliseconds per column
    (the chunks are stitched together per call); other columns are shared, not copied."""
    frame = frame.copy(deep=False)
    for column in frame.columns:
        values = frame[column]
        chunks = getattr(getattr(values.array, "_pa_array", None), "num_chunks", 1)
        if isinstance(values.dtype, pd.StringDtype) and chunks > 1:
            frame[column] = pd.Series(values.to_numpy(), dtype=values.dtype, index=values.index)
    return frame


class _RunIndex:
    """Per-run lookups built on first use and kept as long as the run's data is cached:
    the customer ids as text (and lowercased, for search), their positions, and the row
    order of each sort asked for. A sorted page is then one boolean mask taken in a
    cached order, never a sort of half a million rows per request."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.ids = frame["customer_id"].astype(str)
        self.rows = _one_chunk(frame)
        self._lower: pa.Array | None = None
        self._positions: pd.Index | None = None
        self._id_rank: np.ndarray | None = None
        self._orders: dict[str, np.ndarray] = {}

    def lower_ids(self) -> pa.Array:
        if self._lower is None:
            self._lower = pa.array(self.ids.str.lower().to_numpy(), type=pa.string())
        return self._lower

    def position(self, customer_id: str) -> list[int]:
        if self._positions is None:
            self._positions = pd.Index(self.ids.to_numpy())
        if self._positions.is_unique:
            found = int(self._positions.get_indexer([customer_id])[0])
            return [] if found < 0 else [found]
        return list(np.flatnonzero(self._positions == customer_id))

    def id_rank(self) -> np.ndarray:
        """Each row's place in customer id order: the tie-break of every sort, built once
        per run (and ahead of the run going live, with the other lookups)."""
        if self._id_rank is None:
            self._id_rank = pd.factorize(self.ids, sort=True)[0]
        return self._id_rank

    def order(self, frame: pd.DataFrame, field: str, ascending: bool) -> np.ndarray:
        key = ("" if ascending else "-") + field
        order = self._orders.get(key)
        if order is None:
            column = frame[field]
            if column.dtype.kind in "iufb":
                values = column.to_numpy(dtype="float64", na_value=np.nan)
                missing = np.isnan(values)
            elif isinstance(column.dtype, pd.CategoricalDtype):
                # A categorical sorts in its categories' order, as pandas sorts it.
                codes = column.cat.codes.to_numpy()
                values, missing = codes.astype("float64"), codes < 0
            else:
                codes = pd.factorize(column, sort=True)[0]
                values, missing = codes.astype("float64"), codes < 0
            values = values if ascending else -values
            # Missing values last in both directions, ties by customer id (as the stable
            # sort by [field, customer_id] with na_position="last" did).
            order = np.lexsort((self.id_rank(), np.where(missing, 0.0, values), missing))
            self._orders[key] = order
        return order


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _index(data: RunData) -> _RunIndex:
    found = _INDEXES.get(data)
    if found is None:
        found = _INDEXES[data] = _RunIndex(data.customers)
    return found


def _build_lookups(data: RunData) -> None:
    """The id lookups every list, search and detail request needs, built while a run is
    read ahead of going live."""
    index = _index(data)
    index.position("")
    index.lower_ids()
    index.id_rank()


PRELOAD_HOOKS.append(_build_lookups)


def _mask(data: RunData, segment=None, persona=None, min_churn=None, min_clv=None,
          q=None) -> np.ndarray | None:
    """The rows matching the filters, or None when nothing filters."""
    frame = data.customers
    mask = None

    def both(part):
        return part if mask is None else mask & part

    for column, value in (("rfm_segment", segment), ("persona", persona)):
        if value:
            if column not in frame.columns:
                raise BadQuery(f"this run has no {column.replace('_', ' ')}")
            mask = both((frame[column] == value).to_numpy())
    for column, value in (("churn_probability", min_churn), ("clv", min_clv)):
        if value is not None:
            if column not in frame.columns:
                raise BadQuery(f"this run has no {column.replace('_', ' ')}")
            mask = both((frame[column] >= value).to_numpy())
    if q:
        found = pc.match_substring(_index(data).lower_ids(), str(q).lower())
        mask = both(found.to_numpy(zero_copy_only=False))
    return mask


def filter_customers(data: RunData, segment=None, persona=None, min_churn=None, min_clv=None,
                     q=None) -> pd.DataFrame:
    mask = _mask(data, segment, persona, min_churn, min_clv, q)
    return data.customers if mask is None else data.customers[mask]


def _check_sort(frame: pd.DataFrame, field: str) -> None:
    allowed = set(SORTABLE) | {c for c in frame.columns
                                if frame[c].dtype.kind in "iuf" and not c.startswith(SHAP_PREFIX)}
    if field not in frame.columns or field not in allowed:
        raise BadQuery(f"cannot sort by {field!r}")


def query_customers(data: RunData, segment=None, persona=None, min_churn=None, min_clv=None,
                    q=None, sort=None, limit: int = 50, offset: int = 0
                    ) -> tuple[pd.DataFrame, int]:
    """One page of the run's customers matching the filters, and how many match."""
    frame = data.customers
    mask = _mask(data, segment, persona, min_churn, min_clv, q)
    if sort:
        field = sort.removeprefix("-")
        _check_sort(frame, field)
        rows = _index(data).order(frame, field, not sort.startswith("-"))
        if mask is not None:
            rows = rows[mask[rows]]
    else:
        rows = np.arange(len(frame)) if mask is None else np.flatnonzero(mask)
    columns = [c for c in LIST_COLUMNS if c in frame.columns] or _score_columns(frame)
    # Only the page's rows are copied out of the cached table.
    return _index(data).rows.iloc[rows[offset:offset + limit]][columns], len(rows)


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
    index = _index(data)
    match = index.rows.iloc[index.position(str(customer_id))]
    if match.empty:
        raise NotFound(f"customer {customer_id!r} not found")
    row = {k: _plain(v) for k, v in match.iloc[0].items()}
    known = {"customer_id", "rfm_segment", "cluster", "persona", "clv", "p_no_purchase",
             "churn_probability", "p_alive", "expected_purchases"}
    return {
        "customer_id": str(row["customer_id"]),
        "segment": row.get("rfm_segment"),
        "cluster": row.get("cluster"),
        "persona": row.get("persona"),
        "clv": row.get("clv"),
        "p_no_purchase": row.get("p_no_purchase"),
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

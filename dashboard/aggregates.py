"""Figures pre-aggregated once per run, at scoring time, so no page has to group
500,000 customers while someone waits.

`build_aggregates` turns a run's customer table, its transactions and its report into one
JSON-safe dict of small tables (lists of records). Pages read the run's stored copy and,
for a key an older run does not have, call `aggregate(key, data)` to build that one key
from the customer table alone (the keys that need transactions then stay empty).

What drives a customer table's prediction (`drivers`) needs the SHAP values, which exist
only once the explain step has run: that step adds the key with `explained_aggregates`,
and `aggregate("drivers", data, explanations)` builds it from the stored explanations
for a run written without it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models.rfm import SEGMENTS

HISTOGRAM_BINS = 30
COHORT_MONTHS = 24
SCATTER_POINTS = 2000
RFM_SCORES = [1, 2, 3, 4, 5]
DEFAULT_CHURN_THRESHOLD = 0.5
SCATTER_FEATURES = ("frequency", "total_spend")
SHAP_PREFIX = "shap_{model}__"
DRIVERS_MODEL = "regression"


def _clean(value):
    """Plain Python numbers; NaN and infinity become None (JSON has neither)."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{str(k): _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def churn_threshold(report: dict) -> float:
    churn = (report or {}).get("models", {}).get("churn", {})
    threshold = churn.get("threshold")
    return float(threshold) if threshold is not None else DEFAULT_CHURN_THRESHOLD


def kpis(customers: pd.DataFrame, transactions: pd.DataFrame | None, report: dict,
         horizon_days: int) -> dict:
    values: dict = {"customers": int(len(customers)), "horizon_days": int(horizon_days)}
    if transactions is not None and len(transactions):
        end = transactions["date"].max()
        recent = transactions["date"] >= end - pd.Timedelta(days=365)
        values["revenue_12m"] = float(transactions.loc[recent, "amount"].sum())
        values["last_date"] = end.isoformat()
    if "days_since_last" in customers:
        values["active_customers"] = int((customers["days_since_last"] < horizon_days).sum())
    if "clv" in customers:
        values["predicted_revenue"] = float(customers["clv"].sum())
        values["average_clv"] = float(customers["clv"].mean()) if len(customers) else None
    if "churn_probability" in customers:
        threshold = churn_threshold(report)
        flagged = customers["churn_probability"] >= threshold
        values["churn_risk_share"] = float(flagged.mean()) if len(customers) else None
        values["churn_threshold"] = threshold
    return {key: _clean(value) for key, value in values.items()}


def revenue_by_month(transactions: pd.DataFrame | None) -> list[dict]:
    if transactions is None or not len(transactions):
        return []
    months = transactions["date"].dt.to_period("M")
    table = transactions.groupby(months).agg(revenue=("amount", "sum"),
                                             customers=("customer_id", "nunique"))
    table.index = table.index.astype(str)
    return _records(table.rename_axis("month").reset_index())


def _segment_table(customers: pd.DataFrame, column: str, order=None) -> list[dict]:
    if column not in customers or not len(customers):
        return []
    columns = {"customers": ("customer_id", "size")}
    for name, source, how in (("revenue", "total_spend", "sum"), ("clv", "clv", "sum"),
                              ("average_clv", "clv", "mean"),
                              ("churn_probability", "churn_probability", "mean")):
        if source in customers:
            columns[name] = (source, how)
    table = customers.groupby(customers[column].astype(str), observed=True).agg(**columns)
    table["share"] = table["customers"] / len(customers)
    if column == "rfm_segment" and "action" in customers:
        actions = customers.groupby(customers[column].astype(str), observed=True)["action"].first()
        table["action"] = actions.astype(str)
    if order:
        ranked = [name for name in order if name in table.index]
        table = table.loc[ranked + [name for name in table.index if name not in ranked]]
    else:
        table = table.sort_values("customers", ascending=False)
    return _records(table.rename_axis("segment").reset_index())


def segment_mix(customers: pd.DataFrame) -> list[dict]:
    return _segment_table(customers, "rfm_segment", SEGMENTS)


def persona_mix(customers: pd.DataFrame) -> list[dict]:
    return _segment_table(customers, "persona")


def histogram(values: pd.Series, bins: int = HISTOGRAM_BINS, upper_quantile: float = 0.99
              ) -> list[dict]:
    """Counts per bin; values above the quantile share the last bin, so one whale does not
    squash everyone else into the first bar."""
    values = pd.to_numeric(values, errors="coerce").dropna()
    if not len(values):
        return []
    top = float(values.quantile(upper_quantile)) if upper_quantile < 1 else float(values.max())
    low = float(min(values.min(), 0.0))
    top = top if top > low else low + 1.0
    counts, edges = np.histogram(values.clip(upper=top), bins=bins, range=(low, top))
    return [{"lower": float(edges[i]), "upper": float(edges[i + 1]), "customers": int(counts[i])}
            for i in range(len(counts))]


def rfm_matrix(customers: pd.DataFrame) -> list[dict]:
    """One record per (R, F) score pair: customers and their mean spend so far."""
    if not {"r_score", "f_score"} <= set(customers):
        return []
    spend = customers["total_spend"] if "total_spend" in customers else customers["r_score"] * np.nan
    table = (customers.assign(spend=spend).groupby(["r_score", "f_score"])
             .agg(customers=("spend", "size"), monetary=("spend", "mean")))
    full = pd.MultiIndex.from_product([RFM_SCORES, RFM_SCORES], names=["r_score", "f_score"])
    table = table.reindex(full)
    table["customers"] = table["customers"].fillna(0).astype(int)
    return _records(table.reset_index())


def cohort_retention(transactions: pd.DataFrame | None, months: int = COHORT_MONTHS) -> list[dict]:
    """Monthly acquisition cohorts (month of the first purchase) of the last `months`
    months: the share of each cohort buying again k months later."""
    if transactions is None or not len(transactions):
        return []
    month_index = transactions["date"].dt.year * 12 + transactions["date"].dt.month - 1
    frame = pd.DataFrame({"customer_id": transactions["customer_id"].to_numpy(),
                          "month": month_index.to_numpy()}).drop_duplicates()
    first = frame.groupby("customer_id")["month"].transform("min")
    frame["cohort"] = first
    frame["period"] = frame["month"] - first
    last = int(frame["month"].max())
    frame = frame[frame["cohort"] > last - months]
    counts = frame.groupby(["cohort", "period"]).size().rename("active").reset_index()
    sizes = counts[counts["period"] == 0].set_index("cohort")["active"]
    counts["size"] = counts["cohort"].map(sizes)
    counts["retention"] = counts["active"] / counts["size"]
    counts["cohort"] = [f"{c // 12:04d}-{c % 12 + 1:02d}" for c in counts["cohort"]]
    return _records(counts[["cohort", "period", "size", "retention"]])


def separation(values: pd.Series, groups: pd.Series) -> float:
    """The share of a column's variance that lies between the groups (η², 0 to 1): how
    well the column alone tells the personas apart."""
    values = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    values, groups = values[present], groups[present].astype(str)
    total = float(((values - values.mean()) ** 2).sum())
    if not len(values) or total <= 0:
        return 0.0
    means = values.groupby(groups).transform("mean")
    return float(((means - values.mean()) ** 2).sum() / total)


def scatter_axes(customers: pd.DataFrame, report: dict | None = None) -> list[str]:
    """The two columns the persona scatter plots: orders and spend for transactions; for
    a customer table the clustering columns that separate the personas best (then any
    prediction column, when fewer than two were clustered on)."""
    if "persona" not in customers:
        return []
    if (report or {}).get("kind") != "customers" and set(SCATTER_FEATURES) <= set(customers):
        return list(SCATTER_FEATURES)
    clustered = ((report or {}).get("segmentation") or {}).get("columns") or []
    numeric = [c for c in clustered if c in customers and customers[c].dtype.kind in "biuf"]
    ranked = sorted(numeric, key=lambda c: -separation(customers[c], customers["persona"]))
    extra = [c for c in customers.columns if str(c).startswith("predicted_") and c not in ranked]
    axes = (ranked + extra)[:2]
    return axes if len(axes) == 2 else []


def scatter_sample(customers: pd.DataFrame, points: int = SCATTER_POINTS, seed: int = 0,
                   axes=SCATTER_FEATURES) -> list[dict]:
    """A random sample of customers for the persona scatter (the only per-customer data
    the pages send to the browser besides paged grids): the two `axes` and the persona."""
    if "persona" not in customers or len(axes) != 2 or not set(axes) <= set(customers):
        return []
    x, y = axes
    sample = customers.sample(n=min(points, len(customers)), random_state=seed)
    return _records(sample[[x, y, "persona"]].assign(persona=lambda f: f["persona"].astype(str)))


def _by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("customer_id") if "customer_id" in frame.columns else frame


def feature_drivers(values: pd.DataFrame, contributions: pd.DataFrame | None = None,
                    model: str = DRIVERS_MODEL) -> list[dict]:
    """What drives a model's prediction over every customer: per feature the mean
    |SHAP| (`importance`, in the prediction's unit) and its `share` of the total, most
    important first. The direction: for a number, the correlation of the feature's value
    with its SHAP value (`correlation`, +1: higher values always raise the prediction);
    for text, the values with the highest and lowest mean contribution (`highest`,
    `lowest`). `contributions` holds `shap_<model>__<feature>` columns (by default those
    of `values`); both are matched on `customer_id`."""
    prefix = SHAP_PREFIX.format(model=model)
    values = _by_customer(values)
    shap = _by_customer(values if contributions is None else contributions)
    shap = shap[[c for c in shap.columns if str(c).startswith(prefix)]]
    if shap.empty:
        return []
    if not values.index.equals(shap.index):
        values = values[~values.index.duplicated()].reindex(shap.index)
    total = float(shap.abs().mean().sum())
    rows = []
    for column in shap.columns:
        feature = str(column)[len(prefix):]
        effect = shap[column].astype(float)
        importance = float(effect.abs().mean())
        row = {"feature": feature, "importance": importance,
               "share": importance / total if total > 0 else None,
               "kind": "number", "correlation": None, "highest": None, "lowest": None}
        value = values[feature] if feature in values else None
        if value is not None and value.dtype.kind in "biuf":
            value = value.astype(float)
            present = value.notna() & effect.notna()
            if present.sum() > 2 and value[present].std() > 0 and effect[present].std() > 0:
                row["correlation"] = float(np.corrcoef(value[present], effect[present])[0, 1])
        elif value is not None:
            means = effect.groupby(value.astype("string").fillna("(empty)")).mean()
            if len(means) > 1:
                row.update(kind="text", highest=str(means.idxmax()), lowest=str(means.idxmin()))
            else:
                row["kind"] = "text"
        rows.append(row)
    rows.sort(key=lambda row: row["importance"], reverse=True)
    return [{key: _clean(value) for key, value in row.items()} for row in rows]


def explained_aggregates(values: pd.DataFrame, contributions: pd.DataFrame) -> dict:
    """The keys that need the SHAP values, added to the run's aggregates by the explain
    step of a customer-table run."""
    return {"drivers": feature_drivers(values, contributions)}


def clv_histogram(customers: pd.DataFrame) -> list[dict]:
    return histogram(customers["clv"]) if "clv" in customers else []


def churn_histogram(customers: pd.DataFrame) -> list[dict]:
    if "churn_probability" not in customers:
        return []
    return histogram(customers["churn_probability"], bins=20, upper_quantile=1.0)


# The keys that need only the customer table, for `aggregate`'s fallback.
FROM_CUSTOMERS = {
    "segment_mix": segment_mix,
    "persona_mix": persona_mix,
    "clv_histogram": clv_histogram,
    "churn_histogram": churn_histogram,
    "rfm_matrix": rfm_matrix,
}
# The keys that need the customer table and the report (for a run stored without them).
FROM_REPORT = {
    "scatter_axes": scatter_axes,
    "scatter_sample": lambda customers, report: scatter_sample(
        customers, axes=scatter_axes(customers, report)),
}


def build_aggregates(customers: pd.DataFrame, transactions: pd.DataFrame | None, report: dict,
                     horizon_days: int) -> dict:
    """Every pre-aggregated table the analytics pages and the offline report draw."""
    result = {key: build(customers) for key, build in FROM_CUSTOMERS.items()}
    axes = scatter_axes(customers, report)  # ranking the columns reads every customer once
    result.update(scatter_axes=axes, scatter_sample=scatter_sample(customers, axes=axes))
    drivers = feature_drivers(customers)  # the offline pipeline's table carries SHAP values
    if drivers:
        result["drivers"] = drivers
    result["kpis"] = kpis(customers, transactions, report, horizon_days)
    result["revenue_by_month"] = revenue_by_month(transactions)
    result["cohort_retention"] = cohort_retention(transactions)
    return result


def aggregate(key: str, data, explanations=None) -> list | dict:
    """`data.aggregates[key]`, or the key built from `data.customers` (and its report)
    when the run was stored without it (runs written before the key existed). For
    `drivers`, `explanations` is the run's SHAP table or a function that reads it (None
    before the explain step is done)."""
    stored = (data.aggregates or {}).get(key)
    if stored is not None:
        return stored
    if key == "kpis":
        return kpis(data.customers, None, data.report, data.horizon_days)
    if key == "drivers":
        table = explanations() if callable(explanations) else explanations
        return feature_drivers(data.customers, table)
    if key in FROM_REPORT:
        return FROM_REPORT[key](data.customers, data.report)
    build = FROM_CUSTOMERS.get(key)
    return build(data.customers) if build else []

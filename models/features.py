"""Customer features at a cut-off, from the transactions strictly before it.

Every function takes the canonical transactions frame (``customer_id``, ``date``,
``amount``; optional ``order_id``, ``category``, ``channel``) and works on whole columns
(factorised ids, integer day numbers, ``np.bincount``), so 4,000,000 rows take seconds.

Definitions (durations in days, as floats; a *purchase day* is a calendar day with at
least one positive amount; *gross* counts positive amounts only, *net* adds returns):

============== ==========================================================================
column         definition
============== ==========================================================================
frequency      purchase days − 1 (repeat purchase days)
recency        last purchase day − first purchase day
T              cut-off − first purchase day (also ``tenure``)
monetary_value gross spend on the repeat purchase days / frequency; 0 when frequency is 0.
               Returns are left out so the value stays positive for the Gamma-Gamma
               model; ``return_share`` carries them.
days_since_last cut-off − last purchase day
n_orders       distinct ``order_id`` among purchase rows (rows without an id count once per
               purchase day); purchase days when there is no ``order_id`` column
total_spend    net spend
avg_order_value gross spend / n_orders
spend_90/180   net spend in the last 90 / 180 days before the cut-off
trend          (g₁ − g₂) / (g₁ + g₂) with g₁ the gross spend in the last 90 days and g₂ in
               the 90 days before those: +1 all recent, −1 all earlier, 0 when flat or when
               neither window has purchases
ipt_mean       mean gap between consecutive purchase days (recency / frequency); for
               one-time buyers T, the censored lower bound of their first gap
ipt_std        population standard deviation of those gaps; 0 with fewer than two gaps
return_share   returned amount / gross spend, clipped to [0, 1]
n_categories   distinct categories among purchase rows (only with a ``category`` column)
n_channels     distinct channels among purchase rows (only with a ``channel`` column)
============== ==========================================================================

Customers are those with at least one purchase before the cut-off. Attribute columns
are left-joined by customer id: numeric and boolean as float, datetimes as days before
the cut-off, everything else as ``category`` with the categories of the whole attribute
table (so encodings agree across cut-offs). An attribute whose name clashes with a
feature is prefixed with ``attr_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BTYD_COLUMNS = ["frequency", "recency", "T", "monetary_value"]
# Text columns with more distinct values than this are identifiers or free text, not
# segments; tree models would only memorise them.
MAX_CATEGORIES = 50
_DAY = np.timedelta64(1, "D")


def _columns(transactions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = {"customer_id", "date", "amount"} - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions lack required columns {sorted(missing)}")
    dates = transactions["date"]
    if dates.dtype.kind != "M" or isinstance(dates.dtype, pd.DatetimeTZDtype):
        raise ValueError("transactions 'date' must be a timezone-naive datetime64 column")
    amount = transactions["amount"].to_numpy(dtype=float, na_value=np.nan)
    return transactions["customer_id"], dates.to_numpy(), np.nan_to_num(amount, nan=0.0)


def _timestamp(value) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).to_datetime64(), "ns")


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int64), pd.Index(uniques, name="customer_id")


def _distinct_per_customer(codes: np.ndarray, values: pd.Series, n_customers: int) -> np.ndarray:
    value_codes, uniques = pd.factorize(values)
    present = value_codes >= 0
    stride = max(len(uniques), 1)
    pairs = pd.unique(codes[present] * stride + value_codes[present])
    return np.bincount(pairs // stride, minlength=n_customers)


class _Window:
    """Transactions before a cut-off, reduced to arrays keyed by customer code."""

    def __init__(self, transactions: pd.DataFrame, cutoff):
        ids, dates, amount = _columns(transactions)
        self.cutoff = _timestamp(cutoff)
        keep = (dates < self.cutoff) & ids.notna().to_numpy()
        self.rows = np.flatnonzero(keep)
        self.codes, self.customers = _customer_codes(ids.iloc[self.rows])
        self.dates = dates[keep]
        self.amount = amount[keep]
        self.day = self.dates.astype("datetime64[D]").astype(np.int64)
        self.n = len(self.customers)
        self.purchase = self.amount > 0
        self._purchase_days()

    def _purchase_days(self):
        codes, day = self.codes[self.purchase], self.day[self.purchase]
        first = int(day.min()) if len(day) else 0
        span = int(day.max()) - first + 1 if len(day) else 1
        pairs = np.sort(pd.unique(codes * span + (day - first)))
        pair_customer, pair_day = pairs // span, pairs % span + first
        starts = np.flatnonzero(np.diff(pair_customer, prepend=-1) != 0)
        ends = np.r_[starts[1:], len(pairs)][: len(starts)]
        self.n_days = np.zeros(self.n, dtype=np.int64)
        self.n_days[pair_customer[starts]] = ends - starts
        self.has_purchase = self.n_days > 0
        self.first_day = np.zeros(self.n, dtype=np.int64)
        self.first_day[pair_customer[starts]] = pair_day[starts]
        self.last_day = np.zeros(self.n, dtype=np.int64)
        self.last_day[pair_customer[starts]] = pair_day[ends - 1]
        same = pair_customer[1:] == pair_customer[:-1]
        gaps = np.diff(pair_day).astype(float)[same]
        self.gap_sq = np.bincount(pair_customer[1:][same], gaps**2, minlength=self.n)

    def spend(self, mask=None, gross=False) -> np.ndarray:
        select = self.purchase if gross else np.ones(len(self.amount), dtype=bool)
        if mask is not None:
            select = select & mask
        return np.bincount(self.codes[select], self.amount[select], minlength=self.n)

    def days_before_cutoff(self, day: np.ndarray) -> np.ndarray:
        return (self.cutoff - day.astype("datetime64[D]")) / _DAY

    def since(self, days: int) -> np.ndarray:
        return self.dates >= self.cutoff - np.timedelta64(days, "D")


def _btyd_frame(window: _Window) -> pd.DataFrame:
    frequency = (window.n_days - 1).clip(min=0).astype(float)
    gross = window.spend(gross=True)
    first_day_spend = window.spend(window.day == window.first_day[window.codes], gross=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (gross - first_day_spend) / frequency, 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (window.last_day - window.first_day).astype(float),
            "T": window.days_before_cutoff(window.first_day),
            "monetary_value": monetary,
        },
        index=window.customers,
    )


def btyd_summary(transactions: pd.DataFrame, cutoff) -> pd.DataFrame:
    """Per-customer BG/NBD and Gamma-Gamma inputs from the rows before ``cutoff``."""
    window = _Window(transactions, cutoff)
    return _btyd_frame(window).loc[window.has_purchase, BTYD_COLUMNS]


def customer_features(transactions: pd.DataFrame, cutoff, attributes=None) -> pd.DataFrame:
    """Behavioural features (see the module table) plus joined customer attributes
    (a frame, or an :class:`AttributeTable` made once for many cut-offs)."""
    window = _Window(transactions, cutoff)
    frame = _btyd_frame(window)
    gross = window.spend(gross=True)
    net = window.spend()
    frequency = frame["frequency"].to_numpy()
    if "order_id" in transactions.columns:
        n_orders = _order_counts(window, transactions["order_id"].iloc[window.rows[window.purchase]])
    else:
        n_orders = window.n_days.astype(float)
    recent = window.spend(window.since(90), gross=True)
    prior = window.spend(window.since(180) & ~window.since(90), gross=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        trend = np.where(recent + prior > 0, (recent - prior) / (recent + prior), 0.0)
        ipt_mean = np.where(frequency > 0, frame["recency"].to_numpy() / frequency, frame["T"].to_numpy())
        mean_sq = np.where(frequency > 0, window.gap_sq / np.maximum(frequency, 1), 0.0)
        ipt_var = np.where(frequency > 1, mean_sq - ipt_mean**2, 0.0)
        return_share = np.where(gross > 0, (gross - net) / gross, 0.0)
    frame["days_since_last"] = window.days_before_cutoff(window.last_day)
    frame["tenure"] = frame["T"]
    frame["n_orders"] = n_orders
    frame["total_spend"] = net
    frame["avg_order_value"] = np.where(n_orders > 0, gross / np.maximum(n_orders, 1), 0.0)
    frame["spend_90"] = window.spend(window.since(90))
    frame["spend_180"] = window.spend(window.since(180))
    frame["trend"] = trend
    frame["ipt_mean"] = ipt_mean
    frame["ipt_std"] = np.sqrt(np.clip(ipt_var, 0.0, None))
    frame["return_share"] = np.clip(return_share, 0.0, 1.0)
    for column, name in (("category", "n_categories"), ("channel", "n_channels")):
        if column in transactions.columns:
            values = transactions[column].iloc[window.rows[window.purchase]]
            frame[name] = _distinct_per_customer(window.codes[window.purchase], values, window.n).astype(float)
    frame = frame.loc[window.has_purchase]
    if attributes is not None:
        frame = _join_attributes(frame, attributes, window.cutoff)
    return frame


def _order_counts(window: _Window, orders: pd.Series) -> np.ndarray:
    """Distinct orders per customer; rows without an order id count once per day."""
    order_codes, order_uniques = pd.factorize(orders)
    if len(order_codes) == 0:
        return np.zeros(window.n)
    purchase_day = window.day[window.purchase]
    day_keys = purchase_day - purchase_day.min() + len(order_uniques)
    order_keys = np.where(order_codes >= 0, order_codes, day_keys)
    stride = int(order_keys.max()) + 1
    pairs = pd.unique(window.codes[window.purchase] * stride + order_keys)
    return np.bincount(pairs // stride, minlength=window.n).astype(float)


def coded_labels(transactions: pd.DataFrame) -> pd.DataFrame:
    """``transactions`` with ``order_id``, ``category`` and ``channel`` as numeric codes
    (NaN where missing). ``customer_features`` only compares those values, so its result
    is the same; features at many cut-offs then hash the strings once, not each time."""
    coded = {}
    for column in ("order_id", "category", "channel"):
        if column in transactions.columns:
            codes = pd.factorize(transactions[column])[0].astype(float)
            coded[column] = np.where(codes >= 0, codes, np.nan)
    return transactions.assign(**coded)


class AttributeTable:
    """Customer attributes converted once (string ids, float numbers, coded categories),
    so joining them at several cut-offs only looks customers up; ``customer_features``
    accepts one in place of the attribute frame."""

    def __init__(self, attributes: pd.DataFrame):
        if "customer_id" in attributes.columns:
            attributes = attributes.set_index("customer_id")
        self.index = attributes.index.astype(str)
        if not self.index.is_unique:
            raise ValueError("attributes must have one row per customer_id")
        self.columns: dict[str, tuple[str, object]] = {}
        for column in attributes.columns:
            values = attributes[column]
            if values.dtype.kind in "biuf":
                self.columns[column] = ("number", values.to_numpy(dtype=float, na_value=np.nan))
            elif values.dtype.kind == "M":
                self.columns[column] = ("date", values.to_numpy())
            else:
                categories = pd.Index(values.dropna().astype(str).unique()).sort_values()
                text = values.astype(str).where(values.notna())
                self.columns[column] = ("category", pd.Categorical(text, categories=categories))

    def join(self, frame: pd.DataFrame, cutoff: np.datetime64) -> pd.DataFrame:
        rows = self.index.get_indexer(frame.index)
        found = rows >= 0

        def take(values: np.ndarray, missing) -> np.ndarray:
            out = np.full(len(rows), missing, dtype=values.dtype)
            out[found] = values[rows[found]]
            return out

        joined = {}
        for column, (kind, values) in self.columns.items():
            name = f"attr_{column}" if column in frame.columns else str(column)
            if kind == "category":
                joined[name] = pd.Categorical.from_codes(take(values.codes, -1), dtype=values.dtype)
            elif kind == "date":
                joined[name] = take(((cutoff - values) / _DAY).astype(float), np.nan)
            else:
                joined[name] = take(values, np.nan)
        return frame.assign(**joined)


def _join_attributes(frame: pd.DataFrame, attributes, cutoff: np.datetime64) -> pd.DataFrame:
    table = attributes if isinstance(attributes, AttributeTable) else AttributeTable(attributes)
    return table.join(frame, cutoff)


def _window_amounts(transactions: pd.DataFrame, start, end):
    ids, dates, amount = _columns(transactions)
    codes, customers = _customer_codes(ids)
    inside = (dates >= _timestamp(start)) & (dates < _timestamp(end)) & (codes >= 0)
    return codes, customers, amount, inside


def future_spend(transactions: pd.DataFrame, start, end) -> pd.Series:
    """Net spend in [start, end), clipped at 0, for every customer in ``transactions``."""
    codes, customers, amount, inside = _window_amounts(transactions, start, end)
    total = np.bincount(codes[inside], amount[inside], minlength=len(customers))
    return pd.Series(np.clip(total, 0.0, None), index=customers, name="future_spend")


def purchased_between(transactions: pd.DataFrame, start, end) -> pd.Series:
    """Whether each customer in ``transactions`` bought anything in [start, end)."""
    codes, customers, amount, inside = _window_amounts(transactions, start, end)
    bought = inside & (amount > 0)
    counts = np.bincount(codes[bought], minlength=len(customers))
    return pd.Series(counts > 0, index=customers, name="purchased")

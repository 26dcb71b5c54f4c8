"""Customer segmentation: k-means on log-scaled features, k chosen by silhouette.

Features are transformed with the signed log ``sign(x) · log1p(|x|)`` (``log1p`` for
non-negative columns, and still defined for the negative values of e.g. ``trend``),
standardised, and clustered with k-means for every k in ``k_min..k_max``. The k with the
highest silhouette wins. For large n the k-scan runs on a random sample of at most
50,000 customers and the silhouette on ``sample_size`` of them; every customer is then
assigned to the nearest centre, so 500,000 customers take seconds.

Cluster labels are ordered by size (0 is the largest). ``centers_`` are the centres
mapped back to original units (a centre in log space, so closer to a median than a
mean); ``profiles_`` holds the plain means and sizes.

Persona names come from each centre's position in the standardised space (0 = an
average customer, 1 = one standard deviation): *recency* is minus the
``days_since_last`` coordinate, *frequency* the ``n_orders`` (or ``frequency``)
coordinate and *value* the mean of the frequency and the monetary coordinate
(``total_spend``, ``monetary_value``, ``avg_order_value`` or ``spend_180``, first found).
A level is high above +0.35, low below −0.35, otherwise mid; a missing column counts
as mid.

======= ===================== ========================== ========================
recency value high            value mid                  value low
======= ===================== ========================== ========================
high    High-value loyalists  Active regulars (*)        Recent low spenders (*)
mid     Cooling high spenders Steady mid-value customers Occasional low spenders
low     Lapsed high spenders  Lapsed occasional buyers   Lapsed low spenders
======= ===================== ========================== ========================

(*) "Recent first-timers" instead when the frequency level is low.

Clusters sharing a name are told apart by value: "(higher value)" / "(lower value)" for
two, "(value tier 1)", "(value tier 2)", ... for more. Without any of the recency,
frequency or monetary columns (a customer table) a persona is named after the two columns
that set its centre furthest from the average customer ("High annual income, low age"),
numbered when two clusters would share a name.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SCAN_LIMIT = 50_000
LEVEL = 0.35
_RECENCY = ("days_since_last",)
_FREQUENCY = ("n_orders", "frequency")
_MONETARY = ("total_spend", "monetary_value", "avg_order_value", "spend_180")
_NAMES = {
    ("high", "high"): "High-value loyalists",
    ("high", "mid"): "Active regulars",
    ("high", "low"): "Recent low spenders",
    ("mid", "high"): "Cooling high spenders",
    ("mid", "mid"): "Steady mid-value customers",
    ("mid", "low"): "Occasional low spenders",
    ("low", "high"): "Lapsed high spenders",
    ("low", "mid"): "Lapsed occasional buyers",
    ("low", "low"): "Lapsed low spenders",
}


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def _nearest(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    distances = (Z**2).sum(axis=1)[:, None] - 2 * Z @ centers.T + (centers**2).sum(axis=1)[None, :]
    return np.argmin(distances, axis=1)


def silhouettes(Z: np.ndarray, label_sets: list[np.ndarray], chunk: int = 1_000) -> list[float]:
    """Mean silhouette of each labelling of the same rows, sharing one distance pass.

    Matches ``sklearn.metrics.silhouette_score`` (Euclidean; 0 for members of singleton
    clusters; NaN when a labelling has fewer than two clusters) but computes every
    pairwise distance once for all k instead of once per k.
    """
    onehots = [np.eye(labels.max() + 1)[labels] for labels in label_sets]
    # float32 halves the memory traffic of the n x n distance pass; means of thousands
    # of distances stay accurate to about 1e-5.
    stacked = np.hstack(onehots).astype(np.float32)
    bounds = np.cumsum([0] + [h.shape[1] for h in onehots])
    totals = [np.zeros(len(Z)) for _ in label_sets]
    points = Z.astype(np.float32)
    squared = (points**2).sum(axis=1)
    for start in range(0, len(Z), chunk):
        block = slice(start, start + chunk)
        distances = points[block] @ points.T
        distances *= -2
        distances += squared[block, None]
        distances += squared[None, :]
        np.sqrt(np.maximum(distances, 0, out=distances), out=distances)
        sums = (distances @ stacked).astype(float)
        for index, labels in enumerate(label_sets):
            cluster_sums = sums[:, bounds[index]:bounds[index + 1]]
            sizes = onehots[index].sum(axis=0)
            own = labels[block]
            own_size = sizes[own]
            rows = np.arange(len(own))
            inside = cluster_sums[rows, own] / np.maximum(own_size - 1, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                means = cluster_sums / sizes
            means[rows, own] = np.inf
            means[:, sizes == 0] = np.inf
            nearest = means.min(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = (nearest - inside) / np.maximum(inside, nearest)
            totals[index][block] = np.where((own_size > 1) & np.isfinite(score), score, 0.0)
    return [float(total.mean()) if (np.bincount(labels) > 0).sum() > 1 else float("nan")
            for total, labels in zip(totals, label_sets, strict=True)]


def _level(value: float) -> str:
    return "high" if value > LEVEL else "low" if value < -LEVEL else "mid"


def _first_present(candidates: tuple[str, ...], columns: list[str]) -> int | None:
    for name in candidates:
        if name in columns:
            return columns.index(name)
    return None


def persona_names(centers_scaled: np.ndarray, columns: list[str]) -> list[str]:
    """Unique persona names for centres in the standardised log space (see module doc)."""
    positions = {
        "recency": _first_present(_RECENCY, columns),
        "frequency": _first_present(_FREQUENCY, columns),
        "monetary": _first_present(_MONETARY, columns),
    }
    if all(position is None for position in positions.values()):
        return _profile_names(centers_scaled, columns)

    def coordinate(center, key, sign=1.0):
        return 0.0 if positions[key] is None else sign * float(center[positions[key]])

    names, values = [], []
    for center in centers_scaled:
        recency = coordinate(center, "recency", -1.0)
        frequency = coordinate(center, "frequency")
        value = (frequency + coordinate(center, "monetary")) / 2
        name = _NAMES[(_level(recency), _level(value))]
        if _level(recency) == "high" and _level(value) != "high" and _level(frequency) == "low":
            name = "Recent first-timers"
        names.append(name)
        values.append(value)
    unique = list(names)
    for name in set(names):
        members = sorted((i for i, n in enumerate(names) if n == name), key=lambda i: -values[i])
        if len(members) == 2:
            unique[members[0]] = f"{name} (higher value)"
            unique[members[1]] = f"{name} (lower value)"
        elif len(members) > 2:
            for tier, member in enumerate(members, start=1):
                unique[member] = f"{name} (value tier {tier})"
    return unique


def _profile_names(centers_scaled: np.ndarray, columns: list[str]) -> list[str]:
    """Names from what sets each centre apart most: its two columns furthest from the
    average customer ("High annual income, low age"), for tables without RFM columns."""
    names = []
    for center in centers_scaled:
        order = np.argsort(-np.abs(center), kind="stable")[:2]
        parts = [f"{'high' if center[i] > 0 else 'low'} {columns[i].replace('_', ' ')}"
                 for i in order if abs(center[i]) >= 0.25]
        name = ", ".join(parts) or "Average on every column"
        names.append(name[0].upper() + name[1:])
    shared = {name for name in names if names.count(name) > 1}
    seen: dict[str, int] = {}
    for label, name in enumerate(names):
        if name in shared:
            seen[name] = seen.get(name, 0) + 1
            names[label] = f"{name} ({seen[name]})"
    return names


class CustomerSegmenter:
    """k-means segmentation with silhouette-chosen k, persona names and JSON persistence."""

    def __init__(self, k_min=2, k_max=10, random_state=0, sample_size=10_000, columns=None):
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state
        self.sample_size = sample_size
        self.columns = columns

    def _scaled(self, X: pd.DataFrame) -> np.ndarray:
        missing = [column for column in self.columns_ if column not in X.columns]
        if missing:
            raise ValueError(f"X lacks segmentation columns {missing}")
        values = X[self.columns_].to_numpy(dtype=float, na_value=np.nan)
        values = np.where(np.isfinite(values), values, np.asarray(self.fill_values_))
        return (_signed_log(values) - self.scaler_mean_) / self.scaler_scale_

    def fit(self, X: pd.DataFrame, y=None):
        if self.k_min < 2 or self.k_max < self.k_min:
            raise ValueError("need 2 <= k_min <= k_max")
        columns = list(self.columns) if self.columns is not None else [
            str(c) for c in X.columns if X[c].dtype.kind in "biuf"
        ]
        if not columns:
            raise ValueError("no numeric columns to segment on")
        self.columns_ = columns
        raw = X[columns].to_numpy(dtype=float, na_value=np.nan)
        raw = np.where(np.isfinite(raw), raw, np.nan)
        with np.errstate(all="ignore"):
            medians = np.nanmedian(np.where(np.isnan(raw).all(axis=0), 0.0, raw), axis=0)
        self.fill_values_ = np.nan_to_num(medians).tolist()
        filled = np.where(np.isnan(raw), np.asarray(self.fill_values_), raw)
        scaler = StandardScaler().fit(_signed_log(filled))
        self.scaler_mean_, self.scaler_scale_ = scaler.mean_, scaler.scale_
        Z = (_signed_log(filled) - self.scaler_mean_) / self.scaler_scale_

        centers = self._scan(Z)
        labels = _nearest(Z, centers)
        sizes = np.bincount(labels, minlength=self.k_)
        order = np.argsort(-sizes, kind="stable")
        self.centers_scaled_ = centers[order]
        relabel = np.empty(self.k_, dtype=np.int64)
        relabel[order] = np.arange(self.k_)
        self.labels_ = relabel[labels]
        self.personas_ = dict(enumerate(persona_names(self.centers_scaled_, columns)))
        self.profiles_ = self._profiles(pd.DataFrame(filled, columns=columns))
        return self

    def _scan(self, Z: np.ndarray) -> np.ndarray:
        """Fit k-means for every k on a sample, keep the curves, return the best centres."""
        rng = np.random.default_rng(self.random_state)
        n = len(Z)
        scan = np.sort(rng.choice(n, SCAN_LIMIT, replace=False)) if n > SCAN_LIMIT else np.arange(n)
        Z_scan = Z[scan]
        silhouette_rows = (np.sort(rng.choice(len(scan), self.sample_size, replace=False))
                           if len(scan) > self.sample_size else np.arange(len(scan)))
        distinct = len(np.unique(Z_scan.round(9), axis=0))
        k_values = list(range(self.k_min, min(self.k_max, distinct, len(silhouette_rows) - 1) + 1))
        if not k_values:
            raise ValueError(f"too few distinct customers ({distinct}) for k >= {self.k_min}")
        models, inertias = [], []
        # One thread: workers run several jobs side by side, and OpenMP/BLAS threads
        # spinning against each other on busy cores make k-means many times slower.
        with threadpool_limits(limits=1):
            for k in k_values:
                model = KMeans(n_clusters=k, n_init=4, random_state=self.random_state).fit(Z_scan)
                nearest = _nearest(Z, model.cluster_centers_)
                inertias.append(float(((Z - model.cluster_centers_[nearest]) ** 2).sum()))
                models.append(model)
            scores = silhouettes(Z_scan[silhouette_rows], [m.labels_[silhouette_rows] for m in models])
        if np.all(np.isnan(scores)):
            raise ValueError("silhouette is undefined for every k; the data has no cluster structure")
        best = int(np.nanargmax(scores))
        self.k_, self.silhouette_ = k_values[best], float(scores[best])
        self.curves_ = {"k": k_values, "inertia": inertias, "silhouette": scores}
        return models[best].cluster_centers_

    @property
    def centers_(self) -> pd.DataFrame:
        unscaled = self.centers_scaled_ * self.scaler_scale_ + self.scaler_mean_
        original = np.sign(unscaled) * np.expm1(np.abs(unscaled))
        return pd.DataFrame(original, columns=self.columns_, index=pd.RangeIndex(len(original), name="cluster"))

    def _profiles(self, filled: pd.DataFrame) -> pd.DataFrame:
        grouped = filled.groupby(self.labels_)
        profile = grouped.mean().reindex(range(self.k_))
        sizes = grouped.size().reindex(range(self.k_), fill_value=0)
        profile.insert(0, "share", sizes / max(len(filled), 1))
        profile.insert(0, "size", sizes.astype(np.int64))
        profile.insert(0, "persona", [self.personas_[label] for label in range(self.k_)])
        profile.index.name = "cluster"
        return profile

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Cluster label of every row of ``X`` (nearest centre)."""
        if not hasattr(self, "centers_scaled_"):
            raise ValueError("CustomerSegmenter is not fitted; call fit() first")
        return _nearest(self._scaled(X), self.centers_scaled_)

    def to_dict(self) -> dict:
        """JSON-ready parameters: enough to predict and to show curves and personas."""
        if not hasattr(self, "k_"):
            raise ValueError("CustomerSegmenter is not fitted; call fit() first")
        return {
            "params": {"k_min": self.k_min, "k_max": self.k_max, "random_state": self.random_state,
                       "sample_size": self.sample_size, "columns": self.columns},
            "columns": list(self.columns_),
            "fill_values": [float(v) for v in self.fill_values_],
            "scaler_mean": self.scaler_mean_.tolist(),
            "scaler_scale": self.scaler_scale_.tolist(),
            "centers_scaled": self.centers_scaled_.tolist(),
            "k": self.k_,
            "silhouette": self.silhouette_,
            "curves": {key: [None if isinstance(v, float) and np.isnan(v) else v for v in values]
                       for key, values in self.curves_.items()},
            "personas": [self.personas_[label] for label in range(self.k_)],
            "profiles": json.loads(self.profiles_.to_json(orient="split", double_precision=15)),
        }

    @classmethod
    def from_dict(cls, payload: dict) -> CustomerSegmenter:
        """Rebuild a fitted segmenter (without ``labels_``) from :meth:`to_dict` output."""
        model = cls(**payload["params"])
        model.columns_ = list(payload["columns"])
        model.fill_values_ = list(payload["fill_values"])
        model.scaler_mean_ = np.asarray(payload["scaler_mean"], dtype=float)
        model.scaler_scale_ = np.asarray(payload["scaler_scale"], dtype=float)
        model.centers_scaled_ = np.asarray(payload["centers_scaled"], dtype=float)
        model.k_ = int(payload["k"])
        model.silhouette_ = float(payload["silhouette"])
        model.curves_ = {key: [float("nan") if v is None else v for v in values]
                         for key, values in payload["curves"].items()}
        model.personas_ = dict(enumerate(payload["personas"]))
        profiles = payload["profiles"]
        model.profiles_ = pd.DataFrame(
            profiles["data"], columns=profiles["columns"], index=pd.Index(profiles["index"], name="cluster")
        )
        return model

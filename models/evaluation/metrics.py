"""Regression and classification metrics for the out-of-time backtests.

Every function returns plain Python floats (or ``None`` when a metric is undefined,
e.g. a ranking metric on a constant target), so results go straight into JSON reports.

Ties in the predictions are treated as "order unknown": ranking metrics use average
ranks, and the top-decile metrics count the customers tied at the cut-off value with the
fraction of the remaining slots, i.e. the expectation over random tie-breaking. Without
this a baseline that predicts 0 for most customers would score differently depending on
the row order.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

DECILES = 10
RELIABILITY_BINS = 10
# Reliability "where the sample allows": a decile of the predicted probability is held to
# +/- RELIABILITY_TOLERANCE only when it has at least MIN_JUDGED_DECILE customers and the
# standard error of its observed rate, were the probabilities right (sqrt(sum p(1 - p)) / n),
# is at most MAX_JUDGED_SE, i.e. the tolerance is at least two standard errors. A smaller
# or noisier decile is reported, not judged: its observed rate could miss a correct
# probability by more than the tolerance by chance alone.
RELIABILITY_TOLERANCE = 0.05
MIN_JUDGED_DECILE = 100
MAX_JUDGED_SE = 0.025


def _arrays(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError("actual and predicted must be 1-D and of equal length")
    if len(y) == 0:
        raise ValueError("metrics need at least one row")
    return y, p


def _safe(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def spearman(actual, predicted) -> float | None:
    y, p = _arrays(actual, predicted)
    return _spearman_ranked(y, p, rankdata(y), rankdata(p))


def _spearman_ranked(y, p, ranks_y, ranks_p) -> float | None:
    # Spearman's rho is Pearson's correlation of the average ranks.
    if np.ptp(y) == 0 or np.ptp(p) == 0:
        return None
    return _safe(spearmanr(ranks_y, ranks_p).statistic)


def _gini(y: np.ndarray, ranks: np.ndarray) -> float:
    # Area between the cumulative-share curve of y ordered by descending score and the
    # diagonal, written with the scores' average ranks so tied scores count as randomly
    # ordered.
    n = len(y)
    return float(np.dot(y, ranks) / (n * y.sum()) - (n + 1) / (2 * n))


def normalized_gini(actual, predicted) -> float | None:
    """Gini of the actual values ordered by prediction / Gini ordered by actual."""
    y, p = _arrays(actual, predicted)
    return _normalized_gini_ranked(y, rankdata(y), rankdata(p))


def _normalized_gini_ranked(y, ranks_y, ranks_p) -> float | None:
    if y.sum() <= 0:
        return None
    best = _gini(y, ranks_y)
    if best <= 0:
        return None
    return _safe(_gini(y, ranks_p) / best)


def _top_share_weights(score: np.ndarray, share: float) -> np.ndarray:
    """Inclusion weight of each row in the top ``share`` by score, ties split evenly."""
    n = len(score)
    slots = max(1, int(math.ceil(share * n)))
    order = np.sort(score)[::-1]
    cut = order[slots - 1]
    above = score > cut
    tied = score == cut
    weights = above.astype(float)
    weights[tied] = (slots - above.sum()) / tied.sum()
    return weights


def top_decile_capture(actual, predicted) -> float | None:
    """Share of the actual total held by the top 10 % of customers by prediction."""
    y, p = _arrays(actual, predicted)
    total = y.sum()
    if total <= 0:
        return None
    return _safe(np.dot(_top_share_weights(p, 0.1), y) / total)


def decile_calibration(actual, predicted) -> list[dict]:
    """Mean predicted and mean actual per decile of the prediction (1 = highest)."""
    y, p = _arrays(actual, predicted)
    order = np.argsort(-p, kind="stable")
    rows = []
    for decile, idx in enumerate(np.array_split(order, DECILES), start=1):
        if len(idx) == 0:
            continue
        rows.append(
            {
                "decile": decile,
                "mean_predicted": _safe(p[idx].mean()),
                "mean_actual": _safe(y[idx].mean()),
                "count": int(len(idx)),
            }
        )
    return rows


def total_ratio(actual, predicted) -> float | None:
    y, p = _arrays(actual, predicted)
    total = y.sum()
    return _safe(p.sum() / total) if total > 0 else None


def total_log_error(ratio: float | None) -> float | None:
    """|ln(total predicted / actual)|: how far off a total is, whichever way (0.10 is
    about a 10 % miss). Its mean over origins does not let a 1.12 and a 0.90 cancel, as
    the mean ratio does."""
    return _safe(abs(math.log(ratio))) if ratio is not None and ratio > 0 else None


def regression_metrics(actual, predicted) -> dict:
    y, p = _arrays(actual, predicted)
    missing = int((~np.isfinite(p)).sum())
    if missing:
        # A candidate without a number for some customers cannot be judged, or chosen.
        return {"spearman": None, "normalized_gini": None, "top_decile_capture": None,
                "total_ratio": None, "total_log_error": None, "rmse": None, "mae": None, "r2": None,
                "total_predicted": None, "total_actual": _safe(y.sum()), "count": int(len(y)),
                "deciles": [], "not_finite": missing}
    residual = p - y
    variance = np.sum((y - y.mean()) ** 2)
    ranks_y, ranks_p = rankdata(y), rankdata(p)  # each ranked once for both metrics
    ratio = total_ratio(y, p)
    return {
        "spearman": _spearman_ranked(y, p, ranks_y, ranks_p),
        "normalized_gini": _normalized_gini_ranked(y, ranks_y, ranks_p),
        "top_decile_capture": top_decile_capture(y, p),
        "total_ratio": ratio,
        "total_log_error": total_log_error(ratio),
        "rmse": _safe(np.sqrt(np.mean(residual**2))),
        "mae": _safe(np.mean(np.abs(residual))),
        "r2": _safe(1 - np.sum(residual**2) / variance) if variance > 0 else None,
        "total_predicted": _safe(p.sum()),
        "total_actual": _safe(y.sum()),
        "count": int(len(y)),
        "deciles": decile_calibration(y, p),
    }


def _labels(actual, probability) -> tuple[np.ndarray, np.ndarray]:
    y, p = _arrays(actual, probability)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("classification labels must be 0 or 1")
    return y.astype(int), p


def roc_auc(actual, probability) -> float | None:
    y, p = _labels(actual, probability)
    return _safe(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def pr_auc(actual, probability) -> float | None:
    y, p = _labels(actual, probability)
    return _safe(average_precision_score(y, p)) if y.sum() > 0 else None


def brier(actual, probability) -> float | None:
    y, p = _labels(actual, probability)
    return _safe(np.mean((p - y) ** 2))


def reliability_table(actual, probability, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Observed positive rate per equal-width bin of predicted probability."""
    y, p = _labels(actual, probability)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        rows.append(
            {
                "bin": b + 1,
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "mean_predicted": _safe(p[mask].mean()) if count else None,
                "observed_rate": _safe(y[mask].mean()) if count else None,
                "count": count,
            }
        )
    return rows


def decile_reliability_gap(actual, probability) -> float | None:
    """The largest |mean predicted − observed rate| over deciles of the probability
    (equal-count groups, so every group has enough customers to judge calibration)."""
    return judged_reliability(actual, probability)["max_decile_gap"]


def decile_reliability(actual, probability) -> list[dict]:
    """Per decile of the probability (equal-count groups, 1 = lowest): mean predicted,
    observed rate, count, the standard error of the observed rate were the probabilities
    right, and whether the decile is judged (see :data:`MAX_JUDGED_SE`)."""
    y, p = _labels(actual, probability)
    if len(y) < DECILES:
        return []
    order = np.argsort(p, kind="stable")
    rows = []
    for decile, idx in enumerate(np.array_split(order, DECILES), start=1):
        q = p[idx]
        se = float(np.sqrt(np.sum(q * (1 - q))) / len(idx))
        rows.append({
            "decile": decile, "mean_predicted": _safe(q.mean()),
            "observed_rate": _safe(y[idx].mean()), "count": int(len(idx)),
            "standard_error": _safe(se),
            "judged": bool(len(idx) >= MIN_JUDGED_DECILE and se <= MAX_JUDGED_SE),
        })
    return rows


def judged_reliability(actual, probability) -> dict:
    """The largest decile gap, and over the judged deciles only: how many, their largest
    gap and whether it is within the tolerance (1.0 / 0.0, None when no decile is judged;
    a number so that its mean over origins is the share of origins within tolerance)."""
    rows = decile_reliability(actual, probability)
    gaps = [abs(r["mean_predicted"] - r["observed_rate"]) for r in rows]
    judged = [g for g, r in zip(gaps, rows, strict=True) if r["judged"]]
    worst = max(judged) if judged else None
    return {
        "max_decile_gap": _safe(max(gaps)) if gaps else None,
        "judged_deciles": len(judged),
        "max_judged_gap": None if worst is None else _safe(worst),
        "within_tolerance": None if worst is None else float(worst <= RELIABILITY_TOLERANCE),
    }


def precision_recall_f1(actual, probability, threshold: float) -> dict:
    """Precision, recall and F1 when customers with probability >= threshold are flagged."""
    y, p = _labels(actual, probability)
    flagged = p >= threshold
    true_pos = float(np.sum(flagged & (y == 1)))
    precision = true_pos / flagged.sum() if flagged.any() else 0.0
    recall = true_pos / y.sum() if y.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def best_f1_threshold(actual, probability) -> float:
    """The probability threshold that maximises F1 (0.5 when there are no positives)."""
    y, p = _labels(actual, probability)
    if y.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    denominator = precision[:-1] + recall[:-1]
    f1 = np.divide(
        2 * precision[:-1] * recall[:-1],
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(thresholds[int(np.argmax(f1))])


def lift_at(actual, probability, share: float = 0.1) -> float | None:
    """Positive rate among the top ``share`` by probability / overall positive rate."""
    y, p = _labels(actual, probability)
    base_rate = y.mean()
    if base_rate == 0:
        return None
    weights = _top_share_weights(p, share)
    return _safe(np.dot(weights, y) / weights.sum() / base_rate)


def classification_metrics(actual, probability, threshold: float) -> dict:
    y, p = _labels(actual, probability)
    return {
        "roc_auc": roc_auc(y, p),
        "pr_auc": pr_auc(y, p),
        "brier": brier(y, p),
        "threshold": float(threshold),
        **precision_recall_f1(y, p, threshold),
        "lift_at_10": lift_at(y, p, 0.1),
        "positive_rate": _safe(y.mean()),
        "count": int(len(y)),
        **judged_reliability(y, p),
        "reliability": reliability_table(y, p),
    }

"""Churn probability calibration: a monotone map on the log-odds, then a level.

A churn model fit on one period and applied to the next is off in two ways: its shape
(a recency logistic is too sure about recent buyers; BG/NBD and the trees bend the other
way in places) and its level (the share of customers who buy nothing moves with the
season, a trend or a step, and a model carries the level of the period it learnt from).
:class:`ProbabilityMap` corrects both, in this order:

1. **shape** — a strictly increasing map of the model's log-odds, learnt on predictions
   whose outcomes are known, by one of :data:`METHODS`:

   * ``isotonic`` — isotonic regression (pool adjacent violators) of the outcome on the
     log-odds; each pooled block becomes one knot, its customers' mean log-odds → the
     log-odds of its churn rate (clipped to [:data:`EPSILON`, 1 − :data:`EPSILON`]),
     linear between knots and slope 1 beyond the first and last (the model's own odds
     ratios where the data end);
   * ``platt`` — logistic regression of the outcome on the log-odds (two numbers), a
     straight line: two knots and the same slope beyond them.

   Either way the map is stored as plain numbers (the knots' log-odds in and out, the
   slope beyond them) and is strictly increasing, so the ranking, and the ROC AUC, stay
   the model's;
2. **level** — a shift on the log-odds chosen so that the mean calibrated probability
   on the population being scored equals a forecast of the churn rate made from the
   features alone (:data:`LEVELS`): ``trained``, the model's own mean probability, or
   ``btyd``, BG/NBD's mean probability of no purchase in the horizon
   (``btyd_p_inactive``). The shift is set once, on the population the map is made for,
   and then kept: scoring another table later applies the same numbers.

Explanations stay additive in log-odds: with ``g`` the calibrated log-odds of a raw
log-odds ``z``, each customer's raw contributions are scaled by
``(g(z) − g(base)) / (z − base)`` (the local slope of ``g`` when ``z`` is the base), so
the base ``g(base)`` and the scaled contributions add up to the calibrated log-odds.

A map is refused (:class:`CalibrationRefused`, with a message for the report) with fewer
than :data:`MIN_CUSTOMERS` customers, fewer than :data:`MIN_PER_OUTCOME` of either
outcome, or when the outcomes do not rise with the predicted risk (one isotonic block, a
Platt slope ≤ 0): the probabilities are then used as the model gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.isotonic import isotonic_regression

from models.estimators.churn import fit_logistic
from models.explain import Explanation

METHODS = ("isotonic", "platt")
EPSILON = 1e-3
MIN_CUSTOMERS = 200
MIN_PER_OUTCOME = 20
LEVELS = ("trained", "btyd")
LEVEL_COLUMN = "btyd_p_inactive"
_RAW_CLIP = 1e-15
_MAX_SHIFT = 30.0
_SLOPE_STEP = 1e-4


class CalibrationRefused(ValueError):
    """No map can be learnt from these predictions and outcomes; the message says why."""


def level_rate(level: str, raw: np.ndarray, X: pd.DataFrame | None = None) -> float | None:
    """The churn rate forecast under ``level`` for a population: its mean raw probability
    (``trained``) or its mean BG/NBD probability of no purchase (``btyd``; None when the
    table has no BG/NBD outputs)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    if level == "trained":
        return float(np.mean(raw))
    if X is None or LEVEL_COLUMN not in X.columns:
        return None
    values = X[LEVEL_COLUMN].to_numpy(dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def _log_odds(p, epsilon: float = EPSILON) -> np.ndarray:
    return special.logit(np.clip(np.asarray(p, dtype=float), epsilon, 1 - epsilon))


def isotonic_knots(log_odds, outcome) -> tuple[np.ndarray, np.ndarray]:
    """The pooled blocks of the isotonic fit of ``outcome`` on ``log_odds``: each block's
    mean log-odds and the log-odds of its churn rate, both strictly increasing (of blocks
    whose clipped rates are equal only the first is kept)."""
    values, inverse, counts = np.unique(log_odds, return_inverse=True, return_counts=True)
    rate = np.bincount(inverse, weights=outcome) / counts
    fitted = isotonic_regression(rate, sample_weight=counts.astype(float), increasing=True)
    starts = np.r_[True, np.diff(fitted) > 1e-12]
    block = np.cumsum(starts) - 1
    weight = np.bincount(block, weights=counts)
    centre = np.bincount(block, weights=counts * values) / weight
    out = _log_odds(fitted[starts])
    # Blocks whose rates clip to the same value would make a flat step: keep the first.
    rising = np.r_[True, np.diff(out) > 0]
    return centre[rising], out[rising]


def _refuse_small(y: np.ndarray) -> None:
    churned = int(y.sum())
    if len(y) < MIN_CUSTOMERS:
        raise CalibrationRefused(
            f"{len(y)} customers, fewer than the {MIN_CUSTOMERS} a calibration map needs")
    if min(churned, len(y) - churned) < MIN_PER_OUTCOME:
        raise CalibrationRefused(
            f"{churned} of {len(y)} customers churned: a calibration map needs at least "
            f"{MIN_PER_OUTCOME} of each outcome")


@dataclass
class ProbabilityMap:
    """A monotone map on the log-odds + a level shift (see the module docstring)."""

    knots_in: list[float]
    knots_out: list[float]
    tail_slope: float = 1.0
    method: str = "isotonic"
    shift: float = 0.0
    level: str = "none"
    fitted_on: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, probability, outcome, method: str = "isotonic", **fitted_on) -> ProbabilityMap:
        """The map of ``outcome`` (1 = churned) on ``probability`` by ``method``;
        ``fitted_on`` is kept with the map (e.g. where its window ended)."""
        if method not in METHODS:
            raise ValueError(f"unknown calibration method {method!r}; expected one of {METHODS}")
        p = np.asarray(probability, dtype=float)
        y = np.asarray(outcome, dtype=float)
        if p.shape != y.shape or p.ndim != 1:
            raise ValueError("probability and outcome must be 1-D and of equal length")
        usable = np.isfinite(p)
        p, y = p[usable], y[usable]
        _refuse_small(y)
        z = _log_odds(p)
        if method == "platt":
            slope, intercept = fit_logistic(z, y)
            ends = np.array([z.min(), z.max()]) if np.ptp(z) > 0 else np.array([z[0], z[0] + 1])
            knots_in, knots_out, tail = ends, intercept + slope * ends, slope
            rising = slope > 0
        else:
            knots_in, knots_out = isotonic_knots(z, y)
            tail, rising = 1.0, len(knots_in) >= 2
        if not rising:
            raise CalibrationRefused(
                "the observed churn rate does not rise with the predicted probability")
        return cls([float(v) for v in knots_in], [float(v) for v in knots_out], float(tail),
                   method, fitted_on={"customers": int(len(y)), "knots": len(knots_in),
                                      **fitted_on})

    def _with(self, shift: float, level: str) -> ProbabilityMap:
        return ProbabilityMap(self.knots_in, self.knots_out, self.tail_slope, self.method,
                              shift, level, self.fitted_on)

    def log_odds(self, raw_log_odds) -> np.ndarray:
        """``g``: calibrated log-odds of raw log-odds."""
        z = np.asarray(raw_log_odds, dtype=float)
        x, y, slope = self.knots_in, self.knots_out, self.tail_slope
        inside = np.interp(z, x, y)
        mapped = np.where(z < x[0], y[0] + slope * (z - x[0]),
                          np.where(z > x[-1], y[-1] + slope * (z - x[-1]), inside))
        return mapped + self.shift

    def apply(self, probability) -> np.ndarray:
        """Calibrated probabilities (``expit(g(logit(p)))``; the input is not clipped to
        :data:`EPSILON`, so this agrees with :meth:`explain` on the model's log-odds)."""
        return special.expit(self.log_odds(_log_odds(probability, _RAW_CLIP)))

    def with_level(self, probability, rate: float | None, level: str) -> ProbabilityMap:
        """This map with the shift that makes the mean calibrated probability of
        ``probability`` (the population to be scored) equal ``rate``; without a rate,
        no shift (level ``none``: the training window's level)."""
        unshifted = self._with(0.0, "none")
        if rate is None or not 0 < rate < 1:
            return unshifted
        logits = unshifted.log_odds(_log_odds(probability, _RAW_CLIP))

        def excess(shift):
            return float(special.expit(logits + shift).mean()) - rate

        low, high = excess(-_MAX_SHIFT), excess(_MAX_SHIFT)
        shift = (optimize.brentq(excess, -_MAX_SHIFT, _MAX_SHIFT) if low < 0 < high
                 else (-_MAX_SHIFT if low >= 0 else _MAX_SHIFT))
        return self._with(float(shift), level)

    def explain(self, explanation: Explanation) -> Explanation:
        """A raw log-odds explanation carried through the map (module docstring)."""
        if explanation.space != "log-odds":
            raise ValueError("only log-odds explanations can be calibrated")
        z = explanation.output.to_numpy(dtype=float)
        base = float(explanation.base_value)
        new_base = float(self.log_odds([base])[0])
        new_output = self.log_odds(z)
        distance = z - base
        close = np.abs(distance) < 1e-9
        slope = (self.log_odds(z + _SLOPE_STEP) - self.log_odds(z - _SLOPE_STEP)) / (
            2 * _SLOPE_STEP)
        factor = np.where(close, slope, (new_output - new_base) / np.where(close, 1.0, distance))
        contributions = explanation.contributions.mul(factor, axis=0)
        output = pd.Series(new_output, index=explanation.output.index, name="output")
        return Explanation(new_base, contributions, "log-odds", output)

    def to_dict(self) -> dict:
        return {"method": self.method, "knots_in": list(self.knots_in),
                "knots_out": list(self.knots_out), "tail_slope": self.tail_slope,
                "shift": self.shift, "level": self.level, "fitted_on": dict(self.fitted_on)}

    @classmethod
    def from_dict(cls, payload: dict) -> ProbabilityMap:
        if payload.get("method") not in METHODS:
            raise ValueError(f"unknown calibration method {payload.get('method')!r}")
        knots_in = [float(v) for v in payload["knots_in"]]
        knots_out = [float(v) for v in payload["knots_out"]]
        if len(knots_in) != len(knots_out) or len(knots_in) < 2:
            raise ValueError("a calibration map needs at least two knots, as many out as in")
        return cls(knots_in, knots_out, float(payload["tail_slope"]), payload["method"],
                   float(payload.get("shift", 0.0)), str(payload.get("level", "none")),
                   dict(payload.get("fitted_on") or {}))

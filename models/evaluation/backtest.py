"""One backtest routine for CLV and churn, and the result it hands back.

:func:`run_backtest` does what both tasks share, in this order (windows and rolling
origins in ``models.evaluation.windows``, feature tables in ``models.evaluation.data``):

1. at every rolling origin (newest first), the feature tables before the origin's train
   and test cut-offs and the task's target on both layouts (:class:`Layouts`);
2. each candidate the task admits (at the newest origin) is fit on the train layout and
   scored on the test layout with the task's metrics, at every origin; trees at an older
   origin train on at most :data:`OLDER_ORIGIN_TREE_ROWS` customers (they only score
   their candidate there; the newest origin and the refit use every customer up to
   ``max_train_rows``), which bounds the cost of the extra origins on large tenants;
3. the task may ``settle`` choices made across origins (the CLV level of the trees);
4. the task's champion rule picks one on the **mean** of each metric over the origins,
   and the champion is refit on the newest test layout (BTYD on the histories before
   L), ready to score the final layout.

The result keeps the newest origin's metrics as ``backtest`` (the single-window layout
the dashboard reads), every origin's metrics as ``origins`` (rows ``cutoff``,
``candidate``, metrics) and ``summary`` ({candidate: {metric: {mean, std}}}).

A task (``models.evaluation.clv.ClvBacktest``, ``models.evaluation.churn.ChurnBacktest``)
supplies only its own part: ``label``, ``output`` (the score's name), ``target``,
``candidates``, ``evaluate``, ``choose``, ``refit`` and ``unvalidated`` (the result
without a backtest, for histories too short for one); optionally ``settle``,
``details`` (extra JSON for the report) and ``calibration`` (the churn probability map
of the refit champion, JSON numbers applied by :meth:`BacktestResult.predict`).

Scoring and explaining are separate calls on the result (:meth:`BacktestResult.predict`,
:meth:`BacktestResult.explain`), so a pipeline can fit, persist, score and explain in
different processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.estimators.calibration import ProbabilityMap
from models.evaluation.data import BacktestData
from models.explain import Explanation

MIN_TREE_ROWS = 200
OLDER_ORIGIN_TREE_ROWS = 100_000
CLV_OUTPUT, CHURN_OUTPUT = "clv", "churn_probability"


def no_progress(percent: float, message: str):
    return None


@dataclass
class Layouts:
    """One origin's train, test and final feature tables with the task's targets."""

    data: BacktestData
    train: pd.DataFrame
    test: pd.DataFrame
    final: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    columns: list[str]
    train_cutoff: pd.Timestamp | None = None
    test_cutoff: pd.Timestamp | None = None

    @classmethod
    def build(cls, data: BacktestData, target, origin=None) -> Layouts:
        windows = data.windows
        test_cutoff = pd.Timestamp(windows.test_cutoff if origin is None else origin)
        train_cutoff = windows.train_cutoff_of(test_cutoff)
        train = data.features(train_cutoff)
        test = data.features(test_cutoff)
        final = data.features(windows.end)
        return cls(
            data, train, test, final,
            target(data, train_cutoff, train.index),
            target(data, test_cutoff, test.index),
            data.learnable_columns(), train_cutoff, test_cutoff,
        )

    def complete(self) -> bool:
        """Whether both tables hold every learnable column (BTYD may fail early on)."""
        return all(set(self.columns) <= set(f.columns) for f in (self.train, self.test))


def tree_options(boosting: dict, layouts: Layouts) -> dict:
    """Tree hyper-parameters for a fit on ``layouts``: the task's, with the training rows
    capped at :data:`OLDER_ORIGIN_TREE_ROWS` at an older origin."""
    options = dict(boosting)
    if layouts.data.windows and layouts.test_cutoff != layouts.data.windows.test_cutoff:
        rows = options.get("max_train_rows", OLDER_ORIGIN_TREE_ROWS)
        options["max_train_rows"] = min(rows, OLDER_ORIGIN_TREE_ROWS)
    return options


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def origin_rows(per_origin: dict) -> list[dict]:
    """The per-origin table: one row per (cut-off, candidate) with its scalar metrics
    (numbers, and labels such as how the churn probabilities were calibrated there)."""
    return [
        {"cutoff": cutoff.date().isoformat(), "candidate": name,
         **{k: v for k, v in metrics.items() if isinstance(v, int | float | str) or v is None}}
        for cutoff, candidates in per_origin.items() for name, metrics in candidates.items()
    ]


def summarise(per_origin: dict) -> dict[str, dict]:
    """{candidate: {metric: {"mean", "std", "origins"}}} over the origins it was scored at."""
    values: dict[str, dict[str, list]] = {}
    for candidates in per_origin.values():
        for name, metrics in candidates.items():
            for metric, value in metrics.items():
                if _is_number(value) or value is None:
                    values.setdefault(name, {}).setdefault(metric, [])
                    if value is not None:
                        values[name][metric].append(float(value))
    return {
        name: {
            metric: {"mean": float(np.mean(v)) if v else None,
                     "std": float(np.std(v)) if v else None, "origins": len(v)}
            for metric, v in metrics.items()
        }
        for name, metrics in values.items()
    }


def means(summary: dict[str, dict]) -> dict[str, dict]:
    """The summary in the single-window shape, {candidate: {metric: mean}}, for the rules."""
    return {name: {m: s["mean"] for m, s in metrics.items()} for name, metrics in summary.items()}


@dataclass
class BacktestResult:
    """The backtest of every candidate and the champion, refit for final scoring.

    ``output`` names the score: ``clv`` (expected spend in the next ``horizon`` days) or
    ``churn_probability`` (P(no purchase in the next ``horizon`` days)); ``threshold``
    is the churn decision threshold (None for CLV), on the calibrated probabilities when
    ``calibration`` holds a map (``models.estimators.calibration.ProbabilityMap.to_dict``).
    """

    horizon: int
    windows: dict
    backtest: dict[str, dict]
    champion: str
    champion_rule: str
    notes: list[str]
    model: object
    feature_names: list[str]
    output: str = CLV_OUTPUT
    threshold: float | None = None
    origins: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    calibration: dict | None = None

    def _map(self) -> ProbabilityMap | None:
        return None if not self.calibration else ProbabilityMap.from_dict(self.calibration)

    def predict(self, features: pd.DataFrame) -> pd.Series:
        """The champion's score for every row of a feature table (index customer_id);
        churn probabilities go through the calibration map when there is one."""
        inputs = features[self.feature_names]
        if self.output == CHURN_OUTPUT:
            values = self.model.predict_proba(inputs)[:, 1]
            mapping = self._map()
            if mapping is not None:
                values = mapping.apply(values)
        else:
            values = self.model.predict(inputs)
        return pd.Series(np.asarray(values, dtype=float), index=features.index, name=self.output)

    def explain(self, features: pd.DataFrame) -> Explanation:
        """The champion's additive explanation of every row (see ``models.explain``),
        carried through the calibration map when there is one."""
        explanation = self.model.explain(features[self.feature_names])
        mapping = self._map()
        return explanation if mapping is None else mapping.explain(explanation)

    def to_dict(self) -> dict:
        """The JSON-safe part of the result (no per-customer values)."""
        payload = {
            "horizon": self.horizon,
            "windows": self.windows,
            "backtest": self.backtest,
            "champion": self.champion,
            "champion_rule": self.champion_rule,
            "notes": list(self.notes),
            "feature_names": list(self.feature_names),
            "origins": list(self.origins),
            "summary": self.summary,
            "details": self.details,
        }
        if self.threshold is not None:
            payload["threshold"] = self.threshold
        if self.calibration is not None:
            payload["calibration"] = self.calibration
        return payload


def champion_result(data: BacktestData, output: str, backtest: dict, champion: str, rule: str,
                    notes: list[str], model, threshold: float | None = None,
                    per_origin: dict | None = None, details: dict | None = None,
                    calibration: dict | None = None) -> BacktestResult:
    per_origin = per_origin or {}
    return BacktestResult(
        horizon=data.horizon,
        windows=data.windows.to_dict() if data.windows else {"horizon_days": data.horizon},
        backtest=backtest, champion=champion, champion_rule=rule, notes=notes, model=model,
        feature_names=list(model.feature_names_), output=output,
        threshold=None if threshold is None else float(threshold),
        origins=origin_rows(per_origin), summary=summarise(per_origin),
        details=dict(details or {}), calibration=calibration,
    )


def _backtest_origins(task, data: BacktestData, report, notes: list[str]):
    """{origin: {candidate: metrics}} newest first, and the newest origin's layouts."""
    latest = Layouts.build(data, task.target)
    names = task.candidates(latest, notes)
    origins = data.windows.origins
    per_origin: dict[pd.Timestamp, dict] = {}
    steps, done = len(names) * len(origins), 0
    for origin in origins:
        layouts = latest if origin == latest.test_cutoff else Layouts.build(
            data, task.target, origin)
        if not layouts.complete():
            notes.append(f"The origin {origin.date()} was left out: its feature tables lack "
                         "some of the model inputs.")
            continue
        admitted = names if layouts is latest else [
            n for n in task.candidates(layouts, []) if n in names]
        per_origin[origin] = {}
        for name in admitted:
            report(10 + 50 * done / steps,
                   f"{task.label}: backtesting {name} at {origin.date()}")
            per_origin[origin][name] = task.evaluate(name, layouts)
            done += 1
    return per_origin, latest


def run_backtest(task, data: BacktestData, progress=None) -> BacktestResult:
    """Backtest ``task``'s candidates at every origin, choose and refit the champion."""
    report = progress or no_progress
    if data.windows is None:
        return task.unvalidated(data)
    report(5, f"{task.label}: features at the backtest cut-offs")
    notes = list(data.notes)
    per_origin, latest = _backtest_origins(task, data, report, notes)
    if hasattr(task, "settle"):
        per_origin = task.settle(per_origin, notes)
    champion = task.choose(means(summarise(per_origin)), notes)
    report(60, f"{task.label}: refitting {champion} on the latest window")
    champion, model, threshold = task.refit(champion, latest, notes)
    report(100, f"{task.label}: champion {champion} ready")
    details = task.details() if hasattr(task, "details") else {}
    calibration = task.calibration() if hasattr(task, "calibration") else None
    return champion_result(data, task.output, per_origin[latest.test_cutoff], champion,
                           task.rule, notes, model, threshold, per_origin, details, calibration)


def choose_champion(
    backtest: dict[str, dict],
    simplest_first: list[str],
    score: str,
    eligible,
    margin: float,
) -> str | None:
    """The eligible candidate with the best ``score``; a more complex candidate must beat
    the simpler incumbent by more than ``margin``. None when no candidate is eligible."""
    champion, best = None, -math.inf
    for name in simplest_first:
        metrics = backtest.get(name)
        if metrics is None or not eligible(metrics) or metrics.get(score) is None:
            continue
        value = metrics[score]
        if champion is None or value > best + margin:
            champion, best = name, value
    return champion


def dominated_by_another(scores: dict[str, tuple[float, float]]) -> set[str]:
    """The candidates another one beats on both of ``(higher is better, lower is better)``
    (a tie on one of them allowed, not on both)."""
    return {name for name, (high, low) in scores.items()
            if any(other != name and o_high >= high and o_low <= low
                   and (o_high > high or o_low < low)
                   for other, (o_high, o_low) in scores.items())}

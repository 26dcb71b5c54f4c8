"""Churn: no purchase in the next H days, among customers with a purchase before the cut-off.

Candidates (windows as in ``models.evaluation.backtest``):

* ``recency`` — logistic map of log(1 + days since the last purchase) (the baseline);
* ``btyd`` — BG/NBD probability of no purchase in H days, fitted on the histories
  before each cut-off (unsupervised);
* ``xgboost`` — calibrated gradient-boosted trees on every customer feature, the BTYD
  outputs included.

Each candidate's decision threshold is the one that maximises F1 on the *training*
window (for the trees, on the calibration part they were not fit on); precision, recall
and F1 on the test window use that threshold, carried through the calibration map.

Calibration (``models.estimators.calibration``), learnt only from outcomes known at the
cut-off: each candidate's maps (isotonic and Platt on the log-odds) are fitted on its own
training window, i.e. on its predictions for the period [c0, c1) that ended at the test
cut-off c1 and what customers did then (for the trees, on the part of that window they
were not fitted on; BG/NBD fitted before c0 predicts that period out of sample). The
map's level is then set to a forecast of the churn rate from the features at c1
(``trained``: the model's own mean probability; ``btyd``: BG/NBD's mean probability of no
purchase). Per candidate, the level is the one whose mean |log-odds error| of the churn
rate over the origins is smallest (computed from the raw models), and the method the one
whose calibrated probabilities had the smaller mean largest judged decile gap over the
origins (Platt on a tie), both reported in ``details.calibration``: choices made on the
backtest, like the champion. An older origin's outcomes are not used: with
origins half a horizon apart (short histories such as the CDNOW sample) they are not yet
complete at the newer origin, and where they are, the season of the period before
differs from the one ahead (its map made the generated data worse).

Each origin's row holds the metrics of the probabilities as served (calibrated where a
map could be learnt, ``calibration`` says how) and ``raw_brier``, ``raw_max_decile_gap``,
``raw_max_judged_gap``, ``raw_within_tolerance`` of the model's own; reliability is
judged per decile "where the sample allows" (``models.evaluation.metrics.MAX_JUDGED_SE``).
The final map is learnt the same way for the champion refit on the newest origin's test
layout (features before c1, outcomes in [c1, L)), its level set on the customers scored
at L, and stored with the result (``BacktestResult.calibration``, plain numbers). A map
that cannot be learnt (too few customers, a single outcome, no rise of churn with the
predicted risk) leaves the probabilities as the model gives them, and a note says why.

Champion rule, on the means over the origins of the probabilities as served: candidates
beaten on both ROC AUC and Brier score by another are dropped; then among the
candidates within ±0.05 on every judged decile at every origin (all remaining candidates
when none is, with a note), the highest mean ROC AUC, where a more complex candidate
(order: recency, btyd, xgboost) must beat a simpler one by more than 0.005. The champion
is refit on the test layout and gives every customer a churn probability from the
features before L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from models.estimators.calibration import (
    LEVELS,
    METHODS,
    CalibrationRefused,
    ProbabilityMap,
    level_rate,
)
from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.evaluation.backtest import (
    CHURN_OUTPUT,
    MIN_TREE_ROWS,
    BacktestResult,
    champion_result,
    choose_champion,
    dominated_by_another,
    run_backtest,
    tree_options,
)
from models.evaluation.data import BacktestData
from models.evaluation.metrics import (
    RELIABILITY_TOLERANCE,
    best_f1_threshold,
    brier,
    classification_metrics,
    judged_reliability,
    reliability_table,
)

__all__ = ["ChurnBacktest", "run_churn"]

CANDIDATES = ["recency", "btyd", "xgboost"]
AUC_MARGIN = 0.005
CHAMPION_RULE = (
    "On the means over the rolling origins of probabilities calibrated by a monotone map "
    "(isotonic or Platt on the log-odds) learnt on each model's own training window and "
    "levelled to a churn-rate forecast: "
    "candidates beaten on both ROC AUC and Brier score by another are dropped; then among "
    f"those within ±{RELIABILITY_TOLERANCE} on every judged decile at every origin (all "
    "when none is), the highest mean ROC AUC; a more complex candidate (order "
    f"{', '.join(CANDIDATES)}) must beat a simpler one by more than {AUC_MARGIN}."
)
RAW_KEYS = ("brier", "max_decile_gap", "max_judged_gap", "within_tolerance")


@dataclass
class _Run:
    """One candidate at one origin: raw test probabilities, outcomes, the threshold from
    the training window, the churn-rate forecast of each level and the maps learnt on the
    training window by each method (or why none could be)."""

    probability: np.ndarray
    outcome: np.ndarray
    threshold: float
    rates: dict
    maps: dict
    refused: str = ""

    def served(self, method: str | None, level: str) -> tuple[np.ndarray, float, str]:
        """Probabilities as served with ``method`` and ``level``, the threshold carried
        through the map, and how they were calibrated."""
        mapping = self.maps.get(method)
        if mapping is None:
            return self.probability, self.threshold, f"none: {self.refused or 'no map'}"
        mapping = mapping.with_level(self.probability, self.rates.get(level), level)
        return (mapping.apply(self.probability), float(mapping.apply([self.threshold])[0]),
                f"{method}, level {mapping.level}")


def fit_maps(probability, outcome, window_end) -> tuple[dict, str]:
    """{method: map} learnt on a training window, and why a method was refused."""
    maps, refused = {}, ""
    for method in METHODS:
        try:
            maps[method] = ProbabilityMap.fit(
                probability, outcome, method,
                window_end=pd.Timestamp(window_end).date().isoformat())
        except CalibrationRefused as reason:
            refused = refused or str(reason)
    return maps, refused


def _level_error(rate: float | None, observed: float) -> float | None:
    if rate is None or not 0 < rate < 1 or not 0 < observed < 1:
        return None
    return abs(float(special.logit(rate) - special.logit(observed)))


def choose_level(runs: list[_Run]) -> str:
    """The level whose forecast churn rate was closest (mean |log-odds error|) to the
    observed rate over the origins; a level unknown at some origin is not a choice."""
    errors = {}
    for level in LEVELS:
        values = [_level_error(run.rates.get(level), float(run.outcome.mean())) for run in runs]
        if runs and all(v is not None for v in values):
            errors[level] = float(np.mean(values))
    return min(errors, key=errors.get) if errors else "trained"


def _reliability_gap(run: _Run, method: str, level: str) -> float | None:
    served, _, _ = run.served(method, level)
    judged = judged_reliability(run.outcome, served)
    return judged["max_judged_gap"] if judged["judged_deciles"] else judged["max_decile_gap"]


def choose_method(runs: list[_Run], level: str) -> str | None:
    """The map method with the smallest mean largest judged decile gap (the largest gap
    where no decile is judged) over the origins where every method had a map; the
    simpler ``platt`` on a tie; None when no origin had a map."""
    both = [run for run in runs if all(m in run.maps for m in METHODS)]
    if not both:
        return next((m for m in METHODS for run in runs if m in run.maps), None)
    scores = {}
    for method in METHODS:
        gaps = [_reliability_gap(run, method, level) for run in both]
        gaps = [g for g in gaps if g is not None]
        scores[method] = float(np.mean(gaps)) if gaps else np.inf
    return min(reversed(METHODS), key=scores.get)


def dominated(backtest: dict[str, dict]) -> set[str]:
    """Candidates another beats on ROC AUC and on Brier score (ties on one allowed)."""
    scores = {name: (m["roc_auc"], m["brier"]) for name, m in backtest.items()
              if m.get("roc_auc") is not None and m.get("brier") is not None}
    return dominated_by_another(scores)


def calibrated_metrics(run: _Run, method: str | None, level: str, raw: dict | None = None
                       ) -> dict:
    """A candidate's metrics at one origin as served, with the raw model's beside them
    (``raw``: the raw model's metrics when already computed)."""
    raw = raw or classification_metrics(run.outcome, run.probability, run.threshold)
    before = {f"raw_{key}": raw[key] for key in RAW_KEYS}
    served, threshold, how = run.served(method, level)
    if served is run.probability:
        return {**raw, **before, "calibration": how}
    # The map is strictly increasing: the ranking metrics, and who is flagged at the
    # threshold carried through it, are the raw model's; the rest is recomputed.
    metrics = {**raw, "brier": brier(run.outcome, served), "threshold": threshold,
               **judged_reliability(run.outcome, served),
               "reliability": reliability_table(run.outcome, served)}
    return {**metrics, **before, "calibration": how}


def _churn_probability(model, X: pd.DataFrame):
    return model.predict_proba(X)[:, 1]


class ChurnBacktest:
    """The churn part of ``run_backtest``: candidates, metrics, champion rule and refit."""

    label, output, rule = "Churn", CHURN_OUTPUT, CHAMPION_RULE

    def __init__(self, random_state: int = 0, boosting: dict | None = None):
        self.random_state = random_state
        self.boosting = dict(boosting or {})
        self.runs_: dict[str, dict[pd.Timestamp, _Run]] = {}
        self.choices_: dict[str, dict] = {}
        self.calibration_: dict | None = None

    @staticmethod
    def target(data: BacktestData, cutoff, index):
        return data.churn_target(cutoff, index)

    def _fit(self, name, frame, target, btyd, layouts):
        """Fit candidate ``name`` on one window of ``layouts``: (model, its probabilities
        and the outcomes on that window, out of sample for the trees: the part they were
        not fitted on). The threshold and the calibration map are learnt on these."""
        if name == "recency":
            model = RecencyModel().fit(frame, target)
            return model, _churn_probability(model, frame), np.asarray(target)
        if name == "btyd":
            model = BtydChurnModel(horizon=btyd.horizon).fit(frame, btyd=btyd)
            return model, _churn_probability(model, frame), np.asarray(target)
        model = BoostedChurnModel(random_state=self.random_state,
                                  **tree_options(self.boosting, layouts))
        model.fit(frame[layouts.columns], target)
        return model, model.holdout_probability_, model.holdout_target_

    def candidates(self, layouts, notes: list[str]) -> list[str]:
        data = layouts.data
        names = ["recency"]
        if (data.btyd(layouts.train_cutoff) is not None
                and data.btyd(layouts.test_cutoff) is not None):
            names.append("btyd")
        y_train = layouts.y_train
        if len(layouts.train) >= MIN_TREE_ROWS and 0 < y_train.sum() < len(y_train):
            names.append("xgboost")
        else:
            notes.append(
                f"Too few customers ({len(layouts.train)}) or a single outcome to train the "
                "tree model."
            )
        return names

    def evaluate(self, name: str, layouts) -> dict:
        data = layouts.data
        model, seen, outcome = self._fit(name, layouts.train, layouts.y_train,
                                         data.btyd(layouts.train_cutoff), layouts)
        threshold = best_f1_threshold(outcome, seen)
        maps, refused = fit_maps(seen, outcome, layouts.test_cutoff)
        if name == "btyd":
            model = BtydChurnModel(horizon=data.horizon).fit(
                layouts.test, btyd=data.btyd(layouts.test_cutoff))
        probability = _churn_probability(model, layouts.test)
        rates = {level: level_rate(level, probability, layouts.test) for level in LEVELS}
        run = _Run(probability, np.asarray(layouts.y_test), float(threshold), rates, maps,
                   refused)
        self.runs_.setdefault(name, {})[layouts.test_cutoff] = run
        return classification_metrics(layouts.y_test, probability, threshold)

    def settle(self, per_origin: dict, notes: list[str]) -> dict:
        """Calibrate every candidate at every origin (module docstring); the rows then
        describe the probabilities as served, with the raw model's beside them."""
        refused = []
        for name, runs in self.runs_.items():
            cutoffs = [c for c in per_origin if name in per_origin[c] and c in runs]
            level = choose_level([runs[c] for c in cutoffs])
            method = choose_method([runs[c] for c in cutoffs], level)
            self.choices_[name] = {"method": method, "level": level}
            for cutoff in cutoffs:
                per_origin[cutoff][name] = calibrated_metrics(runs[cutoff], method, level,
                                                              per_origin[cutoff][name])
                if method not in runs[cutoff].maps:
                    refused.append(f"{name} at {cutoff.date()} ({runs[cutoff].refused})")
        if refused:
            notes.append("Churn probabilities not calibrated in the backtest for "
                         + "; ".join(refused) + ".")
        return per_origin

    def details(self) -> dict:
        return {"calibration": dict(self.choices_)}

    def choose(self, backtest: dict[str, dict], notes: list[str]) -> str:
        beaten = dominated(backtest)
        kept = {name: metrics for name, metrics in backtest.items() if name not in beaten}
        reliable = {name for name, metrics in kept.items()
                    if metrics.get("within_tolerance") == 1.0}
        if not reliable:
            notes.append(f"No candidate's calibrated churn probabilities were within "
                         f"±{RELIABILITY_TOLERANCE} on every judged decile at every origin; "
                         "the champion is chosen on ROC AUC alone.")
        pool = {name: kept[name] for name in reliable} if reliable else kept
        champion = choose_champion(pool, CANDIDATES, "roc_auc", lambda m: True, AUC_MARGIN)
        return champion or "recency"

    def refit(self, champion: str, layouts, notes: list[str]):
        data, windows = layouts.data, layouts.data.windows
        model, seen, outcome = self._fit(champion, layouts.test, layouts.y_test,
                                         data.btyd(layouts.test_cutoff), layouts)
        threshold = best_f1_threshold(outcome, seen)
        if champion == "btyd":
            # Threshold and map from the test layout; the scores come from BTYD refit before L.
            model = BtydChurnModel(horizon=data.horizon).fit(
                layouts.final, btyd=data.btyd(windows.end))
        maps, refused = fit_maps(seen, outcome, windows.end)
        choice = self.choices_.get(champion, {})
        method = choice.get("method") if choice.get("method") in maps else next(iter(maps), None)
        self.calibration_ = None
        if method is None:
            notes.append(f"Churn probabilities are not calibrated: {refused}.")
            return champion, model, threshold
        raw = _churn_probability(model, layouts.final)
        level = choice.get("level", "trained")
        mapping = maps[method].with_level(raw, level_rate(level, raw, layouts.final), level)
        self.calibration_ = mapping.to_dict()
        return champion, model, float(mapping.apply([threshold])[0])

    def calibration(self) -> dict | None:
        return self.calibration_

    def unvalidated(self, data: BacktestData) -> BacktestResult:
        btyd = data.btyd(data.end)
        if btyd is None:
            raise ValueError("too little history to estimate churn: no backtest and no BTYD fit")
        model = BtydChurnModel(horizon=data.horizon).fit(data.features(data.end), btyd=btyd)
        rule = "No backtest was possible; the unsupervised BG/NBD model is used with a 0.5 threshold."
        return champion_result(data, self.output, {}, "btyd", rule, list(data.notes), model, 0.5)


def run_churn(
    transactions: pd.DataFrame,
    horizon: int = 180,
    attributes: pd.DataFrame | None = None,
    random_state: int = 0,
    progress=None,
    data: BacktestData | None = None,
    boosting: dict | None = None,
) -> BacktestResult:
    """Backtest the churn candidates, pick the champion and refit it for final scoring;
    the result's ``threshold`` is the cut that maximised F1 where the champion was fitted."""
    data = data or BacktestData(transactions, horizon, attributes)
    return run_backtest(ChurnBacktest(random_state, boosting), data, progress)

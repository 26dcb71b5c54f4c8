"""Saving and loading a trained pipeline: JSON and XGBoost's own format, never pickle.

A directory written by :func:`save_trained` holds ``trained.json`` and one
``models.artifacts.save_model`` directory per model:

* transactions — ``trained.json``: ``format_version``, ``kind`` ("transactions"),
  ``horizon`` (days, after any shortening), ``report`` (``Trained.report``),
  ``rfm_thresholds``, ``segmenter`` (``CustomerSegmenter.to_dict()``: columns, fill
  values, scaler, centres, personas, profiles, curves), ``clv`` and ``churn`` (the
  backtest result without its model: champion, rule, notes, windows, feature names,
  ``output``, churn ``threshold``), ``btyd`` (whether ``btyd/`` exists). Model
  directories ``clv/`` and ``churn/`` (the champions) and ``btyd/`` (BG/NBD +
  Gamma-Gamma fitted before L, whose outputs are features of the final table).
* customers — ``trained.json``: ``format_version``, ``kind`` ("customers"), ``target``,
  ``features``, ``report``, ``segmenter``, ``cv_predictions`` ({``customer_id``: [...],
  ``value``: [...]}, the out-of-fold predictions); model directory ``regression/``.

``trained.json`` is written last, so a directory without it is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models.artifacts import load_model, read_json, save_model, write_json
from models.estimators.clv import BtydModel
from models.estimators.table import TableRegressor
from models.evaluation.backtest import BacktestResult
from models.segmentation import CustomerSegmenter

FORMAT_VERSION = 1
TRAINED_FILE = "trained.json"


@dataclass
class Trained:
    """Everything scoring and explaining need, and the training report."""

    horizon: int
    report: dict
    rfm_thresholds: dict
    segmenter: CustomerSegmenter
    clv: BacktestResult
    churn: BacktestResult
    btyd: BtydModel | None
    kind: str = "transactions"

    def save(self, directory):
        """Write to ``directory`` (layout in the module docstring); JSON and
        XGBoost's own format only."""
        return save_trained(self, directory)


@dataclass
class TrainedTable:
    target: str
    features: list[str]
    report: dict
    segmenter: CustomerSegmenter
    model: TableRegressor
    cv_predictions: pd.Series
    kind: str = "customers"

    def save(self, directory):
        """Write to ``directory`` (layout in the module docstring)."""
        return save_trained(self, directory)


def _result_payload(result: BacktestResult) -> dict:
    return {**result.to_dict(), "output": result.output}


def _save(directory: Path, name: str, model, metadata: dict) -> None:
    save_model(directory / name, model, {"role": name, **metadata})


def save_trained(trained: Trained | TrainedTable, directory) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, "kind": trained.kind,
               "report": trained.report, "segmenter": trained.segmenter.to_dict()}
    if isinstance(trained, TrainedTable):
        _save(directory, "regression", trained.model, {"target": trained.target})
        cv = trained.cv_predictions
        payload.update(target=trained.target, features=list(trained.features),
                       cv_predictions={"customer_id": cv.index.tolist(),
                                       "value": cv.to_numpy(dtype=float).tolist()})
    else:
        for name, result in (("clv", trained.clv), ("churn", trained.churn)):
            _save(directory, name, result.model,
                  {"champion": result.champion, "horizon": trained.horizon})
        if trained.btyd is not None:
            _save(directory, "btyd", trained.btyd, {"horizon": trained.horizon})
        payload.update(horizon=trained.horizon, rfm_thresholds=trained.rfm_thresholds,
                       clv=_result_payload(trained.clv), churn=_result_payload(trained.churn),
                       btyd=trained.btyd is not None)
    write_json(directory / TRAINED_FILE, payload)
    return directory


def load_trained(directory) -> Trained | TrainedTable:
    """The pipeline saved in ``directory``; it scores and explains as the saved one did."""
    directory = Path(directory)
    payload = read_json(directory / TRAINED_FILE)
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported trained format {payload.get('format_version')!r}")
    segmenter = CustomerSegmenter.from_dict(payload["segmenter"])
    if payload["kind"] == "customers":
        cv = payload["cv_predictions"]
        return TrainedTable(
            target=payload["target"], features=list(payload["features"]),
            report=payload["report"], segmenter=segmenter,
            model=load_model(directory / "regression"),
            cv_predictions=pd.Series(cv["value"], index=pd.Index(cv["customer_id"]),
                                     dtype=float),
        )
    return Trained(
        horizon=int(payload["horizon"]),
        report=payload["report"],
        rfm_thresholds=payload["rfm_thresholds"],
        segmenter=segmenter,
        clv=BacktestResult(**payload["clv"], model=load_model(directory / "clv")),
        churn=BacktestResult(**payload["churn"], model=load_model(directory / "churn")),
        btyd=load_model(directory / "btyd") if payload["btyd"] else None,
    )

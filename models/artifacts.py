"""Portable model artifacts: JSON parameters, XGBoost's own format, never pickle.

A directory written by :func:`save_model` holds

* ``model.json`` — ``{"kind": ..., "params": model.to_dict()}`` (BTYD parameters,
  baseline factors, calibration maps, feature names and categories);
* ``booster.ubj`` — the XGBoost booster (UBJSON), for tree models only;
* ``metadata.json`` — the caller's metadata (metrics, features, parameters, data
  fingerprint, horizon, ...) plus ``kind``, ``created_at`` (UTC) and library versions.

:func:`write_json` writes any other JSON document the same way (the trained pipeline in
``models.pipeline.trained`` is such documents plus one model directory per model).

Files are written to temporary names and renamed, so a crash never leaves a half-written
artifact behind a valid name. Loading needs only JSON and XGBoost: an artifact cannot
execute code.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from models.estimators.boosting import BoostedModel
from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.estimators.clv import BtydModel, PastSpendModel
from models.estimators.clv_boosting import BoostedSpendModel
from models.estimators.clv_hurdle import HurdleSpendModel
from models.estimators.table import TableRegressor

FORMAT_VERSION = 1
MODEL_FILE, BOOSTER_FILE, METADATA_FILE = "model.json", "booster.ubj", "metadata.json"
KINDS = {
    cls.kind: cls
    for cls in (
        PastSpendModel,
        BtydModel,
        BoostedSpendModel,
        HurdleSpendModel,
        RecencyModel,
        BtydChurnModel,
        BoostedChurnModel,
        TableRegressor,
    )
}
# Library -> distribution name(s), read from package metadata so nothing is imported.
_LIBRARIES = {
    "numpy": "numpy",
    "pandas": "pandas",
    "scipy": "scipy",
    "scikit-learn": "scikit-learn",
    "xgboost": ("xgboost", "xgboost-cpu"),
    "shap": "shap",
}


def _json_default(value):
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.floating):
        return _finite(float(value))
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return value.tolist()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _finite(value: float):
    return value if np.isfinite(value) else None


def _clean(value):
    """Replace NaN and infinities (also nested) by None; JSON has no such numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float | np.floating):
        return _finite(float(value))
    return value


def _write_atomic(path: Path, data: bytes):
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _dumps(payload) -> bytes:
    return json.dumps(_clean(payload), default=_json_default, allow_nan=False, indent=2).encode()


def write_json(path, payload) -> Path:
    """Write ``payload`` as JSON (NaN and infinities as null) through a temporary name."""
    path = Path(path)
    _write_atomic(path, _dumps(payload))
    return path


def read_json(path):
    return json.loads(Path(path).read_text())


def library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name, distributions in _LIBRARIES.items():
        for distribution in (distributions,) if isinstance(distributions, str) else distributions:
            try:
                versions[name] = package_metadata.version(distribution)
                break
            except package_metadata.PackageNotFoundError:
                continue
    return versions


def data_fingerprint(transactions: pd.DataFrame) -> str:
    """sha256 of the frame's rows in a canonical order (independent of row order)."""
    columns = sorted(transactions.columns)
    ordered = transactions[columns].sort_values(columns, kind="stable").reset_index(drop=True)
    digest = hashlib.sha256(",".join(map(str, columns)).encode())
    digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def save_model(directory, model, metadata: dict | None = None) -> Path:
    """Write ``model`` and its metadata to ``directory`` (created if needed)."""
    kind = getattr(model, "kind", None)
    if kind not in KINDS:
        raise TypeError(f"cannot save a {type(model).__name__}: unknown model kind {kind!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    booster = getattr(model, "booster_", None)
    if booster is not None:
        temporary = directory / f".{BOOSTER_FILE}.tmp.ubj"
        booster.save_model(temporary)
        os.replace(temporary, directory / BOOSTER_FILE)
    _write_atomic(directory / MODEL_FILE, _dumps({"kind": kind, "params": model.to_dict()}))
    meta = {
        **(metadata or {}),
        "kind": kind,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "files": [MODEL_FILE, METADATA_FILE] + ([BOOSTER_FILE] if booster is not None else []),
    }
    _write_atomic(directory / METADATA_FILE, _dumps(meta))
    return directory


def read_metadata(directory) -> dict:
    return json.loads((Path(directory) / METADATA_FILE).read_text())


def load_model(directory):
    """The model saved in ``directory``; predictions equal those of the saved model."""
    directory = Path(directory)
    payload = json.loads((directory / MODEL_FILE).read_text())
    cls = KINDS.get(payload.get("kind"))
    if cls is None:
        raise ValueError(f"unknown model kind {payload.get('kind')!r} in {directory}")
    if issubclass(cls, BoostedModel):
        booster = xgb.Booster()
        booster.load_model(directory / BOOSTER_FILE)
        return cls.from_dict(payload["params"], booster)
    return cls.from_dict(payload["params"])

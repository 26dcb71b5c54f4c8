import json

import numpy as np
import pandas as pd
import pytest

from models.artifacts import data_fingerprint, load_model, read_metadata, save_model
from models.estimators.churn import BoostedChurnModel, BtydChurnModel, RecencyModel
from models.estimators.clv import PastSpendModel
from models.estimators.clv_boosting import BoostedSpendModel
from models.estimators.table import TableRegressor
from tests.unit.backtest_window import cutoff_window

SMALL_TREES = {"n_estimators": 30, "max_depth": 3, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def window():
    built = cutoff_window(1200, seed=5)
    return {**built, "X": built["frame"]}


def _fitted(name, w):
    if name == "past_spend":
        return PastSpendModel().fit(w["X"], w["spend"]), w["X"]
    if name == "btyd":
        return w["btyd"], w["X"]
    if name == "xgboost_spend":
        return BoostedSpendModel(**SMALL_TREES).fit(w["trees"], w["spend"]), w["trees"]
    if name == "recency":
        return RecencyModel().fit(w["X"], w["churn"]), w["X"]
    if name == "btyd_churn":
        return BtydChurnModel(120).fit(w["X"], btyd=w["btyd"]), w["X"]
    if name == "xgboost_churn":
        return BoostedChurnModel(**SMALL_TREES).fit(w["trees"], w["churn"]), w["trees"]
    table = w["trees"].drop(columns=["total_spend"])
    return TableRegressor(**SMALL_TREES).fit(table, w["X"]["total_spend"]), table


def _outputs(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)
    return model.predict(X)


KINDS = [
    "past_spend",
    "btyd",
    "xgboost_spend",
    "recency",
    "btyd_churn",
    "xgboost_churn",
    "xgboost_table",
]


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_gives_identical_predictions_and_explanations(kind, window, tmp_path):
    model, X = _fitted(kind, window)
    metadata = {
        "metrics": {"normalized_gini": 0.61},
        "horizon": 120,
        "features": model.feature_names_,
    }
    save_model(tmp_path / "artifact", model, metadata)
    loaded = load_model(tmp_path / "artifact")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(model, X))
    original, restored = model.explain(X), loaded.explain(X)
    assert restored.base_value == original.base_value
    pd.testing.assert_frame_equal(restored.contributions, original.contributions)


def test_artifact_is_json_and_xgboost_only_with_complete_metadata(window, tmp_path):
    model, _ = _fitted("xgboost_churn", window)
    save_model(
        tmp_path,
        model,
        {"metrics": {"roc_auc": np.float64(0.8), "r2": float("nan")}, "horizon": 120},
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["booster.ubj", "metadata.json", "model.json"]
    for path in tmp_path.iterdir():
        assert not path.read_bytes().startswith(b"\x80"), "pickle protocol header"
    metadata = read_metadata(tmp_path)
    assert metadata["kind"] == "xgboost_churn"
    assert metadata["metrics"] == {"roc_auc": 0.8, "r2": None}
    assert metadata["libraries"]["xgboost"] and metadata["created_at"].endswith("+00:00")
    json.loads((tmp_path / "model.json").read_text())


def test_unknown_kinds_are_refused(tmp_path):
    with pytest.raises(TypeError):
        save_model(tmp_path, object(), {})
    (tmp_path / "model.json").write_text(json.dumps({"kind": "pickle", "params": {}}))
    with pytest.raises(ValueError):
        load_model(tmp_path)


def test_data_fingerprint_ignores_row_order_but_not_values(window):
    transactions = window["transactions"].head(500)
    shuffled = transactions.sample(frac=1.0, random_state=0)
    assert data_fingerprint(shuffled) == data_fingerprint(transactions)
    changed = transactions.copy()
    changed.loc[changed.index[3], "amount"] += 0.01
    assert data_fingerprint(changed) != data_fingerprint(transactions)

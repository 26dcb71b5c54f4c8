"""The offline pipeline on the real CDNOW sample and on a generated customer table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from models.ingest import IngestError, read_transactions
from models.pipeline import (
    analyze,
    explain_table,
    explain_transactions,
    load_trained,
    score_table,
    score_transactions,
    train_table,
    train_transactions,
)
from tests.reference import CDNOW_SAMPLE as CDNOW
from tests.reference import load_cdnow

CLV_METRICS = {"spearman", "normalized_gini", "top_decile_capture", "total_ratio", "rmse", "mae",
               "r2", "deciles"}
CHURN_METRICS = {"roc_auc", "pr_auc", "brier", "precision", "recall", "f1", "threshold",
                 "lift_at_10", "reliability"}


@pytest.fixture(scope="module")
def cdnow():
    updates = []
    report, customers = analyze(CDNOW, horizon=180, progress=lambda p, m: updates.append((p, m)))
    return report, customers, updates


def test_cdnow_report_lists_every_candidate_with_every_metric(cdnow):
    report, _, _ = cdnow
    clv, churn = report["models"]["clv"], report["models"]["churn"]
    assert {"past_spend", "btyd", "xgboost"} <= set(clv["backtest"])
    assert {"recency", "xgboost"} <= set(churn["backtest"])
    for metrics in clv["backtest"].values():
        assert CLV_METRICS <= set(metrics)
    for metrics in churn["backtest"].values():
        assert CHURN_METRICS <= set(metrics)
    assert clv["champion"] in clv["backtest"] and churn["champion"] in churn["backtest"]
    json.dumps(report)  # the report is served as JSON later: it must serialise as it is


def test_cdnow_clv_champion_is_honest_and_calibrated(cdnow):
    report, _, _ = cdnow
    clv = report["models"]["clv"]
    summary = clv["summary"]
    champion = summary[clv["champion"]]
    assert champion["normalized_gini"]["mean"] >= summary["btyd"]["normalized_gini"]["mean"]
    assert 0.95 <= champion["total_ratio"]["mean"] <= 1.05
    assert clv["windows"]["test_features_before"] < clv["windows"]["final_features_before"]


def test_cdnow_forecast_has_an_interval_checked_over_the_origins(cdnow):
    report, customers, _ = cdnow
    forecast = report["forecast"]
    assert forecast["level"] == 0.8 and forecast["horizon"] == 180
    assert forecast["low"] < forecast["total"] < forecast["high"]
    assert forecast["total"] == pytest.approx(customers["clv"].sum(), rel=1e-6)
    origins = report["models"]["clv"]["windows"]["origins"]
    assert [check["cutoff"] for check in forecast["checks"]] == origins
    assert len(origins) >= 2
    assert customers["p_no_purchase"].between(0, 1).all()


def test_cdnow_customers_have_a_chance_of_no_purchase_consistent_with_bg_nbd(cdnow):
    _, customers, _ = cdnow
    quiet = customers["p_no_purchase"]
    assert quiet.notna().all() and quiet.between(0, 1).all()
    assert (quiet >= 1 - customers["p_alive"] - 1e-9).all()  # one who left buys nothing
    assert (1 - quiet <= customers["expected_purchases"] + 1e-9).all()  # P(N >= 1) <= E[N]
    assert quiet.corr(customers["expected_purchases"], method="spearman") < -0.8


def test_cdnow_customer_table_has_scores_segments_and_explanations(cdnow):
    report, customers, _ = cdnow
    assert customers["customer_id"].is_unique
    assert len(customers) == report["data"]["customers"]
    for column in ("rfm_segment", "cluster", "persona", "clv", "churn_probability"):
        assert customers[column].notna().all(), column
    assert customers["churn_probability"].between(0, 1).all()
    assert (customers["clv"] >= 0).all()
    assert any(c.startswith("shap_clv__") for c in customers.columns)
    assert any(c.startswith("shap_churn__") for c in customers.columns)
    assert report["segmentation"]["k"] == customers["cluster"].nunique()
    assert sum(report["rfm"]["segments"].values()) == len(customers)


def test_cdnow_timings_and_progress_cover_every_stage(cdnow):
    report, _, updates = cdnow
    assert set(report["timings"]) == {"read", "features", "rfm", "segmentation", "clv", "churn",
                                      "assemble"}
    percents = [p for p, _ in updates]
    assert percents == sorted(percents) and percents[-1] == 100


def _customer_table(n=600, seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.8, 0.4, n)
    loyalty = rng.uniform(0, 10, n)
    amount = 0.01 * income + 40 * loyalty + rng.normal(0, 50, n)
    return pd.DataFrame({
        "user_id": [f"U{i:04d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "annual_income": income.round(2),
        "purchase_amount": amount.round(2),
        "loyalty_score": loyalty.round(2),
        "region": rng.choice(["North", "South", "East", "West"], n),
        "purchase_frequency": rng.integers(1, 30, n),
        "amount_copy": (amount * 1.0001).round(2),
    })


def test_customer_table_mode_regresses_target_and_excludes_leaky_features():
    csv = _customer_table().to_csv(index=False).encode()
    updates = []
    report, customers = analyze(csv, kind="customers", target="purchase_amount",
                                progress=lambda p, m: updates.append(p))
    assert updates == sorted(updates) and updates[-1] == 100 and len(updates) > 5
    assert set(report["timings"]) == {"read", "regression", "segmentation", "assemble"}
    assert report["kind"] == "customers"
    assert [item["feature"] for item in report["leakage"]] == ["amount_copy"]
    assert "amount_copy" not in report["regression"]["features"]
    assert report["regression"]["cross_validation"]
    assert "predicted_purchase_amount" in customers.columns
    assert customers["cluster"].notna().all()


def test_rejected_file_raises_with_the_reason():
    with pytest.raises(IngestError, match="required"):
        analyze(b"name,colour\nA,red\nB,blue\n")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "orders"}, "kind must be one of"),
    ({"horizon": 0}, "horizon"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        analyze(b"customer_id,date,amount\nA,2020-01-01,1\n", **kwargs)


def test_analyze_command_writes_report_and_customers(tmp_path):
    from dashboard.cli import main

    source = tmp_path / "table.csv"
    _customer_table(n=300).to_csv(source, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(source), "--kind", "customers",
                                       "--target", "purchase_amount", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["regression"]["target"] == "purchase_amount"
    assert len(pd.read_parquet(out / "customers.parquet")) == 300


def test_analyze_command_explains_a_rejected_file(tmp_path):
    from dashboard.cli import main

    source = tmp_path / "bad.csv"
    source.write_text("name,colour\nA,red\n")
    result = CliRunner().invoke(main, ["analyze", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "required" in result.output
    assert not (tmp_path / "out").exists()


def _short_history(days: int) -> bytes:
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, 80, n).astype(str),
        "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, days, n), unit="D"),
        "amount": rng.gamma(2, 20, n).round(2),
    })
    return frame.to_csv(index=False).encode()


def test_short_history_shortens_the_horizon_and_says_so():
    report, customers = analyze(_short_history(200), horizon=180)
    clv = report["models"]["clv"]
    assert clv["horizon"] < 180
    assert any("200 days" in note for note in clv["notes"])
    assert customers["clv"].notna().all()


def test_a_single_day_of_data_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="too little history"):
        analyze(_short_history(1))


def test_customer_attributes_join_the_features_the_models_learn_from(tmp_path):
    from dashboard.cli import main

    transactions, attributes = tmp_path / "tx.csv", tmp_path / "customers.csv"
    generated = CliRunner().invoke(main, ["generate-data", "--customers", "400", "--seed", "5",
                                          "--out", str(transactions),
                                          "--attributes-out", str(attributes)])
    assert generated.exit_code == 0, generated.output
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(transactions), "--attributes",
                                       str(attributes), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["validation"]["attributes"]["rows_accepted"] == 400
    customers = pd.read_parquet(out / "customers.parquet")
    assert {"age", "annual_income", "signup_channel"} <= set(customers.columns)


def test_cdnow_customers_without_a_purchase_are_counted_and_named(cdnow):
    report, customers, _ = cdnow
    transactions = load_cdnow()
    buyers = set(transactions.loc[transactions["amount"] > 0, "customer_id"])
    expected = sorted(set(transactions["customer_id"]) - buyers)
    assert len(expected) == 8
    assert report["data"]["customers_without_purchase"] == {"count": 8,
                                                            "examples": expected[:5]}
    problem = next(p for p in report["validation"]["problems"]
                   if p["kind"] == "customer_without_purchase")
    assert problem["count"] == 8 and expected[0] in problem["message"]
    assert not set(expected) & set(customers["customer_id"])


def test_trained_pipeline_saved_and_loaded_scores_and_explains_like_analyze(cdnow, tmp_path):
    report, customers, _ = cdnow
    transactions = read_transactions(CDNOW).frame
    train_transactions(transactions, horizon=180).save(tmp_path / "trained")
    assert not list((tmp_path / "trained").rglob("*.pkl"))
    trained = load_trained(tmp_path / "trained")
    assert trained.churn.calibration is not None  # the map is stored and applied below
    scored = score_transactions(trained, transactions)
    explanations = explain_transactions(trained, transactions)
    joined = scored.join(explanations.contributions, on="customer_id")
    pd.testing.assert_frame_equal(joined, customers, check_exact=True)
    for name in ("clv", "churn"):
        explained = {**trained.report["models"][name], **explanations.report(name)}
        assert explained == report["models"][name]
        shap = explanations.contributions.filter(like=f"shap_{name}__").sum(axis=1)
        np.testing.assert_allclose(explanations.base_values[name] + shap,
                                   explanations.outputs[name], atol=1e-6)
    assert {"p_alive", "expected_purchases"} <= set(scored.columns)
    assert scored["p_alive"].between(0, 1).all() and (scored["expected_purchases"] >= 0).all()


def test_trained_customer_table_saved_and_loaded_scores_like_the_trained_one(tmp_path):
    frame = _customer_table(n=300).rename(columns={"user_id": "customer_id"})
    frame.loc[:4, "purchase_amount"] = np.nan
    trained = train_table(frame, target="purchase_amount")
    trained.save(tmp_path / "table")
    loaded = load_trained(tmp_path / "table")
    scored = score_table(loaded, frame)
    pd.testing.assert_frame_equal(scored, score_table(trained, frame), check_exact=True)
    predicted = scored.set_index("customer_id")["predicted_purchase_amount"]
    assert predicted.notna().all()
    assert predicted.iloc[5:].equals(trained.cv_predictions.rename(predicted.name))
    explanations = explain_table(loaded, frame)
    total = explanations.base_values["regression"] + explanations.contributions.sum(axis=1)
    np.testing.assert_allclose(total, explanations.outputs["regression"], atol=1e-3)
    assert loaded.report == json.loads(json.dumps(trained.report))

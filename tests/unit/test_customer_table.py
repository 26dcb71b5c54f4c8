import numpy as np
import pandas as pd
import pytest

from models.evaluation.customer_table import model_inputs, run_customer_table
from models.explain import global_importance

FAST = {"n_estimators": 120, "max_depth": 3, "early_stopping_rounds": 15, "learning_rate": 0.1}


@pytest.fixture
def seed_table():
    """A table shaped like the seed data set, with a known signal."""
    rng = np.random.default_rng(21)
    n = 600
    age = rng.integers(18, 70, n)
    income = rng.normal(55_000, 15_000, n).round()
    loyalty = rng.uniform(1, 10, n).round(1)
    region = rng.choice(["North", "South", "East", "West"], n)
    frequency = rng.poisson(12, n)
    amount = 50 + income / 200 + 40 * loyalty + 60 * (region == "North") + rng.normal(0, 40, n)
    return pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1),
            "age": age,
            "annual_income": income,
            "purchase_amount": amount.round(2),
            "loyalty_score": loyalty,
            "region": pd.Series(region, dtype="string"),
            "purchase_frequency": frequency,
        }
    )


def test_cross_validated_model_beats_the_mean_and_explanations_add_up(seed_table):
    steps = []
    result = run_customer_table(seed_table, target="purchase_amount", boosting=FAST,
                                progress=lambda percent, message: steps.append(percent))
    assert len(steps) == 6 and steps == sorted(steps)
    cv = result.cross_validation
    assert len(cv["model"]["folds"]) == 5 and len(cv["baseline"]["folds"]) == 5
    assert cv["model"]["mean"]["r2"] > 0.5
    assert cv["baseline"]["mean"]["r2"] < 0.05
    assert cv["model"]["mean"]["rmse"] < cv["baseline"]["mean"]["rmse"]
    assert "user_id" not in result.features and result.leakage == []
    assert result.predictions.index.name == "user_id" and result.predictions.notna().all()
    explanation = result.model.explain(model_inputs(seed_table, result.target, result.features))
    assert explanation.contributions.index.name == "user_id"
    total = explanation.base_value + explanation.contributions.sum(axis=1)
    np.testing.assert_allclose(total, explanation.output, atol=1e-3)
    importance = global_importance(explanation)
    assert set(importance.index[:2]) == {"loyalty_score", "annual_income"}


def test_leaky_features_are_flagged_and_excluded_by_default(seed_table):
    table = seed_table.assign(
        amount_in_cents=seed_table["purchase_amount"] * 100 + 1,
        rank_of_amount=np.exp(seed_table["purchase_amount"] / 50),
    )
    result = run_customer_table(table, target="purchase_amount", folds=3, boosting=FAST)
    flagged = {item["feature"]: item for item in result.leakage}
    assert set(flagged) == {"amount_in_cents", "rank_of_amount"}
    assert flagged["rank_of_amount"]["spearman"] == pytest.approx(1.0)
    assert flagged["rank_of_amount"]["pearson"] < 0.95
    assert set(result.excluded) == set(flagged)
    assert not set(flagged) & set(result.features)
    kept = run_customer_table(
        table, target="purchase_amount", folds=3, exclude_leaky=False, boosting=FAST
    )
    assert "amount_in_cents" in kept.features
    assert (
        kept.cross_validation["model"]["mean"]["r2"]
        > result.cross_validation["model"]["mean"]["r2"]
    )


def test_default_target_missing_values_and_bad_targets(seed_table):
    table = seed_table.copy()
    table.loc[:9, "purchase_amount"] = np.nan
    result = run_customer_table(table, folds=3, boosting=FAST)
    assert result.target == "purchase_amount"
    assert len(result.predictions) == len(table) - 10
    assert "10 rows" in result.notes[0]
    with pytest.raises(ValueError):
        run_customer_table(seed_table, target="region")
    with pytest.raises(ValueError):
        run_customer_table(seed_table.drop(columns="purchase_amount"))

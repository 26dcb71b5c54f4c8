import numpy as np
import pandas as pd
import pytest

from models.synthetic import (
    CATEGORIES,
    CHANNELS,
    generate_customers,
    generate_transactions,
    write_csv,
)

COLUMNS = ["customer_id", "date", "order_id", "amount", "category", "channel", "region"]


@pytest.fixture(scope="module")
def transactions():
    return generate_transactions(4_000, seed=11)


def test_same_seed_gives_the_same_data_and_another_seed_does_not(transactions):
    pd.testing.assert_frame_equal(generate_transactions(4_000, seed=11), transactions)
    other = generate_transactions(4_000, seed=12)
    assert len(other) != len(transactions) or not other["amount"].equals(transactions["amount"])
    pd.testing.assert_frame_equal(generate_customers(500, seed=3), generate_customers(500, seed=3))


def test_shape_types_and_ranges(transactions):
    assert list(transactions.columns) == COLUMNS
    assert transactions["date"].dtype == "datetime64[ns]"
    assert transactions["amount"].dtype == np.float64
    assert pd.api.types.is_string_dtype(transactions["customer_id"])
    assert transactions["date"].min() >= pd.Timestamp("2022-01-01")
    assert transactions["date"].max() < pd.Timestamp("2025-01-01")
    assert transactions["date"].is_monotonic_increasing
    assert set(transactions["category"]) <= set(CATEGORIES)
    assert set(transactions["channel"]) <= set(CHANNELS)
    rows_per_customer = len(transactions) / 4_000
    assert 6.5 < rows_per_customer < 9.5


def test_returns_are_a_few_percent_and_reference_earlier_purchases(transactions):
    returns = transactions[transactions["amount"] < 0]
    assert 0.03 <= len(returns) / len(transactions) <= 0.05
    purchases = transactions[transactions["amount"] > 0]
    first_purchase = purchases.groupby(["customer_id", "order_id"])["date"].min()
    original = first_purchase.reindex(pd.MultiIndex.from_frame(returns[["customer_id", "order_id"]]))
    assert original.notna().all()
    assert (returns["date"].to_numpy() > original.to_numpy()).all()


def test_customer_table_matches_the_transactions(transactions):
    table = generate_customers(4_000, seed=11)
    assert table["customer_id"].is_unique
    assert set(transactions["customer_id"]) <= set(table["customer_id"])
    regions = transactions.drop_duplicates("customer_id").set_index("customer_id")["region"]
    assert (table.set_index("customer_id")["region"].reindex(regions.index) == regions).all()


def test_attributes_drive_purchasing(transactions):
    table = generate_customers(4_000, seed=11).set_index("customer_id")
    orders = transactions[transactions["amount"] > 0].groupby("customer_id")["order_id"].nunique()
    orders = orders.reindex(table.index, fill_value=0)
    members = table["loyalty_member"]
    assert orders[members].mean() > 1.3 * orders[~members].mean()
    spend = transactions[transactions["amount"] > 0].groupby("customer_id")["amount"].sum() / orders
    rich = table["annual_income"] > table["annual_income"].quantile(0.75)
    poor = table["annual_income"] < table["annual_income"].quantile(0.25)
    assert spend.reindex(table.index[rich]).mean() > 1.3 * spend.reindex(table.index[poor]).mean()


def test_csv_round_trip(tmp_path, transactions):
    path = write_csv(transactions.head(200), tmp_path / "tx.csv")
    loaded = pd.read_csv(path, parse_dates=["date"])
    assert list(loaded.columns) == COLUMNS
    assert (loaded["date"].to_numpy() == transactions["date"].head(200).to_numpy()).all()
    np.testing.assert_allclose(loaded["amount"], transactions["amount"].head(200))


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="at least 1"):
        generate_transactions(0)
    with pytest.raises(ValueError, match="end"):
        generate_transactions(10, start="2024-01-01", end="2023-01-01")

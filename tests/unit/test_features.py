import numpy as np
import pandas as pd
import pytest

from models.features import btyd_summary, customer_features, future_spend, purchased_between

CUTOFF = pd.Timestamp("2024-02-01")


def days(later: str, earlier: str) -> float:
    return float((pd.Timestamp(later) - pd.Timestamp(earlier)).days)


@pytest.fixture
def transactions():
    rows = [
        # a: three purchase days, two orders on the first, a partial return of o3
        ("a", "2024-01-01 10:00", 10.0, "o1", "x", "web"),
        ("a", "2024-01-01 12:00", 5.0, "o2", "y", "app"),
        ("a", "2024-01-11 00:00", 20.0, "o3", "x", "web"),
        ("a", "2024-01-31 23:00", 30.0, "o4", "x", "web"),
        ("a", "2024-01-31 23:30", -6.0, "o3", "x", "web"),
        # b: an older purchase returned in full, then a purchase without an order id
        ("b", "2023-10-01 00:00", 40.0, "o5", "y", "store"),
        ("b", "2023-10-05 00:00", -40.0, "o5", "y", "store"),
        ("b", "2024-01-20 00:00", 8.0, None, "y", "store"),
        # c: one old purchase; the order on the cut-off day must not count
        ("c", "2023-06-01 00:00", 50.0, "o7", "z", "web"),
        ("c", "2024-02-01 09:00", 100.0, "o8", "z", "web"),
        # d: only a return, so not a customer at the cut-off
        ("d", "2024-01-10 00:00", -3.0, "o9", "z", "web"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "order_id", "category", "channel"])
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d %H:%M")
    return frame


def test_features_match_hand_computed_values(transactions):
    features = customer_features(transactions, CUTOFF)
    assert list(features.index) == ["a", "b", "c"]
    a, b, c = (features.loc[name] for name in "abc")

    assert a["frequency"] == 2 and a["recency"] == 30 and a["T"] == 31
    assert a["monetary_value"] == (20 + 30) / 2
    assert a["days_since_last"] == 1 and a["tenure"] == 31
    assert a["n_orders"] == 4
    assert a["total_spend"] == pytest.approx(10 + 5 + 20 + 30 - 6)
    assert a["avg_order_value"] == pytest.approx(65 / 4)
    assert a["spend_90"] == pytest.approx(59) and a["spend_180"] == pytest.approx(59)
    assert a["trend"] == 1.0
    assert a["ipt_mean"] == 15 and a["ipt_std"] == pytest.approx(np.std([10, 20]))
    assert a["return_share"] == pytest.approx(6 / 65)
    assert a["n_categories"] == 2 and a["n_channels"] == 2

    assert b["frequency"] == 1
    assert b["recency"] == days("2024-01-20", "2023-10-01")
    assert b["T"] == days("2024-02-01", "2023-10-01")
    assert b["monetary_value"] == 8
    assert b["days_since_last"] == 12
    assert b["n_orders"] == 2
    assert b["total_spend"] == pytest.approx(8)
    assert b["avg_order_value"] == pytest.approx(48 / 2)
    assert b["spend_90"] == pytest.approx(8) and b["spend_180"] == pytest.approx(8)
    assert b["trend"] == pytest.approx((8 - 40) / (8 + 40))
    assert b["ipt_mean"] == b["recency"] and b["ipt_std"] == 0
    assert b["return_share"] == pytest.approx(40 / 48)
    assert b["n_categories"] == 1 and b["n_channels"] == 1

    assert c["frequency"] == 0 and c["recency"] == 0 and c["monetary_value"] == 0
    assert c["T"] == days("2024-02-01", "2023-06-01") == c["days_since_last"]
    assert c["total_spend"] == 50 and c["n_orders"] == 1
    assert c["spend_180"] == 0 and c["trend"] == 0
    assert c["ipt_mean"] == c["T"] and c["ipt_std"] == 0


def test_btyd_summary_is_the_btyd_part_of_the_features(transactions):
    summary = btyd_summary(transactions, CUTOFF)
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]
    pd.testing.assert_frame_equal(summary, customer_features(transactions, CUTOFF)[summary.columns])


def test_cutoff_with_time_of_day_gives_fractional_durations(transactions):
    features = customer_features(transactions, "2024-02-01 12:00")
    c = features.loc["c"]
    assert c["frequency"] == 1
    assert c["T"] == days("2024-02-01", "2023-06-01") + 0.5
    assert c["days_since_last"] == 0.5


def test_without_optional_columns_orders_are_purchase_days(transactions):
    features = customer_features(transactions[["customer_id", "date", "amount"]], CUTOFF)
    assert features.loc["a", "n_orders"] == 3
    assert "n_categories" not in features.columns and "n_channels" not in features.columns


@pytest.mark.parametrize("dtype", ["object", "string[pyarrow]", "str"])
def test_customer_id_string_dtypes_give_identical_features(transactions, dtype):
    converted = transactions.assign(customer_id=transactions["customer_id"].astype(dtype))
    pd.testing.assert_frame_equal(
        customer_features(converted, CUTOFF), customer_features(transactions, CUTOFF), check_index_type=False
    )


def test_attributes_are_joined_with_stable_types(transactions):
    attributes = pd.DataFrame(
        {
            "age": [30, 41, 55],
            "tier": ["gold", "silver", "bronze"],
            "tenure": [1.0, 2.0, 3.0],
            "signed_up": pd.to_datetime(["2024-01-01", "2023-01-01", "2022-01-01"]),
        },
        index=pd.Index(["a", "b", "zz"], name="customer_id"),
    )
    features = customer_features(transactions, CUTOFF, attributes=attributes)
    assert features["age"].dtype == np.float64
    assert features.loc["b", "age"] == 41 and np.isnan(features.loc["c", "age"])
    assert isinstance(features["tier"].dtype, pd.CategoricalDtype)
    assert list(features["tier"].cat.categories) == ["bronze", "gold", "silver"]
    assert features.loc["a", "tier"] == "gold" and pd.isna(features.loc["c", "tier"])
    assert features.loc["a", "attr_tenure"] == 1.0 and features.loc["a", "tenure"] == 31
    assert features.loc["a", "signed_up"] == 31


def test_future_spend_and_purchases_cover_every_customer(transactions):
    spend = future_spend(transactions, "2024-01-15", "2024-02-02")
    assert spend.to_dict() == pytest.approx({"a": 24.0, "b": 8.0, "c": 100.0, "d": 0.0})
    refunds_only = future_spend(transactions, "2023-10-03", "2023-10-10")
    assert refunds_only["b"] == 0.0
    bought = purchased_between(transactions, "2023-10-01", "2023-10-10")
    assert bought.to_dict() == {"a": False, "b": True, "c": False, "d": False}
    assert not purchased_between(transactions, "2023-10-02", "2023-10-10")["b"]


def test_cutoff_before_all_data_gives_an_empty_frame(transactions):
    features = customer_features(transactions, "2020-01-01")
    assert features.empty and "total_spend" in features.columns


def test_missing_required_columns_are_reported(transactions):
    with pytest.raises(ValueError, match="amount"):
        customer_features(transactions.drop(columns="amount"), CUTOFF)
    with pytest.raises(ValueError, match="datetime64"):
        btyd_summary(transactions.assign(date=transactions["date"].astype(str)), CUTOFF)

"""The readers on real and on larger generated data."""


import numpy as np
import pandas as pd
import pytest

from models.ingest import read_transactions
from tests.reference import CDNOW_SAMPLE as CDNOW


def test_real_cdnow_sample_headerless_and_whitespace_separated():
    result = read_transactions(CDNOW)
    report, frame = result.report, result.frame
    assert (report.delimiter, report.header) == ("whitespace", False)
    assert report.mapping == {"customer_id": "0", "date": "2", "amount": "4"}
    assert report.rows_total == report.rows_accepted == 6_919
    assert frame["customer_id"].nunique() == 2_357
    # Same-day repeat purchases: reported, and kept because there is no order id.
    assert report.count("duplicate_row") == 21
    fields = [line.split() for line in CDNOW.read_text().splitlines()]
    assert frame["amount"].sum() == pytest.approx(sum(float(f[4]) for f in fields))
    assert frame["date"].min() == pd.Timestamp(min(f[2] for f in fields))
    assert frame["date"].max() == pd.Timestamp(max(f[2] for f in fields))
    assert frame["customer_id"].iloc[0] == fields[0][0]


def test_generated_200k_rows_are_read_exactly():
    rng = np.random.default_rng(11)
    n = 200_000
    customers = np.char.add("cust-", rng.integers(0, 20_000, n).astype(str))
    seconds = rng.integers(0, 3 * 365 * 86_400, n)
    dates = np.datetime64("2019-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    cents = rng.integers(-5_000, 500_000, n)
    amounts = cents / 100
    expected = pd.DataFrame({
        "order_id": np.char.add("ord", np.arange(n).astype(str)),
        "customer_id": customers,
        "order_date": np.datetime_as_string(dates).astype(object),
        "revenue": np.char.mod("%.2f", amounts),
        "channel": rng.choice(["web", "store", "app"], n),
    })
    expected["order_date"] = expected["order_date"].str.replace("T", " ")
    data = expected.to_csv(index=False).encode()

    result = read_transactions(data, now="2024-01-01")
    frame = result.frame
    assert result.report.rows_accepted == n and result.report.problems == [
        p for p in result.report.problems if p.kind == "return"]
    assert result.report.count("return") == int((cents < 0).sum())
    assert frame["customer_id"].tolist() == customers.tolist()
    np.testing.assert_array_equal(frame["date"].to_numpy(), dates.astype("datetime64[ns]"))
    np.testing.assert_allclose(frame["amount"].to_numpy(), amounts, rtol=0, atol=1e-9)
    assert frame["order_id"].tolist() == expected["order_id"].tolist()
    assert frame["channel"].tolist() == expected["channel"].tolist()

"""Numbers in the tenant's currency, and CSV exports a spreadsheet cannot execute."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dashboard.components.export import csv_text
from dashboard.components.formatting import compact, day, money, month, number, percent


@pytest.mark.parametrize(("value", "currency", "short", "text"), [
    (1234.5, "USD", False, "$1,234"), (12.5, "EUR", False, "€12.50"),
    (-12.5, "GBP", False, "-£12.50"), (3_400_000, "CHF", True, "CHF 3.4M"),
    (1500, "JPY", False, "¥1,500"), (None, "USD", False, "–"), (np.nan, "USD", False, "–"),
])
def test_money_in_the_tenants_currency(value, currency, short, text):
    assert money(value, currency, short=short) == text


def test_numbers_shares_and_dates():
    assert number(12345) == "12,345"
    assert compact(950) == "950" and compact(12_300) == "12.3k" and compact(2_000_000) == "2M"
    assert percent(0.1234) == "12.3 %"
    assert day("2025-01-05T10:00:00") == "5 Jan 2025"
    assert month("2024-03") == "Mar 2024"


def test_text_cells_that_a_spreadsheet_would_run_get_an_apostrophe():
    frame = pd.DataFrame({"customer_id": ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)",
                                          "\tx", "\rx", "plain"],
                          "clv": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    rows = pd.read_csv(io.StringIO(csv_text(frame)), keep_default_na=False)
    assert rows["customer_id"].tolist()[:4] == ["'=HYPERLINK(\"x\")", "'+1", "'-2", "'@SUM(A1)"]
    assert rows["customer_id"].iloc[-1] == "plain"
    text = csv_text(frame)
    assert ",-1.5" in text and "'-1.5" not in text
    assert "'\tx" in text and "'\rx" in text

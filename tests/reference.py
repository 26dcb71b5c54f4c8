"""Reference data shipped with the tests (see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
CDNOW_SAMPLE = DATA / "CDNOW_sample.txt"
CDNOW_SUMMARY = DATA / "cdnow_customers_summary.csv"
CDNOW_SUMMARY_WITH_SPEND = DATA / "cdnow_customers_summary_with_transactions.csv"


def load_cdnow() -> pd.DataFrame:
    """The CDNOW sample in the canonical transaction layout, read independently of the
    product's ingest."""
    raw = pd.read_csv(
        CDNOW_SAMPLE,
        sep=r"\s+",
        header=None,
        names=["master", "sample", "date", "cds", "amount"],
        dtype={"master": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["master"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
        }
    )

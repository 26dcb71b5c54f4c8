"""`valuelens sample-data`: example files to try the offline analytics on.

It writes two files into a directory: the public CDNOW sample (real transactions, shipped
with the package) and a small customer table with a spend target for customer-table mode,
built from the synthetic generator so that its numbers follow a known process.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import click

TRANSACTIONS_FILE = "CDNOW_sample.txt"
CUSTOMER_TABLE_FILE = "customers.csv"
CUSTOMER_TABLE_SIZE = 2_000
# The table's history: frequency comes from the first two years, the target from the third.
HISTORY_END = "2024-01-01"


def customer_table(customers: int, seed: int = 0):
    """One row per synthetic customer: attributes, `purchase_frequency` (orders a year) and
    `previous_spend` (net) in 2022-2023, and `purchase_amount`, the net spend in 2024: the
    target to predict."""
    from models.synthetic import generate_customers, generate_transactions

    table = generate_customers(customers, seed=seed)
    sales = generate_transactions(customers, seed=seed)
    before = sales[sales["date"] < HISTORY_END]
    orders = before[before["amount"] > 0].groupby("customer_id")["order_id"].nunique()
    previous = before.groupby("customer_id")["amount"].sum()
    spend = sales[sales["date"] >= HISTORY_END].groupby("customer_id")["amount"].sum()
    ids = table["customer_id"]
    table["purchase_frequency"] = (ids.map(orders).fillna(0) / 2).to_numpy()
    table["previous_spend"] = ids.map(previous).fillna(0.0).clip(lower=0).round(2).to_numpy()
    table["purchase_amount"] = ids.map(spend).fillna(0.0).clip(lower=0).round(2).to_numpy()
    return table


@click.command("sample-data")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Directory to write the example files into.")
def sample_data(out_dir: Path) -> None:
    """Write example data: CDNOW transactions and a small customer table."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = resources.files("dashboard") / "data" / TRANSACTIONS_FILE
    with resources.as_file(source) as path:
        shutil.copyfile(path, out_dir / TRANSACTIONS_FILE)
    click.echo(f"Wrote {out_dir / TRANSACTIONS_FILE}: 6,919 purchases of 2,357 CDNOW "
               "customers, 1997-1998 (the public sample of Fader, Hardie & Lee 2005).")
    table = customer_table(CUSTOMER_TABLE_SIZE)
    table.to_csv(out_dir / CUSTOMER_TABLE_FILE, index=False)
    click.echo(f"Wrote {out_dir / CUSTOMER_TABLE_FILE}: {len(table):,} synthetic customers "
               "with attributes and their 2024 spend (purchase_amount).")

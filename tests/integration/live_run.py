"""Publish a live run for a tenant without a worker: generated transactions (or a
customer table) analysed in-process, written through the run contract, made live.

The analysis of one (customers, seed) pair is done once per test session and shared."""

from __future__ import annotations

import functools
import io
import secrets

import pandas as pd

from dashboard.aggregates import build_aggregates

HORIZON = 180


@functools.cache
def analysed_transactions(customers: int, seed: int):
    from models.pipeline import analyze_transactions
    from models.synthetic import generate_transactions

    transactions = generate_transactions(customers, seed=seed)
    report, table = analyze_transactions(transactions, horizon=HORIZON, random_state=seed)
    return transactions, report, table


@functools.cache
def analysed_customer_table(customers: int, seed: int):
    from models.pipeline import analyze
    from models.synthetic import generate_customers

    frame = generate_customers(customers, seed=seed)
    frame["purchase_amount"] = (frame["annual_income"] / 100).round(2)
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False)
    return analyze(buffer.getvalue(), kind="customers", target="purchase_amount",
                   random_state=seed)


def publish_run(app, tenant_id: str, kind: str = "transactions", customers: int = 600,
                seed: int = 1, customers_frame: pd.DataFrame | None = None, live: bool = True):
    """Write a dataset, a run with its files and aggregates, and make the run live (or
    only `ready`, as the score step leaves it, when `live` is false). `customers_frame`
    replaces the scored customer table (e.g. to plant hostile text)."""
    from dashboard.runs import (
        AGGREGATES_FILE,
        CUSTOMERS_FILE,
        REPORT_FILE,
        create_run,
        go_live,
        mark_ready,
        write_frame,
        write_json,
    )
    from dashboard.schema import Dataset
    from dashboard.store import store_for

    if kind == "transactions":
        transactions, report, table = analysed_transactions(customers, seed)
    else:
        (report, table), transactions = analysed_customer_table(customers, seed), None
    if customers_frame is not None:
        table = customers_frame
    with app.app_context():
        store = store_for(tenant_id)
        dataset = store.add(Dataset(filename="sales.csv", kind=kind, status="ready",
                                    rows=len(transactions) if transactions is not None else len(table)))
        store.session.flush()
        if transactions is not None:
            dataset.data_path = f"datasets/{dataset.id}/transactions.parquet"
            transactions.to_parquet(store.path(dataset.data_path), index=False)
        store.commit()
        run = create_run(store, job_id=secrets.token_hex(8), dataset_id=dataset.id, kind=kind,
                         horizon_days=HORIZON)
        write_frame(store, run, CUSTOMERS_FILE, table)
        write_json(store, run, REPORT_FILE, report)
        write_json(store, run, AGGREGATES_FILE, build_aggregates(table, transactions, report, HORIZON))
        mark_ready(store, run)
        if live:
            go_live(store, run)
        return run.id

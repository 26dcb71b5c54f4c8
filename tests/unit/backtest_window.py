"""Feature tables at a test cut-off of generated data, for model-level unit tests."""

from __future__ import annotations

from models.evaluation.data import BacktestData
from models.synthetic import generate_customers, generate_transactions


def cutoff_window(customers: int, seed: int) -> dict:
    """Two years of generated data with attributes, cut at the backtest's test cut-off
    (horizon 120 days): the feature table, the learnable columns and both targets."""
    transactions = generate_transactions(customers, seed=seed, start="2022-01-01",
                                         end="2023-12-31")
    attributes = generate_customers(customers, seed=seed).set_index("customer_id")
    data = BacktestData(transactions, horizon=120, attributes=attributes)
    cutoff = data.windows.test_cutoff
    frame = data.features(cutoff)
    columns = data.learnable_columns()
    return {
        "transactions": transactions,
        "data": data,
        "frame": frame,
        "columns": columns,
        "trees": frame[columns],
        "spend": data.spend_target(cutoff, frame.index),
        "churn": data.churn_target(cutoff, frame.index),
        "btyd": data.btyd(cutoff),
    }

"""One customer's purchases, read from the validated transactions behind the live run.

Only that customer's rows are read (a Parquet filter), so the page stays quick on a
dataset of millions of rows. An append upload's Parquet holds its base rows too.
"""

from __future__ import annotations

import pandas as pd

from dashboard.runs import RunData
from dashboard.schema import Dataset, Run
from dashboard.store import NotFound, TenantStore

HISTORY_COLUMNS = ("date", "order_id", "amount", "category", "channel", "region")
MAX_ROWS = 500


def purchase_history(store: TenantStore, data: RunData, customer_id: str,
                     limit: int = MAX_ROWS) -> pd.DataFrame:
    """The customer's transactions, newest first (empty when the run has no dataset)."""
    try:
        run = store.get(Run, data.run_id)
        dataset = store.get(Dataset, run.dataset_id) if run.dataset_id else None
    except NotFound:
        dataset = None
    if dataset is None or not dataset.data_path or data.kind != "transactions":
        return pd.DataFrame(columns=["date", "amount"])
    path = store.path(dataset.data_path)
    if not path.exists():
        return pd.DataFrame(columns=["date", "amount"])
    frame = pd.read_parquet(path, filters=[("customer_id", "==", str(customer_id))])
    columns = [column for column in HISTORY_COLUMNS if column in frame.columns]
    return frame[columns].sort_values("date", ascending=False).head(limit).reset_index(drop=True)

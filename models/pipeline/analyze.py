"""The whole analysis of one file, offline: what `valuelens analyze` and the workers run.

Transactions: read and validate → features at the end of the data → RFM → k-means
segments → CLV and churn backtests, champions, final scores and explanations. Customer
table: read and validate → segments → cross-validated regression of a target with the
leakage guard. Returns the JSON report and one row per customer; knows nothing about
where files live.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

import pandas as pd

from models.evaluation.churn import run_churn
from models.evaluation.clv import run_clv
from models.evaluation.customer_table import run_customer_table
from models.evaluation.data import BacktestData
from models.ingest import read_customers, read_transactions
from models.rfm import rfm_segments
from models.segmentation import CustomerSegmenter

Progress = Callable[[float, str], None]

SEGMENT_COLUMNS = ["frequency", "days_since_last", "total_spend", "avg_order_value", "tenure"]
KINDS = ("transactions", "customers")
# Where each stage starts on the 0–100 progress scale (the stages' own shares of the time).
TRANSACTION_STAGES = {"read": 0, "features": 15, "rfm": 25, "segmentation": 28, "clv": 35,
                      "churn": 70, "assemble": 95}
TABLE_STAGES = {"read": 0, "segmentation": 20, "regression": 40, "assemble": 95}


def _silent(_percent: float, _message: str) -> None:
    return None


class _Stages:
    """Times each stage and maps its own 0–100 progress onto the overall scale."""

    def __init__(self, starts: dict[str, float], progress: Progress) -> None:
        self.starts = starts
        self.progress = progress
        self.timings: dict[str, float] = {}

    def scaled(self, name: str) -> Progress:
        names = list(self.starts)
        start = self.starts[name]
        end = self.starts[names[names.index(name) + 1]] if name != names[-1] else 100.0
        return lambda percent, message: self.progress(start + (end - start) * percent / 100, message)

    @contextmanager
    def stage(self, name: str, message: str):
        self.progress(self.starts[name], message)
        started = time.perf_counter()
        yield self.scaled(name)
        self.timings[name] = round(time.perf_counter() - started, 3)


def analyze(source, kind: str = "transactions", target: str | None = None,
            mapping: dict | None = None, horizon: int = 180, progress: Progress | None = None,
            random_state: int = 0, max_invalid_share: float = 0.05, attributes=None
            ) -> tuple[dict, pd.DataFrame]:
    """Run the whole pipeline on one CSV (path, bytes or binary file object).

    `attributes` is an optional customer table (same kinds of source) whose columns join
    the transaction features, so the tree models can learn from them.

    Raises `models.ingest.IngestError` for a file that is rejected, and ValueError for
    arguments that cannot work (unknown kind, a horizon below one day).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if horizon < 1:
        raise ValueError("the horizon must be at least one day")
    progress = progress or _silent
    if kind == "customers":
        report, customers = _analyze_table(source, target, mapping, progress, random_state,
                                           max_invalid_share)
    else:
        report, customers = _analyze_transactions(source, mapping, horizon, progress,
                                                  random_state, max_invalid_share, attributes)
    progress(100, "Analysis complete")
    return report, customers


def analyze_transactions(transactions: pd.DataFrame, horizon: int = 180,
                         progress: Progress | None = None, random_state: int = 0
                         ) -> tuple[dict, pd.DataFrame]:
    """The pipeline on a frame already in the canonical transaction layout (generated
    demo data, a stored dataset version): everything after reading and validation."""
    stages = _Stages(TRANSACTION_STAGES, progress or _silent)
    report, customers = _transactions_report(transactions, None, None, horizon, random_state,
                                             stages)
    stages.progress(100, "Analysis complete")
    return report, customers


def _analyze_transactions(source, mapping, horizon, progress, random_state, max_invalid_share,
                          attributes_source):
    stages = _Stages(TRANSACTION_STAGES, progress)
    with stages.stage("read", "Reading and validating the file"):
        ingested = read_transactions(source, mapping=mapping, max_invalid_share=max_invalid_share)
        validation = ingested.report.to_dict()
        attributes = None
        if attributes_source is not None:
            table = read_customers(attributes_source, max_invalid_share=max_invalid_share)
            attributes = table.frame.set_index("customer_id")
            validation["attributes"] = table.report.to_dict()
    return _transactions_report(ingested.frame, validation, attributes, horizon, random_state,
                                stages)


def _transactions_report(transactions, validation, attributes, horizon, random_state, stages):
    with stages.stage("features", "Building customer features"):
        data = BacktestData(transactions, horizon, attributes)
        features = data.features(data.end)
    with stages.stage("rfm", "Scoring RFM segments"):
        rfm = rfm_segments(features)
    with stages.stage("segmentation", "Clustering customers"):
        segmenter = CustomerSegmenter(random_state=random_state, columns=SEGMENT_COLUMNS)
        segmenter.fit(features)
    with stages.stage("clv", "Backtesting and fitting CLV models") as report:
        clv = run_clv(transactions, horizon, random_state=random_state, progress=report, data=data)
    with stages.stage("churn", "Backtesting and fitting churn models") as report:
        churn = run_churn(transactions, horizon, random_state=random_state, progress=report,
                          data=data)
    with stages.stage("assemble", "Assembling the customer table"):
        customers = features.join(rfm)
        customers["cluster"] = segmenter.labels_
        customers["persona"] = [segmenter.personas_[label] for label in segmenter.labels_]
        customers["clv"] = clv.predictions.reindex(customers.index)
        customers["churn_probability"] = churn.predictions.reindex(customers.index)
        customers = customers.join(_contributions("clv", clv.explanation))
        customers = customers.join(_contributions("churn", churn.explanation))
        customers.index.name = "customer_id"
    report = {
        "kind": "transactions",
        "validation": validation,
        "timings": stages.timings,
        "data": {
            "customers": int(len(customers)),
            "transactions": int(len(transactions)),
            "first_date": transactions["date"].min().isoformat(),
            "last_date": transactions["date"].max().isoformat(),
        },
        "rfm": {"segments": _counts(customers["rfm_segment"])},
        "segmentation": _segmentation_report(segmenter),
        "models": {"clv": _with_base(clv), "churn": _with_base(churn)},
    }
    return report, customers.reset_index()


def _analyze_table(source, target, mapping, progress, random_state, max_invalid_share):
    stages = _Stages(TABLE_STAGES, progress)
    with stages.stage("read", "Reading and validating the file"):
        ingested = read_customers(source, mapping=mapping, max_invalid_share=max_invalid_share)
    table = ingested.frame.set_index("customer_id")
    with stages.stage("regression", "Cross-validating the regression") as report:
        regression = run_customer_table(table, target=target, random_state=random_state)
        report(100, "Regression done")
    with stages.stage("segmentation", "Clustering customers"):
        columns = [c for c in regression.features if table[c].dtype.kind in "biuf"]
        segmenter = CustomerSegmenter(random_state=random_state, columns=columns or None)
        segmenter.fit(table)
    with stages.stage("assemble", "Assembling the customer table"):
        customers = table.copy()
        customers["cluster"] = segmenter.labels_
        customers["persona"] = [segmenter.personas_[label] for label in segmenter.labels_]
        customers[f"predicted_{regression.target}"] = regression.predictions.reindex(table.index)
        customers = customers.join(_contributions("regression", regression.explanation))
    report = {
        "kind": "customers",
        "validation": ingested.report.to_dict(),
        "timings": stages.timings,
        "data": {"customers": int(len(customers))},
        "segmentation": _segmentation_report(segmenter),
        "regression": regression.to_dict(),
        "leakage": regression.leakage,
    }
    return report, customers.reset_index()


def _contributions(prefix: str, explanation) -> pd.DataFrame:
    return explanation.contributions.add_prefix(f"shap_{prefix}__")


def _with_base(result) -> dict:
    return {**result.to_dict(),
            "explanation_base_value": float(result.explanation.base_value)}


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(name): int(count) for name, count in values.value_counts().items()}


def _segmentation_report(segmenter: CustomerSegmenter) -> dict:
    return {
        "k": int(segmenter.k_),
        "silhouette": float(segmenter.silhouette_),
        "curves": segmenter.curves_,
        "columns": list(segmenter.columns_),
        "personas": [segmenter.personas_[label] for label in range(segmenter.k_)],
        "profiles": segmenter.profiles_.reset_index().to_dict(orient="records"),
    }

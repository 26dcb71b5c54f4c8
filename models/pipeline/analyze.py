"""The whole analysis of one file, offline: what `valuelens analyze` runs.

A composition of the pipeline's steps: read and validate (``models.ingest``), then
train, score and explain (``models.pipeline.transactions`` / ``.table``). Returns the
JSON report and one row per customer: the scores joined with the contributions. The
report is the training report plus ``validation``, ``timings`` of every stage and, per
model, ``explanation_space``, ``global_importance`` and ``explanation_base_value``.
Customers who vanish on the way (every row invalid, or no positive amount) are counted
and named in ``validation.problems``. Knows nothing about where files live.
"""

from __future__ import annotations

import copy

import pandas as pd

from models.ingest import read_customers, read_transactions
from models.pipeline.stages import Progress, Stages, silent
from models.pipeline.table import explain_table, score_table, train_table
from models.pipeline.transactions import (
    explain_transactions,
    score_transactions,
    train_transactions,
)

KINDS = ("transactions", "customers")
# Where each stage starts on the 0–100 progress scale (the stages' own shares of the time).
STAGES = {"read": 0, "train": 15, "assemble": 95}


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
    stages = Stages(STAGES, progress)
    with stages.stage("read", "Reading and validating the file"):
        if kind == "customers":
            ingested = read_customers(source, mapping=mapping, max_invalid_share=max_invalid_share)
        else:
            ingested = read_transactions(source, mapping=mapping,
                                         max_invalid_share=max_invalid_share)
        validation = ingested.report.to_dict()
        attribute_frame = None
        if kind == "transactions" and attributes is not None:
            table = read_customers(attributes, max_invalid_share=max_invalid_share)
            attribute_frame = table.frame.set_index("customer_id")
            validation["attributes"] = table.report.to_dict()
    if kind == "customers":
        return _table(ingested.frame, target, validation, random_state, stages)
    return _transactions(ingested.frame, horizon, attribute_frame, validation, random_state,
                         stages)


def analyze_transactions(transactions: pd.DataFrame, horizon: int = 180,
                         progress: Progress | None = None, random_state: int = 0
                         ) -> tuple[dict, pd.DataFrame]:
    """The pipeline on a frame already in the canonical transaction layout (generated
    demo data, a stored dataset version): everything after reading and validation."""
    stages = Stages(STAGES, progress or silent)
    return _transactions(transactions, horizon, None, None, random_state, stages)


def _transactions(transactions, horizon, attributes, validation, random_state, stages):
    with stages.stage("train", "Training the models") as report:
        trained = train_transactions(transactions, horizon, attributes, random_state, report)
    with stages.stage("assemble", "Scoring and explaining every customer"):
        customers = score_transactions(trained, transactions, attributes)
        explanations = explain_transactions(trained, customers)
        customers = customers.join(explanations.contributions, on="customer_id")
    report = _report(trained.report, validation, stages.timings)
    for name in ("clv", "churn"):
        report["models"][name].update(explanations.report(name))
    if validation is not None:
        _name_customers_without_purchase(validation, trained.report["data"])
    stages.progress(100, "Analysis complete")
    return report, customers


def _table(frame, target, validation, random_state, stages):
    with stages.stage("train", "Training the models") as report:
        trained = train_table(frame, target, random_state, report)
    with stages.stage("assemble", "Scoring and explaining every customer"):
        customers = score_table(trained, frame)
        explanations = explain_table(trained, frame)
        customers = customers.join(explanations.contributions, on="customer_id")
    report = _report(trained.report, validation, stages.timings)
    report["regression"].update(explanations.report("regression"))
    stages.progress(100, "Analysis complete")
    return report, customers


def _report(trained_report: dict, validation: dict | None, timings: dict) -> dict:
    """A copy of the training report with the validation and every stage's timing."""
    report = copy.deepcopy(trained_report)
    report["validation"] = validation
    read = {"read": timings["read"]} if "read" in timings else {}
    report["timings"] = {**read, **trained_report["timings"], "assemble": timings["assemble"]}
    return report


def _name_customers_without_purchase(validation: dict, data: dict) -> None:
    missing = data["customers_without_purchase"]
    if not missing["count"]:
        return
    count, shown = missing["count"], ", ".join(missing["examples"])
    more = ", ..." if count > len(missing["examples"]) else ""
    noun = "customer has" if count == 1 else "customers have"
    validation["problems"].append({
        "kind": "customer_without_purchase", "column": None, "count": count, "rows": [],
        "message": f"{count:,} {noun} no purchase with a positive amount, so no features "
                   f"or scores: {shown}{more}.",
    })

"""A customer table: train, score and explain as three separate calls.

* :func:`train_table` — cross-validated regression of a numeric target with the leakage
  guard (``models.evaluation.customer_table``), the model refit on every row, and
  k-means segments on the numeric model features. ``TrainedTable.report`` holds
  ``kind``, ``timings``, ``data``, ``segmentation``, ``regression`` and ``leakage``.
* :func:`score_table` — every row of the table with ``cluster``, ``persona`` and
  ``predicted_<target>``: the out-of-fold prediction for the customers the model was
  trained on (an honest estimate; the refit model has seen their targets), the refit
  model's prediction for everyone else.
* :func:`explain_table` — the refit model's contributions, named ``regression``.

Frames are in the layout of ``models.ingest.read_customers`` (a ``customer_id`` column).
"""

from __future__ import annotations

import pandas as pd

from models.evaluation.customer_table import model_inputs, run_customer_table
from models.pipeline.explanations import Explanations
from models.pipeline.stages import Progress, Stages
from models.pipeline.trained import TrainedTable
from models.pipeline.transactions import segmentation_report
from models.segmentation import CustomerSegmenter

TRAIN_STAGES = {"regression": 0, "segmentation": 85}


def _table(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("customer_id") if "customer_id" in frame.columns else frame


def train_table(frame: pd.DataFrame, target: str | None = None, random_state: int = 0,
                progress: Progress | None = None, boosting: dict | None = None
                ) -> TrainedTable:
    table = _table(frame)
    stages = Stages(TRAIN_STAGES, progress)
    with stages.stage("regression", "Cross-validating the regression") as report:
        regression = run_customer_table(table, target=target, random_state=random_state,
                                        boosting=boosting, progress=report)
    with stages.stage("segmentation", "Clustering customers"):
        columns = [c for c in regression.features if table[c].dtype.kind in "biuf"]
        segmenter = CustomerSegmenter(random_state=random_state, columns=columns or None)
        segmenter.fit(table)
    stages.progress(100, "Models trained")
    report = {
        "kind": "customers",
        "timings": stages.timings,
        "data": {"customers": int(len(table))},
        "segmentation": segmentation_report(segmenter),
        "regression": regression.to_dict(),
        "leakage": regression.leakage,
    }
    return TrainedTable(regression.target, regression.features, report, segmenter,
                        regression.model, regression.predictions)


def score_table(trained: TrainedTable, frame: pd.DataFrame) -> pd.DataFrame:
    table = _table(frame)
    customers = table.copy()
    labels = trained.segmenter.predict(table)
    customers["cluster"] = labels
    customers["persona"] = [trained.segmenter.personas_[label] for label in labels]
    predicted = pd.Series(trained.model.predict(model_inputs(table, trained.target,
                                                             trained.features)),
                          index=table.index)
    known = trained.cv_predictions.reindex(table.index)
    customers[f"predicted_{trained.target}"] = known.where(known.notna(), predicted)
    return customers.reset_index()


def explain_table(trained: TrainedTable, frame: pd.DataFrame) -> Explanations:
    inputs = model_inputs(_table(frame), trained.target, trained.features)
    return Explanations.of({"regression": trained.model.explain(inputs)})

"""The analytics pipeline as separate steps, each fit to be its own task.

Transactions: :func:`train_transactions` → :class:`Trained` (``.save(directory)``,
:func:`load_trained`) → :func:`score_transactions` and :func:`explain_transactions`.
Customer table: :func:`train_table` → :class:`TrainedTable` → :func:`score_table` and
:func:`explain_table`. :func:`analyze` (``valuelens analyze``) and
:func:`analyze_transactions` compose them after reading the file. Modules:
``transactions``, ``table``, ``explanations``, ``trained`` (persistence), ``stages``
(progress), ``analyze``.
"""

from models.pipeline.analyze import analyze, analyze_transactions
from models.pipeline.explanations import Explanations
from models.pipeline.table import TrainedTable, explain_table, score_table, train_table
from models.pipeline.trained import load_trained
from models.pipeline.transactions import (
    Trained,
    UnusableHistory,
    explain_transactions,
    score_transactions,
    train_transactions,
)

__all__ = ["Explanations", "Trained", "TrainedTable", "analyze", "analyze_transactions",
           "explain_table", "explain_transactions", "load_trained", "score_table",
           "score_transactions", "train_table", "train_transactions", "UnusableHistory"]

"""Plain names for what the analytics report by code name, in one place for job messages,
pages and the docs: people read "BG/NBD + Gamma-Gamma", not "btyd"."""

from __future__ import annotations

CANDIDATE_LABELS = {
    "clv": {
        "past_spend": "past spend",
        "btyd": "BG/NBD + Gamma-Gamma",
        "xgboost": "XGBoost",
    },
    "churn": {
        "recency": "recency",
        "btyd": "BG/NBD",
        "xgboost": "XGBoost",
    },
}


def candidate_label(task: str, name: str) -> str:
    """The plain name of a CLV or churn candidate; an unknown one keeps its code name."""
    return CANDIDATE_LABELS.get(task, {}).get(name, name)

"""Model names people read: every CLV and churn candidate has a plain label, and a
finished analysis job's message uses them instead of code names."""

from __future__ import annotations

import pytest

from dashboard.labels import CANDIDATE_LABELS, candidate_label
from models.evaluation import churn, clv
from workers.tasks.pipeline import run_summary


@pytest.mark.parametrize(("task", "candidates"), [("clv", clv.CANDIDATES),
                                                  ("churn", churn.CANDIDATES)])
def test_every_candidate_has_a_plain_label(task, candidates):
    assert set(CANDIDATE_LABELS[task]) == set(candidates)


def test_the_purchase_pattern_models_are_named_after_their_maths():
    assert candidate_label("clv", "btyd") == "BG/NBD + Gamma-Gamma"
    assert candidate_label("churn", "btyd") == "BG/NBD"
    assert candidate_label("churn", "something_new") == "something_new"


def test_the_job_message_names_the_winners_in_plain_words():
    message = run_summary(2000, 180, {"clv": "btyd", "churn": "recency",
                                      "segmentation": "kmeans"})

    assert message == ("Scored 2,000 customers over 180 days. Best lifetime-value model: "
                       "BG/NBD + Gamma-Gamma; best churn model: recency.")
    assert "btyd" not in message

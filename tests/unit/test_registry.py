"""The registry's champion rule, judged on versions alone (no database)."""

from __future__ import annotations

from dashboard.registry import MARGIN, judge
from dashboard.schema import ModelVersion


def _clv(candidate: str, **gini) -> ModelVersion:
    backtest = {name: {"normalized_gini": value} for name, value in gini.items()}
    return ModelVersion(kind="clv", candidate=candidate,
                        metrics={"backtest": backtest, "champion": candidate})


def test_the_first_version_and_a_refit_of_the_champions_method_win():
    assert judge(_clv("btyd", btyd=0.6), None) is None
    assert judge(_clv("btyd", btyd=0.5, xgboost=0.7), _clv("btyd")) is None


def test_a_challenger_must_beat_the_champion_on_the_same_backtest_by_the_margin():
    champion = _clv("btyd")

    assert judge(_clv("xgboost", btyd=0.60, xgboost=0.60 + 2 * MARGIN), champion) is None
    note = judge(_clv("xgboost", btyd=0.600, xgboost=0.603), champion)

    assert note == ("Stayed a candidate: XGBoost scored 0.603 normalised Gini against 0.600 "
                    "for the champion, BG/NBD + Gamma-Gamma, on the same backtest (+0.003; "
                    "it needs more than +0.005)")


def test_segments_always_follow_the_newest_data():
    assert judge(ModelVersion(kind="segmentation", candidate="kmeans"),
                 ModelVersion(kind="segmentation", candidate="kmeans")) is None

"""One customer's SHAP waterfall and the sentence that explains it."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest

from dashboard.figures.customer import (
    explanation_sentence,
    feature_phrase,
    in_money,
    ranked_contributions,
    waterfall_figure,
)

CLV = {"base_value": 100.0, "output": 260.0,
       "contributions": {"n_orders": 120.0, "spend_180": 50.0, "days_since_last": -10.0}}


def test_waterfall_runs_from_the_base_through_each_contribution_to_the_output():
    figure = waterfall_figure(CLV, title="Predicted value")
    assert isinstance(figure, go.Figure)
    bars = figure.data[0]
    assert list(bars.y) == ["Average customer", "Orders", "Spend, last 180 days",
                            "Days since last purchase", "This customer"]
    assert list(bars.x) == [100.0, 120.0, 50.0, -10.0, 260.0]
    assert list(bars.measure) == ["absolute", "relative", "relative", "relative", "total"]


def test_waterfall_bars_carry_short_signed_numbers_and_room_for_them():
    figure = waterfall_figure(CLV, value_format=",.0f")
    assert list(figure.data[0].text) == ["100", "+120", "+50", "−10", "260"]
    low, high = figure.layout.xaxis.range
    assert low < 0 and high > 270


def test_waterfall_folds_small_contributions_so_the_bars_still_add_up():
    contributions = {f"f{i}": float(i) for i in range(1, 21)}
    explanation = {"base_value": 5.0, "contributions": contributions}
    bars = ranked_contributions(explanation, max_bars=4)
    assert [name for name, _ in bars[:3]] == ["f20", "f19", "f18"]
    assert bars[-1][0] == "17 other features"
    assert sum(value for _, value in bars) == pytest.approx(sum(contributions.values()))
    figure = waterfall_figure(explanation)
    assert figure.data[0].x[-1] == pytest.approx(5.0 + sum(contributions.values()))


def test_sentence_names_the_strongest_reason_in_plain_words():
    sentence = explanation_sentence("clv", CLV, {"n_orders": 14, "spend_180": 900.0})
    assert sentence == "Predicted value is high mainly because of 14 orders."


def test_sentence_adds_a_second_reason_that_weighs_as_much():
    explanation = {"base_value": 0.0, "output": -2.0,
                   "contributions": {"days_since_last": 1.0, "n_orders": -1.5,
                                     "total_spend": -1.4}}
    sentence = explanation_sentence("churn", explanation,
                                    {"n_orders": 3, "total_spend": 1234.5}, currency="EUR")
    assert sentence == "Churn risk is low mainly because of 3 orders and €1,234 spent in total."


def test_sentence_for_an_average_customer_says_so():
    explanation = {"base_value": 1.0, "output": 1.0, "contributions": {"n_orders": 0.0}}
    assert "about average" in explanation_sentence("clv", explanation, {"n_orders": 2})


def test_unknown_features_read_as_name_and_value():
    assert feature_phrase("loyalty_score", 7.25) == "loyalty score of 7.25"
    assert feature_phrase("region", "North") == "region of North"
    assert feature_phrase("return_share", 0.25) == "25 % of spend returned"


def test_a_log_spend_explanation_is_restated_in_money_and_still_adds_up():
    log_explanation = {"space": "log-spend", "base_value": math.log(40.0),
                       "contributions": {"btyd_value": 0.9, "n_orders": 0.3, "days_since_last": -0.2},
                       "output": math.log(40.0) + 1.0}
    shown = in_money(log_explanation)
    assert shown["space"] == "spend"
    assert shown["base_value"] == pytest.approx(40.0)
    assert shown["output"] == pytest.approx(40.0 * math.e)
    assert shown["base_value"] + sum(shown["contributions"].values()) == pytest.approx(shown["output"])
    # Each feature keeps its direction and its share of the change.
    signs = {name: value > 0 for name, value in shown["contributions"].items()}
    assert signs == {"btyd_value": True, "n_orders": True, "days_since_last": False}
    assert shown["contributions"]["btyd_value"] == pytest.approx(3 * shown["contributions"]["n_orders"])


def test_a_log_spend_explanation_whose_contributions_cancel_still_adds_up():
    shown = in_money({"space": "log-spend", "base_value": 0.0,
                      "contributions": {"a": 0.5, "b": -0.5}})
    assert shown["output"] == pytest.approx(1.0) and shown["base_value"] == pytest.approx(1.0)
    assert sum(shown["contributions"].values()) == pytest.approx(0.0)
    assert shown["contributions"]["a"] > 0 > shown["contributions"]["b"]


def test_explanations_in_money_or_log_odds_are_left_as_they_are():
    for space in ("spend", "log-odds", None):
        explanation = {"space": space, "base_value": 1.0, "contributions": {"a": 2.0}}
        assert in_money(explanation) is explanation


def test_the_clv_sentence_names_the_purchase_pattern_forecast_in_money():
    explanation = in_money({"space": "log-spend", "base_value": math.log(20.0),
                            "contributions": {"btyd_value": 1.5, "n_orders": 0.1}})
    sentence = explanation_sentence("clv", explanation, {"btyd_value": 96.93, "n_orders": 4})
    assert sentence == "Predicted value is high mainly because of a purchase-pattern forecast of $96.93."

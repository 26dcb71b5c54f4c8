"""One customer's detail: the chance of no purchase in the horizon travels from the
scored table through the detail API to the page, beside the predicted value."""

import pandas as pd
import pytest

import dashboard.customers as customers_module
from dashboard.components.customer_view import customer_view
from dashboard.customers import customer_detail


class Run:
    run_id = "run"

    def __init__(self, frame):
        self.customers = frame


class Store:
    def get(self, model, key):
        return None


def _texts(component) -> list[str]:
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    if children is None:
        return []
    if not isinstance(children, list | tuple):
        children = [children]
    return [text for child in children for text in _texts(child)]


@pytest.fixture
def scored():
    return Run(pd.DataFrame({
        "customer_id": ["C1", "C2"], "rfm_segment": ["Champions", "Lost"],
        "cluster": [0, 1], "persona": ["a", "b"], "clv": [120.0, 3.0],
        "p_no_purchase": [0.18, 0.93], "churn_probability": [0.2, 0.9],
        "p_alive": [0.95, 0.2], "expected_purchases": [2.4, 0.1], "frequency": [5, 0],
    }))


def test_detail_carries_the_chance_of_no_purchase_as_a_score(scored, monkeypatch):
    monkeypatch.setattr(customers_module, "_explanation", lambda store, run, cid: {})
    detail = customer_detail(Store(), scored, "C2")
    assert detail["p_no_purchase"] == pytest.approx(0.93)
    assert "p_no_purchase" not in detail["features"] and detail["features"] == {"frequency": 0}


def test_page_shows_the_chance_of_no_purchase_beside_the_predicted_value():
    detail = {"customer_id": "C1", "clv": 120.0, "p_no_purchase": 0.18,
              "churn_probability": 0.2, "p_alive": 0.95, "expected_purchases": 2.4,
              "features": {}, "shap": {}}
    texts = _texts(customer_view(detail, pd.DataFrame(), "USD"))
    value = texts.index("Predicted value")
    assert texts[value + 1:value + 3] == ["$120", "18 % chance of no purchase in the horizon"]


def test_page_leaves_the_chance_out_when_the_run_has_none():
    detail = {"customer_id": "C1", "clv": 120.0, "churn_probability": 0.2, "features": {},
              "shap": {}}
    texts = _texts(customer_view(detail, pd.DataFrame(), "USD"))
    value = texts.index("Predicted value")
    assert texts[value + 2] == "Churn risk"
    assert not any("no purchase" in text for text in texts)

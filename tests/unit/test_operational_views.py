"""The data, models and customers pages read the services' real shapes: the upload
preview of models.ingest, the drift and backtests the train step stores, and the
customer list's column names."""

from __future__ import annotations

from dashboard.components.customer_grid import COLUMNS, grid_query, money_formatter
from dashboard.components.data_views import layout_line, preview_view, sample_rows
from dashboard.components.model_tables import drift_rows, metric_summary
from dashboard.customers import LIST_COLUMNS

PREVIEW = {"kind": "transactions", "encoding": "utf-8", "delimiter": "semicolon",
           "header": True, "columns": ["Kunde", "Datum", "Betrag"],
           "mapping": {"customer_id": "Kunde", "date": "Datum", "amount": "Betrag"},
           "rows": [["K1", "2024-01-02", "12,50"], ["K2", "2024-01-03"]],
           "truncated": False, "problems": [], "warnings": ["3 rows have no amount."]}


def _texts(component) -> list[str]:
    """Every string in a rendered component tree."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [text for child in component for text in _texts(child)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


def test_the_preview_shows_the_first_rows_that_ingest_sends_as_lists():
    assert sample_rows(PREVIEW, PREVIEW["columns"]) == [["K1", "2024-01-02", "12,50"],
                                                      ["K2", "2024-01-03", ""]]
    texts = _texts(preview_view(PREVIEW))
    assert "K1" in texts and "12,50" in texts
    assert "3 rows have no amount." in texts


def test_the_preview_offers_every_transaction_field_in_a_fixed_order():
    view = preview_view(PREVIEW)
    pickers = next(c for c in view.children if getattr(c, "id", None) == "mapping-pickers")
    fields = [col.children[1].id["field"] for col in pickers.children]
    assert fields[:3] == ["customer_id", "date", "amount"]
    assert {"quantity", "unit_price", "order_id"} <= set(fields)
    values = {col.children[1].id["field"]: col.children[1].value for col in pickers.children}
    assert values["date"] == "Datum" and values["quantity"] == "__none__"


def test_the_detected_layout_reads_as_a_sentence():
    assert layout_line(PREVIEW) == ("Detected: UTF-8, semicolon-separated, with a header row, "
                                    "3 columns.")
    assert layout_line({"delimiter": None}) == ""


def test_drift_reads_the_list_the_train_step_stores_largest_shift_first():
    drift = {"against_dataset": "d1", "features": [
        {"feature": "total_spend", "psi": 0.02, "status": "stable"},
        {"feature": "days_since_last", "psi": 0.31, "status": "major"}]}
    assert drift_rows(drift) == [("Days since last purchase", "0.310", "large shift"),
                                 ("Total spend", "0.020", "stable")]


def test_a_model_version_shows_its_own_candidates_backtest():
    metrics = {"horizon": 180, "champion": "btyd", "backtest": {
        "btyd": {"normalized_gini": 0.85, "spearman": 0.65, "total_ratio": 0.9},
        "xgboost": {"normalized_gini": 0.84, "spearman": 0.6, "total_ratio": 0.8}}}
    assert metric_summary(metrics, "xgboost") == "Gini 0.840, Spearman 0.600, predicted / actual 0.800"
    assert metric_summary({"k": 3, "silhouette": 0.29}, "kmeans") == "k 3, silhouette 0.29"


def test_a_model_version_backtested_over_several_periods_shows_the_means():
    metrics = {"champion": "xgboost", "backtest": {"xgboost": {"normalized_gini": 0.9}},
               "summary": {"xgboost": {
                   "normalized_gini": {"mean": 0.683, "std": 0.01, "origins": 2},
                   "total_ratio": {"mean": 1.038, "std": 0.08, "origins": 2}}}}
    assert metric_summary(metrics) == "Gini 0.683, predicted / actual 1.038 (mean of 2 periods)"


def test_every_grid_column_is_one_the_customer_list_sends():
    assert {column["field"] for column in COLUMNS} <= set(LIST_COLUMNS)


def test_the_grid_sorts_and_filters_by_segment_in_the_services_terms():
    query = grid_query({"startRow": 100, "endRow": 200,
                        "sortModel": [{"colId": "rfm_segment", "sort": "desc"}],
                        "filterModel": {"rfm_segment": {"filter": "Champions"}}})
    assert query == {"offset": 100, "limit": 100, "sort": "-rfm_segment", "segment": "Champions"}


def test_predicted_value_is_written_in_the_tenants_currency():
    assert money_formatter("EUR")["function"].startswith("params.value == null ? '' : \"€\" + ")

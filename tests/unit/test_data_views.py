"""The data page's upload form and uploads table: the target column box only for a
customer table, and a table narrow enough for a phone."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from dashboard.components.data_views import dataset_row, target_shown, upload_form
from dashboard.components.jobs import WIDE_ONLY


def _find(component, component_id):
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, str):
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def test_the_target_box_starts_hidden_and_shows_for_a_customer_table_only():
    assert _find(upload_form(), "upload-target-box").style == {"display": "none"}
    assert target_shown("customers") == {}
    assert target_shown("transactions") == target_shown(None) == {"display": "none"}


def test_an_upload_row_has_three_cells_and_the_time_only_on_wide_screens():
    dataset = SimpleNamespace(id="d1", filename="a_very_long_file_name.csv", kind="customers",
                              mode="append", status="ready", rows=1234,
                              created_at=datetime(2024, 5, 6, 7, 8))
    file, status, uploaded = dataset_row(dataset, live_id="d1").children
    assert [div.children for div in file.children] == ["a_very_long_file_name.csv",
                                                      "customers · append"]
    assert "text-break" in file.children[0].className
    assert [div.children for div in status.children] == ["ready · live", "1,234 rows"]
    assert uploaded.children == "2024-05-06 07:08" and WIDE_ONLY in uploaded.className
    other = dataset_row(SimpleNamespace(**{**vars(dataset), "rows": None}), live_id="d2")
    assert [div.children for div in other.children[1].children] == ["ready", ""]

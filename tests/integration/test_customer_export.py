"""The customers page exports every customer that matches the grid's filters, not just
the page on screen, as formula-safe CSV, for any role of the tenant."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.live_run import analysed_transactions, publish_run

pytestmark = pytest.mark.integration


def export(client, filter_model: dict):
    client.get("/customers")
    output = next(dep["output"] for dep in client.get("/_dash-dependencies").get_json()
                  if dep["inputs"] == [{"id": "customers-export-button", "property": "n_clicks"}])
    return client.post("/_dash-update-component", json={
        "output": output,
        "outputs": {"id": "customers-export", "property": "data"},
        "inputs": [{"id": "customers-export-button", "property": "n_clicks", "value": 1}],
        "state": [{"id": "customers-grid", "property": "filterModel", "value": filter_model}],
        "changedPropIds": ["customers-export-button.n_clicks"],
    })


def test_a_viewer_exports_every_customer_of_the_filtered_segment(app, client, auth, make_user,
                                                                 tenant_a):
    _, _, table = analysed_transactions(600, 1)
    publish_run(app, tenant_a.id)
    auth.login(make_user(tenant_a, role="viewer"))

    response = export(client, {"rfm_segment": {"filterType": "text", "type": "equals",
                                               "filter": "Champions"}})

    assert response.status_code == 200
    download = response.get_json()["response"]["customers-export"]["data"]
    assert download["filename"] == "customers.csv"
    rows = list(csv.DictReader(io.StringIO(download["content"])))
    expected = table.loc[table["rfm_segment"] == "Champions", "customer_id"].astype(str)
    assert sorted(row["customer_id"] for row in rows) == sorted(expected)
    assert len(rows) > 50  # more than one page of the grid
    assert {row["rfm_segment"] for row in rows} == {"Champions"}
    assert not any(name.startswith("shap_") for name in rows[0])

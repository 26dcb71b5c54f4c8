"""Upload → ingest → train → score → explain through the REST API and a real worker, on the
real CDNOW sample; the results stay inside the tenant; retrain, promote and roll back."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.conftest import wait_for
from tests.reference import load_cdnow

pytestmark = pytest.mark.integration

CHAIN_SECONDS = 240


@pytest.fixture(scope="module")
def cdnow_csv() -> bytes:
    """The CDNOW sample as a CSV upload: customer_id,date,cds,amount with text ids."""
    frame = load_cdnow()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["customer_id", "date", "cds", "amount"])
    for row in frame.itertuples(index=False):
        writer.writerow([f"C{row.customer_id}", row.date.strftime("%Y-%m-%d"), 1, row.amount])
    return out.getvalue().encode()


def upload(api, body: bytes, name: str = "cdnow.csv", **fields):
    # Encoded here, in memory: the test client would spool a large body to a temporary
    # file that nobody closes.
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    boundary, encoded = encode_multipart(MultiDict(
        {"file": FileStorage(io.BytesIO(body), filename=name), **fields}))
    return api.client.post("/api/v1/datasets", data=encoded, headers=api.headers,
                           content_type=f"multipart/form-data; boundary={boundary}")


def finished_job(api, job_id: str) -> dict:
    def done():
        job = api.get(f"/api/v1/jobs/{job_id}").get_json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(done, f"job {job_id} to finish", timeout=CHAIN_SECONDS, interval=0.5)


@pytest.fixture
def live_tenant(celery_worker, app, make_user, api_as, cdnow_csv):
    """An admin of a tenant whose CDNOW upload ran the whole chain."""
    admin = make_user(role="admin")
    api = api_as(admin)
    response = upload(api, cdnow_csv)
    assert response.status_code == 202, response.get_json()
    job = finished_job(api, response.get_json()["job_id"])
    assert job["status"] == "succeeded", job
    return api, admin, response.get_json(), job


def test_an_upload_runs_every_step_and_explains_each_customer(live_tenant):
    api, _, ids, job = live_tenant

    assert [step["kind"] for step in job["steps"]] == ["ingest", "train", "score", "explain"]
    assert all(step["status"] == "succeeded" for step in job["steps"])
    assert job["progress"] == 100.0 and "btyd" not in job["message"]
    dataset = api.get(f"/api/v1/datasets/{ids['dataset_id']}").get_json()
    assert dataset["status"] == "ready" and dataset["rows"] == 6_919
    assert dataset["report"]["rows_accepted"] == 6_919

    listing = api.get("/api/v1/customers?sort=-clv&limit=5").get_json()
    assert listing["total"] == 2_349  # 2,357 customers, 8 of them with only $0 purchases
    top = listing["customers"][0]
    assert top["clv"] >= listing["customers"][-1]["clv"]

    customer = api.get(f"/api/v1/customers/{top['customer_id']}").get_json()
    assert customer["customer_id"].startswith("C")
    assert customer["segment"] and customer["persona"]
    assert 0.0 <= customer["churn_probability"] <= 1.0 and 0.0 <= customer["p_alive"] <= 1.0
    for model in ("clv", "churn"):
        shap = customer["shap"][model]
        assert shap["contributions"]
        total = shap["base_value"] + sum(shap["contributions"].values())
        assert total == pytest.approx(shap["output"], abs=1e-6)
    runs = api.get("/api/v1/runs").get_json()
    assert runs["total"] == 1 and runs["runs"][0]["live"] is True


def test_models_are_registered_with_every_candidates_backtest(live_tenant):
    api, *_ = live_tenant

    models = api.get("/api/v1/models").get_json()["models"]
    by_kind = {m["kind"]: m for m in models}
    assert {"clv", "churn", "segmentation"} <= set(by_kind)
    assert all(m["status"] == "champion" for m in models)
    clv = by_kind["clv"]["metrics"]
    assert {"past_spend", "btyd", "xgboost"} <= set(clv["backtest"])
    assert {"spearman", "normalized_gini", "top_decile_capture", "total_ratio", "rmse", "mae",
            "r2", "deciles"} <= set(clv["backtest"]["btyd"])
    assert clv["champion"] in clv["backtest"]
    assert {"roc_auc", "brier", "lift_at_10"} <= set(by_kind["churn"]["metrics"]["backtest"]["recency"])


def test_another_tenant_sees_none_of_it(live_tenant, make_user, api_as):
    api, _, ids, job = live_tenant
    stranger = api_as(make_user(role="admin"))
    customer_id = api.get("/api/v1/customers?limit=1").get_json()["customers"][0]["customer_id"]
    model_id = api.get("/api/v1/models").get_json()["models"][0]["id"]
    run_id = api.get("/api/v1/runs").get_json()["runs"][0]["id"]

    for path in (f"/api/v1/datasets/{ids['dataset_id']}", f"/api/v1/jobs/{job['id']}",
                 f"/api/v1/runs/{run_id}", f"/api/v1/models/{model_id}",
                 f"/api/v1/customers/{customer_id}"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.post(f"/api/v1/models/{model_id}/promote").status_code == 404
    assert stranger.delete(f"/api/v1/datasets/{ids['dataset_id']}").status_code == 404
    assert stranger.get("/api/v1/datasets").get_json()["total"] == 0
    export = stranger.get("/api/v1/exports/customers.csv")
    assert export.status_code == 404 or customer_id not in export.get_data(as_text=True)


def test_the_export_streams_every_matching_customer_as_csv(live_tenant):
    api, *_ = live_tenant

    response = api.get("/api/v1/exports/customers.csv?min_churn=0.5")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))

    expected = api.get("/api/v1/customers?min_churn=0.5&limit=1").get_json()["total"]
    assert response.mimetype == "text/csv" and len(rows) == expected > 0
    assert all(float(row["churn_probability"]) >= 0.5 for row in rows)


def test_retrain_promote_and_roll_back_are_audited(live_tenant, app):
    from sqlalchemy import select

    from dashboard.database import db
    from dashboard.schema import AuditEvent

    api, admin, *_ = live_tenant
    response = api.post("/api/v1/models/retrain")
    assert response.status_code == 202
    second = api.post("/api/v1/models/retrain")
    assert second.status_code == 409 and response.get_json()["id"] in second.get_json()["error"]
    retrain = finished_job(api, response.get_json()["id"])
    assert retrain["status"] == "succeeded", retrain
    assert [s["kind"] for s in retrain["steps"]] == ["train", "score", "explain"]

    clv = [m for m in api.get("/api/v1/models?kind=clv&sort=created_at").get_json()["models"]]
    assert len(clv) == 2 and [m["status"] for m in clv].count("champion") == 1
    first = clv[0]
    if first["status"] != "archived":
        pytest.fail(f"the refit of the same candidate should replace the champion: {clv}")
    rolled = api.post(f"/api/v1/models/{first['id']}/promote")
    assert rolled.status_code == 200 and rolled.get_json()["status"] == "champion"
    statuses = {m["id"]: m["status"] for m in api.get("/api/v1/models?kind=clv").get_json()["models"]}
    assert statuses == {clv[0]["id"]: "champion", clv[1]["id"]: "archived"}
    # The roll back scores every customer again with the model put back in use.
    [rescore] = api.get("/api/v1/jobs?kind=rescore").get_json()["jobs"]
    assert finished_job(api, rescore["id"])["status"] == "succeeded"
    live = [run for run in api.get("/api/v1/runs").get_json()["runs"] if run["live"]]
    assert [run["models"]["clv"] for run in live] == [first["id"]]

    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.tenant_id == admin.tenant_id)).all()
    assert {"model.retrain", "model.promote"} <= set(actions)


def test_viewers_and_analysts_cannot_retrain_or_promote(live_tenant, make_user, api_as, app):
    api, admin, *_ = live_tenant
    from dashboard.database import db
    from dashboard.schema import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, admin.tenant_id)
    model_id = api.get("/api/v1/models").get_json()["models"][0]["id"]
    for role in ("viewer", "analyst"):
        other = api_as(make_user(tenant=tenant, role=role))
        assert other.post("/api/v1/models/retrain").status_code == 403
        assert other.post(f"/api/v1/models/{model_id}/promote").status_code == 403
    viewer = api_as(make_user(tenant=tenant, role="viewer"))
    assert upload(viewer, b"customer_id,date,amount\n1,2020-01-01,5\n").status_code == 403

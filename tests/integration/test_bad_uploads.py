"""The bad-input corpus through the product: each broken upload fails with a message that
names the problem, or is read with the recovery named in its validation report; a failure
leaves the tenant's current data, live run and champions as they were."""

from __future__ import annotations

import io

import pytest

from tests.bad_inputs import bad_inputs
from tests.integration.test_pipeline_api import finished_job, upload

pytestmark = pytest.mark.integration

# Expectations that depend on the reader's options or on today's date in the unit corpus.
NEEDS_OPTIONS = {"gzip_bomb", "future_dated_block"}


@pytest.fixture
def live_api(celery_worker, app, make_user, api_as):
    from models.synthetic import generate_transactions

    api = api_as(make_user(role="admin"))
    sales = io.StringIO()
    generate_transactions(300, seed=2).to_csv(sales, index=False, date_format="%Y-%m-%d")
    response = upload(api, sales.getvalue().encode(), "sales.csv")
    assert finished_job(api, response.get_json()["job_id"])["status"] == "succeeded"
    return api


def _state(api, ignore: str | None = None) -> dict:
    """The live run, the champions and the usable dataset versions (but `ignore`)."""
    runs = api.get("/api/v1/runs").get_json()["runs"]
    return {
        "live": [run["id"] for run in runs if run["live"]],
        "champions": sorted(m["id"] for m in api.get("/api/v1/models?status=champion")
                            .get_json()["models"]),
        "ready": sorted(d["id"] for d in api.get("/api/v1/datasets?limit=1000").get_json()
                        ["datasets"] if d["status"] == "ready" and d["id"] != ignore),
    }


def test_broken_uploads_change_nothing_and_say_why(live_api, tmp_path):
    before = _state(live_api)
    refused = 0
    for name, path, expected in bad_inputs(tmp_path):
        if name in NEEDS_OPTIONS:
            continue
        response = upload(live_api, path.read_bytes(), path.name)
        if response.status_code == 400:  # refused at the door, before any job
            refused += 1
            assert not expected.accepted and expected.words in response.get_json()["error"]
            assert _state(live_api) == before, name
            continue
        assert response.status_code == 202, (name, response.get_json())
        job = finished_job(live_api, response.get_json()["job_id"])
        dataset = live_api.get(f"/api/v1/datasets/{response.get_json()['dataset_id']}").get_json()
        report = dataset["report"] or {}
        kinds = {problem["kind"] for problem in report.get("problems", [])}
        if expected.accepted:
            assert dataset["status"] == "ready", (name, dataset["error"])
            if expected.kind:
                assert expected.kind in kinds, (name, kinds)
            said = " ".join(report.get("warnings", []))
            assert expected.words in said or expected.kind, (name, said)
            if job["status"] == "succeeded":
                before = _state(live_api)
                continue
        else:
            refused += 1
            assert dataset["status"] == "failed" and dataset["error"], name
            assert expected.kind in kinds, (name, kinds)
            assert job["error"].startswith("The file was rejected"), (name, job["error"])
            assert "Traceback" not in job["error"]
        assert job["status"] == "failed", (name, job)
        assert not job["error"].startswith("Unexpected error"), (name, job["error"])
        assert _state(live_api, ignore=dataset["id"]) == before, name
        before = _state(live_api)  # a file read but not analysed stays a dataset version
    assert refused >= 10

"""Fair queues: one tenant's backlog never holds up another tenant's job for more than one
job's time, and a tenant cannot pile up jobs without limit."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

LONG = {"kind": "self_test", "params": {"seconds": 60}}


def _job(api, job_id: str) -> dict:
    return api.get(f"/api/v1/jobs/{job_id}").get_json()


def test_another_tenants_job_overtakes_a_backlog(celery_worker, app, api_as, make_user):
    busy = api_as(make_user(role="analyst"))
    backlog = [busy.post("/api/v1/jobs", json=LONG).get_json()["id"] for _ in range(4)]
    wait_for(lambda: _job(busy, backlog[0])["status"] == "running", "the first job to start")

    other = api_as(make_user(role="analyst"))
    quick = other.post("/api/v1/jobs", json={"kind": "self_test", "params": {"seconds": 0}})

    done = wait_for(lambda: (job := _job(other, quick.get_json()["id"]))["status"] == "succeeded"
                    and job, "the other tenant's job to finish", timeout=30)
    assert done["status"] == "succeeded"
    # The backlog is still waiting its turn, one job at the workers at a time.
    assert [_job(busy, job_id)["status"] for job_id in backlog] == ["running"] + ["queued"] * 3
    for job_id in backlog:
        assert busy.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200


def test_the_next_waiting_job_goes_when_one_ends(celery_worker, app, api_as, make_user):
    api = api_as(make_user(role="analyst"))
    first = api.post("/api/v1/jobs", json=LONG).get_json()["id"]
    second = api.post("/api/v1/jobs", json={"kind": "self_test",
                                            "params": {"seconds": 0}}).get_json()["id"]
    wait_for(lambda: _job(api, first)["status"] == "running", "the first job to start")
    assert _job(api, second)["message"] == "Waiting for this company's earlier jobs"

    assert api.post(f"/api/v1/jobs/{first}/cancel").status_code == 200

    wait_for(lambda: _job(api, second)["status"] == "succeeded", "the waiting job to run")


def test_too_many_waiting_jobs_answer_429_and_keep_nothing(app, api_as, make_user):
    from sqlalchemy import func, select

    from dashboard.database import db
    from dashboard.schema import Job

    user = make_user(role="analyst")
    api = api_as(user)
    limit = app.config["TENANT_MAX_WAITING_JOBS"]
    accepted = [api.post("/api/v1/jobs", json=LONG) for _ in range(limit + 1)]
    assert [r.status_code for r in accepted] == [202] * (limit + 1)

    refused = api.post("/api/v1/jobs", json=LONG)

    assert refused.status_code == 429
    assert f"already has {limit} jobs waiting" in refused.get_json()["error"]
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Job).where(
            Job.tenant_id == user.tenant_id))
    assert count == limit + 1
    for response in accepted:
        api.post(f"/api/v1/jobs/{response.get_json()['id']}/cancel")

"""The jobs REST API against a real worker, real Redis and the real database."""

from __future__ import annotations

import pytest

from dashboard.queue import tasks_held_by_workers
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _wait_until_finished(api, job_id: str) -> dict:
    def finished():
        job = api.get(f"/api/v1/jobs/{job_id}").get_json()
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    return wait_for(finished, f"job {job_id} to finish")


def _wait_until_running(api, job_id: str) -> dict:
    def running():
        job = api.get(f"/api/v1/jobs/{job_id}").get_json()
        return job if job["status"] == "running" and job["progress"] > 0 else None

    return wait_for(running, f"job {job_id} to report progress")


def test_demo_job_runs_in_a_worker_and_analyses_synthetic_data(celery_worker, app, api_as,
                                                            make_user):
    analyst = make_user(role="analyst")
    api = api_as(analyst)

    submitted = api.post("/api/v1/jobs", json={"kind": "demo", "params": {"customers": 150}})

    assert submitted.status_code == 202
    job = submitted.get_json()
    assert job["status"] == "queued"
    assert submitted.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    done = _wait_until_finished(api, job["id"])
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 100
    assert [step["kind"] for step in done["steps"]] == ["generate", "ingest", "train", "score",
                                                        "explain"]
    assert done["attempts"] == 1
    assert done["started_at"] and done["finished_at"]
    # The demo is an ordinary upload of generated data: a dataset version, then a live run.
    dataset = api.get(f"/api/v1/datasets/{done['result']['dataset_id']}").get_json()
    assert dataset["status"] == "ready" and dataset["filename"] == "demo-transactions.csv"
    assert dataset["report"]["rows_accepted"] == dataset["rows"] > 0
    customers = api.get("/api/v1/customers?limit=1000").get_json()
    assert done["message"].startswith(f"Scored {customers['total']:,} customers over 180 days")
    assert 0 < customers["total"] <= 150
    assert all(c["clv"] is not None and 0 <= c["churn_probability"] <= 1
               for c in customers["customers"])
    run = api.get(f"/api/v1/runs/{done['result']['run_id']}").get_json()
    assert run["live"] is True and run["horizon_days"] == 180


def test_a_failing_job_ends_failed_with_a_readable_error(celery_worker, app, api_as, make_user):
    api = api_as(make_user(role="analyst"))

    job = api.post("/api/v1/jobs", json={"kind": "self_test",
                                         "params": {"seconds": 0, "fail": True}}).get_json()

    done = _wait_until_finished(api, job["id"])
    assert done["status"] == "failed"
    assert done["error"] == "Unexpected error (SelfTestFailure): the self-test was asked to fail"
    assert "Traceback" not in done["error"]


def test_cancelling_a_running_job_stops_the_worker_on_it(celery_worker, app, api_as, make_user,
                                                        job_row):
    api = api_as(make_user(role="analyst"))
    job = api.post("/api/v1/jobs", json={"kind": "self_test", "params": {"seconds": 120}}).get_json()
    _wait_until_running(api, job["id"])

    cancelled = api.post(f"/api/v1/jobs/{job['id']}/cancel")

    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    task_id = job_row(job["id"]).task_id
    wait_for(lambda: not tasks_held_by_workers([task_id]), "the worker to let go of the task")
    final = api.get(f"/api/v1/jobs/{job['id']}").get_json()
    assert final["status"] == "cancelled"
    assert final["progress"] < 100
    assert final["finished_at"]


def test_cancelling_a_finished_job_is_a_conflict(app, api_as, make_user, make_job):
    analyst = make_user(role="analyst")
    job = make_job(analyst, status="succeeded", progress=100.0)

    response = api_as(analyst).post(f"/api/v1/jobs/{job.id}/cancel")

    assert response.status_code == 409
    assert response.get_json() == {"error": "the job has already succeeded"}


def test_a_queued_job_cancelled_before_a_worker_takes_it_never_runs(celery_worker, app, api_as,
                                                                   make_user, make_job, job_row):
    from dashboard.jobs import submit_job
    from dashboard.reaper import queued_task_ids, unacked_task_ids
    from dashboard.redis_conn import get_redis
    from dashboard.store import store_for

    analyst = make_user(role="analyst")
    api = api_as(analyst)
    # Two other tenants keep both worker threads busy, so this job waits in the queue.
    others = [api_as(make_user(role="analyst")) for _ in range(2)]
    blockers = [(other, other.post("/api/v1/jobs", json={
        "kind": "self_test", "params": {"seconds": 120}}).get_json()["id"]) for other in others]
    for other, blocker in blockers:
        _wait_until_running(other, blocker)
    with app.app_context():
        waiting = submit_job(store_for(analyst.tenant_id), analyst, "self_test", {"seconds": 0})
    assert waiting.task_id, "the job should have gone to the broker"

    assert api.post(f"/api/v1/jobs/{waiting.id}/cancel").status_code == 200
    for other, blocker in blockers:
        other.post(f"/api/v1/jobs/{blocker}/cancel")

    def dropped():
        with app.app_context():
            client = get_redis()
        anywhere = queued_task_ids(client) | unacked_task_ids(client)
        return waiting.task_id not in anywhere | tasks_held_by_workers([waiting.task_id])

    wait_for(dropped, "the worker to take and drop the cancelled message")
    row = job_row(waiting.id)
    assert (row.status, row.attempts, row.started_at) == ("cancelled", 0, None)


class TestRoles:
    def test_viewer_reads_jobs_but_cannot_submit_or_cancel(self, app, api_as, make_tenant,
                                                          make_user, make_job):
        tenant = make_tenant()
        analyst = make_user(tenant=tenant, role="analyst")
        viewer = make_user(tenant=tenant, role="viewer")
        job = make_job(analyst, status="queued")
        api = api_as(viewer)

        listed = api.get("/api/v1/jobs")
        assert listed.status_code == 200
        assert [row["id"] for row in listed.get_json()["jobs"]] == [job.id]
        assert api.get(f"/api/v1/jobs/{job.id}").status_code == 200
        submitted = api.post("/api/v1/jobs", json={"kind": "self_test"})
        assert submitted.status_code == 403
        assert submitted.get_json() == {"error": "this action needs the analyst role"}
        cancelled = api.post(f"/api/v1/jobs/{job.id}/cancel")
        assert cancelled.status_code == 403
        assert "error" in cancelled.get_json()

    def test_analyst_submits_and_cancels_own_job(self, app, api_as, make_user, make_job):
        analyst = make_user(role="analyst")
        own = make_job(analyst, status="queued")

        response = api_as(analyst).post(f"/api/v1/jobs/{own.id}/cancel")

        assert response.status_code == 200
        assert response.get_json()["status"] == "cancelled"

    def test_analyst_cannot_cancel_another_users_job(self, app, api_as, make_tenant, make_user,
                                                     make_job):
        tenant = make_tenant()
        analyst = make_user(tenant=tenant, role="analyst")
        colleague = make_user(tenant=tenant, role="analyst")
        theirs = make_job(colleague, status="running")

        response = api_as(analyst).post(f"/api/v1/jobs/{theirs.id}/cancel")

        assert response.status_code == 403
        assert response.get_json() == {"error": "analysts may cancel only their own jobs"}

    def test_admin_cancels_any_job_of_the_tenant(self, app, api_as, make_tenant, make_user,
                                                 make_job, job_row):
        tenant = make_tenant()
        analyst = make_user(tenant=tenant, role="analyst")
        admin = make_user(tenant=tenant, role="admin")
        theirs = make_job(analyst, status="queued")

        response = api_as(admin).post(f"/api/v1/jobs/{theirs.id}/cancel")

        assert response.status_code == 200
        assert job_row(theirs.id).status == "cancelled"

    def test_analyst_signed_in_by_cookie_submits_a_job(self, app, client, auth, make_user,
                                                      job_row):
        analyst = make_user(role="analyst")
        auth.login(analyst)

        response = client.post("/api/v1/jobs", json={"kind": "self_test", "params": {"seconds": 0}})

        assert response.status_code == 202
        row = job_row(response.get_json()["id"])
        assert (row.user_id, row.tenant_id) == (analyst.id, analyst.tenant_id)
        client.post(f"/api/v1/jobs/{row.id}/cancel")


def test_another_tenants_job_is_not_found_by_id_list_or_cancel(app, api_as, make_user, make_job,
                                                               tenant_a, tenant_b, job_row):
    canary = make_job(make_user(tenant=tenant_a, role="analyst"), status="running")
    api = api_as(make_user(tenant=tenant_b, role="admin"))

    by_id = api.get(f"/api/v1/jobs/{canary.id}")
    listed = api.get("/api/v1/jobs").get_json()
    cancelled = api.post(f"/api/v1/jobs/{canary.id}/cancel")

    assert by_id.status_code == 404
    assert by_id.get_json() == {"error": f"job {canary.id!r} not found"}
    assert listed == {"jobs": [], "total": 0}
    assert cancelled.status_code == 404
    assert job_row(canary.id).status == "running"


class TestListing:
    def test_lists_filter_by_status_and_kind_and_page_with_a_total(self, app, api_as, make_user,
                                                                   make_job):
        analyst = make_user(role="analyst")
        for index in range(5):
            make_job(analyst, kind="self_test" if index % 2 else "demo",
                     status="succeeded" if index < 3 else "failed", progress=float(index))
        api = api_as(analyst)

        page = api.get("/api/v1/jobs?limit=2&offset=1&sort=progress").get_json()
        failed = api.get("/api/v1/jobs?status=failed").get_json()
        demos = api.get("/api/v1/jobs?kind=demo&sort=-progress").get_json()

        assert page["total"] == 5
        assert [job["progress"] for job in page["jobs"]] == [1.0, 2.0]
        assert failed["total"] == 2
        assert {job["status"] for job in failed["jobs"]} == {"failed"}
        assert [job["progress"] for job in demos["jobs"]] == [4.0, 2.0, 0.0]

    def test_job_ids_are_opaque_and_internals_stay_hidden(self, app, api_as, make_user, make_job):
        analyst = make_user(role="analyst")
        job = make_job(analyst, status="queued", task_id="internal-task-id")

        shown = api_as(analyst).get(f"/api/v1/jobs/{job.id}").get_json()

        assert isinstance(shown["id"], str) and not shown["id"].isdigit()
        assert "task_id" not in shown and "tenant_id" not in shown


class TestErrors:
    @pytest.mark.parametrize(("query", "message"), [
        ("sort=password", "cannot sort by 'password'"),
        ("sort=-", "cannot sort by ''"),
        ("limit=0", "limit must be from 1 to 1000"),
        ("limit=1001", "limit must be from 1 to 1000"),
        ("limit=ten", "limit must be a whole number"),
        ("offset=-1", "offset must be 0 or more"),
        ("status=done", "status must be one of"),
    ])
    def test_bad_list_parameters_answer_400_json(self, app, api_as, make_user, query, message):
        response = api_as(make_user()).get(f"/api/v1/jobs?{query}")

        assert response.status_code == 400
        assert response.get_json()["error"].startswith(message)

    @pytest.mark.parametrize(("body", "message"), [
        ({"kind": "train"}, "kind must be one of: demo, self_test"),
        ({}, "kind must be one of: demo, self_test"),
        ({"kind": "demo", "params": {"customers": 0}}, "customers must be a whole number"),
        ({"kind": "demo", "params": {"colour": "red"}}, "unknown demo parameter(s): colour"),
        ({"kind": "self_test", "params": {"seconds": "soon"}}, "seconds must be a number"),
        ({"kind": "self_test", "params": [1]}, "params must be a JSON object"),
    ])
    def test_bad_submissions_answer_400_json(self, app, api_as, make_user, body, message):
        response = api_as(make_user(role="analyst")).post("/api/v1/jobs", json=body)

        assert response.status_code == 400
        assert response.get_json()["error"].startswith(message)

    def test_a_body_that_is_not_a_json_object_answers_400(self, app, api_as, make_user):
        api = api_as(make_user(role="analyst"))

        response = api.client.post("/api/v1/jobs", data="kind=demo", headers=api.headers)

        assert response.status_code == 400
        assert "JSON object" in response.get_json()["error"]

    def test_unknown_job_and_unknown_route_answer_404_json(self, app, api_as, make_user):
        api = api_as(make_user())

        assert api.get("/api/v1/jobs/no-such-job").get_json() == {
            "error": "job 'no-such-job' not found"}
        unknown = api.get("/api/v1/no-such-thing")
        assert unknown.status_code == 404
        assert unknown.get_json() == {"error": "not found"}

    def test_wrong_method_answers_405_json(self, app, api_as, make_user, make_job):
        user = make_user()
        job = make_job(user)

        response = api_as(user).delete(f"/api/v1/jobs/{job.id}")

        assert response.status_code == 405
        assert response.get_json() == {"error": "method not allowed"}
        assert "GET" in response.headers["Allow"]

    def test_anonymous_requests_answer_401_json(self, app, client):
        response = client.get("/api/v1/jobs")

        assert response.status_code == 401
        assert response.get_json() == {"error": "authentication required"}

    def test_submitting_while_redis_is_down_answers_503_and_fails_the_job(
            self, app_config, make_user, job_row):
        from sqlalchemy import select

        from dashboard import accounts, create_app
        from dashboard.database import db
        from dashboard.redis_server import free_port
        from dashboard.schema import Job
        from tests.integration.conftest import ApiClient

        user = make_user(role="analyst")
        _, token = accounts.create_token(db.session(), user.email, "tests")
        down = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
        api = ApiClient(down.test_client(), token)

        response = api.post("/api/v1/jobs", json={"kind": "self_test"})

        assert response.status_code == 503
        assert response.get_json() == {
            "error": "the task queue is unavailable; try again shortly"}
        job = job_row(db.session.scalar(select(Job.id).where(Job.user_id == user.id)))
        assert job.status == "failed"
        assert job.error == "The job could not be queued because the task queue is unavailable"

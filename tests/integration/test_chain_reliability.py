"""Chain jobs against real worker processes that die: a pool process SIGKILLed in a step,
the whole worker SIGKILLed, Redis restarted under queued jobs; and the database's own
guarantee of one champion per kind.

Each test has a Redis of its own (no worker of the session consumes it) and starts its
workers as `celery -A workers.entry worker --pool prefork -c 1` subprocesses."""

from __future__ import annotations

import functools
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.integration.conftest import ApiClient, wait_for
from tests.integration.worker_process import WorkerProcess

pytestmark = pytest.mark.integration

GRACE_SECONDS = 2
CRASHED = "The job crashed its worker 3 times; it was not run again"
STEP_SECONDS = 45


@functools.cache
def sales_csv(customers: int = 1500, seed: int = 5) -> bytes:
    """Generated transactions, enough for training to take a few seconds."""
    from models.synthetic import generate_transactions

    frame = generate_transactions(customers, seed=seed)
    return frame.to_csv(index=False, date_format="%Y-%m-%d").encode()


@pytest.fixture
def own_redis(tmp_path):
    from dashboard.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def bound_config(app, app_config, own_redis):
    return {**app_config, "REDIS_URL": own_redis.url, "REAPER_GRACE_SECONDS": GRACE_SECONDS}


@pytest.fixture
def bound_app(bound_config):
    """The app on the test's own Redis, with a short reaper grace."""
    from dashboard import create_app

    bound = create_app(bound_config)
    with bound.app_context():
        yield bound


@pytest.fixture
def start_worker(bound_app, bound_config, tmp_path):
    """`start_worker()`: a new worker subprocess; every one is stopped after the test."""
    started = []
    pause_dir = tmp_path / "pause"
    pause_dir.mkdir()

    def start() -> WorkerProcess:
        worker = WorkerProcess(bound_config, tmp_path, pause_dir).start()
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def api_for(app, user) -> ApiClient:
    from dashboard import accounts
    from dashboard.database import db

    _, plain = accounts.create_token(db.session(), user.email, "tests")
    return ApiClient(app.test_client(), plain)


def upload(api, body: bytes) -> str:
    # Encoded here, so the test client keeps the body in memory instead of a temporary file.
    boundary, form = encode_multipart({"file": FileStorage(io.BytesIO(body), "sales.csv")})
    response = api.client.post("/api/v1/datasets", headers=api.headers, data=form,
                               content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 202, response.get_json()
    return response.get_json()["job_id"]


def rows(model, *where) -> list:
    """The rows as the database has them now."""
    from dashboard.database import db

    db.session.expire_all()
    found = db.session.scalars(select(model).where(*where)).all()
    db.session.commit()
    return found


def job(job_id: str):
    from dashboard.schema import Job

    return rows(Job, Job.id == job_id)[0]


def steps(job_id: str) -> dict:
    from dashboard.schema import Job

    return {step.kind: step for step in rows(Job, Job.parent_id == job_id)}


def finished(job_id: str, timeout: float = STEP_SECONDS, reaping: bool = False):
    from dashboard.reaper import reap
    from dashboard.schema import FINISHED_JOB_STATES

    def done():
        if reaping:
            reap()
        row = job(job_id)
        return row if row.status in FINISHED_JOB_STATES else None

    return wait_for(done, f"job {job_id} to finish", timeout=timeout, interval=0.2)


def earlier_results(tenant_id: str) -> tuple[str, set[str]]:
    """A live run and champions from an earlier upload (rows only; nothing reads files)."""
    from dashboard.runs import create_run, go_live
    from dashboard.schema import ModelVersion
    from dashboard.store import store_for

    store = store_for(tenant_id)
    run = create_run(store, "an-earlier-job", None, "transactions", 180)
    go_live(store, run)
    champions = [store.add(ModelVersion(kind=kind, candidate="btyd", status="champion"))
                 for kind in ("clv", "churn", "segmentation")]
    store.commit()
    return run.id, {version.id for version in champions}


def outcome(tenant_id: str, job_id: str) -> dict:
    """What the tenant's rows say: live run, champions, and what this job wrote."""
    from dashboard.schema import Dataset, ModelVersion, Run, Tenant

    return {
        "live_run": rows(Tenant, Tenant.id == tenant_id)[0].live_run_id,
        "champions": {v.id for v in rows(ModelVersion, ModelVersion.tenant_id == tenant_id,
                                         ModelVersion.status == "champion")},
        "runs": rows(Run, Run.job_id == job_id),
        "versions": rows(ModelVersion, ModelVersion.job_id == job_id),
        "datasets": rows(Dataset, Dataset.tenant_id == tenant_id),
    }


def test_a_training_that_kills_its_worker_is_run_three_times_then_fails(
        bound_app, start_worker, make_user):
    """Polls the steps until training runs, SIGKILLs the pool process, three times."""
    from workers.progress import MAX_DELIVERIES

    user = make_user(role="analyst")
    live_before, champions_before = earlier_results(user.tenant_id)
    worker = start_worker()
    api = api_for(bound_app, user)
    job_id = upload(api, sales_csv())

    for delivery in range(1, MAX_DELIVERIES + 1):
        wait_for(lambda d=delivery: (lambda s: s.status == "running" and s.attempts == d)(
            steps(job_id)["train"]), f"delivery {delivery} to start training",
            timeout=STEP_SECONDS)
        worker.kill_pool_child()

    failed = finished(job_id)
    assert (failed.status, failed.error, failed.attempts) == ("failed", CRASHED, 3), (
        worker.log_text())
    assert api.get(f"/api/v1/jobs/{job_id}").get_json()["error"] == CRASHED
    chain = steps(job_id)
    assert (chain["ingest"].status, chain["ingest"].attempts) == ("succeeded", 1)
    assert chain["train"].attempts == MAX_DELIVERIES
    assert [chain[k].attempts for k in ("score", "explain")] == [0, 0]
    assert all(step.status in ("failed", "cancelled") for k, step in chain.items()
               if k != "ingest")
    after = outcome(user.tenant_id, job_id)
    assert (after["live_run"], after["champions"]) == (live_before, champions_before)
    assert after["runs"] == [] and after["versions"] == []
    assert [d.status for d in after["datasets"]] == ["ready"]


def test_a_redelivered_chain_resumes_after_its_last_finished_step_and_writes_each_row_once(
        bound_app, start_worker, make_user, tmp_path):
    """Kills the pool process once with the model versions committed and once with the
    run live, each before its step was marked done: the third delivery finishes."""
    user = make_user(role="analyst")
    for point in ("trained", "live"):
        (tmp_path / "pause" / point).touch()
    worker = start_worker()
    job_id = upload(api_for(bound_app, user), sales_csv())

    def reached(point):
        path = tmp_path / "pause" / f"{point}.reached"
        try:
            return wait_for(lambda: path.exists() and path.read_text(),
                            f"the chain to pause after {point}", timeout=STEP_SECONDS)
        except AssertionError as exc:
            states = {kind: (s.status, s.attempts, s.message) for kind, s in steps(job_id).items()}
            raise AssertionError(f"{exc}; steps: {states}") from None

    worker.kill_pool_child(int(reached("trained")))
    assert len(outcome(user.tenant_id, job_id)["versions"]) == 3
    worker.kill_pool_child(int(reached("live")))
    assert outcome(user.tenant_id, job_id)["live_run"] is not None

    done = finished(job_id)
    assert (done.status, done.attempts) == ("succeeded", 3), (done.error, worker.log_text())
    assert {kind: step.attempts for kind, step in steps(job_id).items()} == {
        "ingest": 1, "train": 2, "score": 2, "explain": 1}
    after = outcome(user.tenant_id, job_id)
    [run] = after["runs"]
    assert (after["live_run"], run.status) == (run.id, "live")
    assert run.explained_at is not None
    assert sorted(v.kind for v in after["versions"]) == ["churn", "clv", "segmentation"]
    assert after["champions"] == {v.id for v in after["versions"]}
    [dataset] = after["datasets"]
    assert (dataset.status, dataset.job_id) == ("ready", job_id)
    # The retried training did not judge the data against its own first attempt's models.
    assert dataset.drift is None

"""Fixtures and helpers of the reliability tests: a Redis of the test's own, the app bound
to it with a short reaper grace, worker subprocesses, uploads, and the rows as they are."""

from __future__ import annotations

import functools
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.integration.conftest import ApiClient, wait_for
from tests.integration.worker_process import WorkerProcess

GRACE_SECONDS = 2
STEP_SECONDS = 90


@functools.cache
def sales_csv(customers: int = 1000, seed: int = 5) -> bytes:
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

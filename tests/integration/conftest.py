"""Fixtures for the job system: API clients signed in by token, job rows, and polling with a
timeout. The real Celery worker (`celery_worker`) lives in tests/conftest.py, shared with
the browser tests, so a session runs one worker whatever directories it collects."""

from __future__ import annotations

import time

import pytest

WAIT_SECONDS = 60


def wait_for(predicate, what: str, timeout: float = WAIT_SECONDS, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def other_redis_db(redis_url: str, db: int) -> str:
    """The same Redis server, another database: no worker of the session listens there."""
    return f"{redis_url.rsplit('/', 1)[0]}/{db}"


class ApiClient:
    """A test client that sends one user's API token with every request."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(path, headers=self.headers, json=json, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(path, headers=self.headers, **kwargs)


@pytest.fixture
def api_as(app):
    """`api_as(user)`: an API client signed in as `user` through a real API token."""
    from dashboard import accounts
    from dashboard.database import db

    def make(user) -> ApiClient:
        _, plain = accounts.create_token(db.session(), user.email, "tests")
        return ApiClient(app.test_client(), plain)

    return make


@pytest.fixture
def make_job(app):
    """`make_job(user, **columns)`: a job row written directly (no message is enqueued),
    returned as a detached snapshot; read the current row with `job_row`."""
    from dashboard.database import db
    from dashboard.schema import Job

    def make(user, kind: str = "self_test", **columns) -> Job:
        job = Job(tenant_id=user.tenant_id, user_id=user.id, kind=kind, **columns)
        db.session.add(job)
        db.session.commit()
        db.session.expunge(job)
        return job

    return make


@pytest.fixture
def job_row(app):
    """`job_row(job_id)`: the job as the database has it now."""
    from dashboard.database import db
    from dashboard.schema import Job

    def read(job_id: str) -> Job:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.commit()
        return job

    return read

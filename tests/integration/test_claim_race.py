"""A cancel always wins: a worker's claim and a user's cancel race, and a job whose cancel
was answered never becomes `running` again. Raced hundreds of times on each database."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.integration

ROUNDS = 200
# The claiming thread waits this long before each write, like a busy database would: a
# claim that reads first and writes later then leaves the cancel a window to slip into.
CLAIM_WRITE_DELAY = 0.003
_claiming = threading.local()


def _slow_claim_writes(conn, cursor, statement, *_args):
    if getattr(_claiming, "active", False) and statement.lstrip().upper().startswith("UPDATE"):
        time.sleep(CLAIM_WRITE_DELAY)


@pytest.fixture(params=["configured", "sqlite"])
def race_app(request, app_config, tmp_path):
    """The app on the suite's database (PostgreSQL in CI) and on an SQLite file."""
    from dashboard import create_app
    from dashboard.database import db
    from dashboard.migrate import upgrade

    config = dict(app_config)
    if request.param == "sqlite":
        config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'race.db'}"
        upgrade(config["DATABASE_URL"])
    app = create_app(config)
    yield app
    db.session.remove()
    if request.param == "sqlite":
        create_app(app_config)  # back to the suite's database for the fixtures' clean-up


def _race(app, user, job_id: str) -> tuple[bool, bool]:
    from dashboard.jobs import JobNotCancellable, cancel_job
    from dashboard.store import store_for
    from workers.progress import _start

    barrier = threading.Barrier(2)
    outcome = {}

    def cancel():
        with app.app_context():
            barrier.wait()
            try:
                cancel_job(store_for(user.tenant_id), user, job_id)
                outcome["cancelled"] = True
            except JobNotCancellable:
                outcome["cancelled"] = False
            except Exception as exc:  # surfaced below, with its traceback
                outcome["error"] = exc

    def claim():
        with app.app_context():
            barrier.wait()
            _claiming.active = True
            try:
                outcome["claimed"] = _start(job_id) is not None
            except Exception as exc:
                outcome["error"] = exc
            finally:
                _claiming.active = False

    threads = [threading.Thread(target=cancel), threading.Thread(target=claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["cancelled"], outcome["claimed"]


def test_a_cancelled_job_never_becomes_running(race_app, make_user):
    from sqlalchemy import event

    from dashboard.database import db
    from dashboard.schema import Job

    event.listen(db.engine, "before_cursor_execute", _slow_claim_writes)
    with race_app.app_context():
        row = make_user(role="admin")
        # What flask-login hands the service for a signed-in admin.
        user = SimpleNamespace(id=row.id, tenant_id=row.tenant_id, role="admin", active=True,
                               is_authenticated=True)
        outcomes = set()
        for _ in range(ROUNDS):
            job = Job(tenant_id=user.tenant_id, user_id=user.id, kind="self_test",
                      status="queued", task_id="race")
            db.session.add(job)
            db.session.commit()
            cancelled, claimed = _race(race_app, user, job.id)
            db.session.expire_all()
            final = db.session.get(Job, job.id).status
            db.session.commit()
            outcomes.add((cancelled, claimed))

            assert cancelled or claimed
            if cancelled:
                assert final == "cancelled", "a cancelled job was claimed afterwards"
            else:
                assert final == "running"

    event.remove(db.engine, "before_cursor_execute", _slow_claim_writes)
    # Both orders happened at least once, or the race proved nothing.
    assert (True, False) in outcomes

"""Jobs queued across a Redis restart, and the database's own guarantee of one champion per
kind and tenant.

The restart tests run a Redis of their own (the suite's is shared by the session) with
its append-only file, as the product runs it, and a worker subprocess that starts only
after the restart."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

pytest.register_assert_rewrite("tests.integration.reliability")
from tests.integration.reliability import GRACE_SECONDS, finished  # noqa: E402

# The fixtures own_redis, bound_config, bound_app and start_worker.
pytest_plugins = ["tests.integration.reliability"]
pytestmark = pytest.mark.integration


def submit(user) -> str:
    from dashboard.jobs import submit_job
    from dashboard.store import store_for

    return submit_job(store_for(user.tenant_id), user, "self_test", {"seconds": 0}).id


@pytest.mark.parametrize("restart", ["with-its-data", "without-its-data"])
def test_jobs_queued_across_a_redis_restart_end_succeeded_or_failed_with_a_message(
        bound_app, own_redis, start_worker, make_user, tmp_path, restart):
    """Two tenants: one with a job sent to the broker and two waiting their turn in the
    database, one with a job sent. Redis restarts before any worker runs; a job is
    submitted after the restart; then a worker starts and the reaper makes its passes."""
    from dashboard.reaper import MESSAGE_LOST, queued_task_ids
    from dashboard.redis_conn import get_redis

    busy, other = make_user(role="analyst"), make_user(role="analyst")
    sent, *waiting = [submit(busy) for _ in range(3)]
    sent_too = submit(other)
    assert len(queued_task_ids(get_redis())) == 2

    own_redis.stop()
    if restart == "without-its-data":
        own_redis.directory = tmp_path / "fresh-redis"
    own_redis.start()
    kept = len(queued_task_ids(get_redis()))
    later = submit(other)
    worker = start_worker()
    ends = {job_id: finished(job_id, reaping=True, timeout=GRACE_SECONDS + 45)
            for job_id in [sent, sent_too, *waiting, later]}

    lost = restart == "without-its-data"
    assert kept == (0 if lost else 2)
    expected = ("failed", MESSAGE_LOST) if lost else ("succeeded", None)
    assert [(ends[j].status, ends[j].error) for j in (sent, sent_too)] == [expected] * 2, (
        worker.log_text())
    assert [(ends[j].status, ends[j].attempts) for j in (*waiting, later)] == [
        ("succeeded", 1)] * 3


@pytest.fixture(params=["suite", "sqlite"])
def any_database(request, database_url, tmp_path):
    """The suite's database (PostgreSQL when it answers, as in CI) and a fresh SQLite one,
    both at the latest migration."""
    from dashboard.migrate import upgrade

    url = database_url
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'champions.db'}"
        upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def test_the_database_refuses_a_second_champion_of_a_kind_for_one_tenant(app, any_database):
    from dashboard import accounts
    from dashboard.schema import ModelVersion

    session = any_database
    first, other = (accounts.create_tenant(session, slug, slug.title())
                    for slug in ("champion-one", "champion-two"))

    def version(tenant, kind="clv", status="champion"):
        row = ModelVersion(tenant_id=tenant.id, kind=kind, candidate="btyd", status=status)
        session.add(row)
        session.commit()
        return row

    version(first)
    version(first, kind="churn")
    version(other)
    version(first, status="archived")
    candidate = version(first, status="candidate")

    with pytest.raises(IntegrityError):
        version(first)
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(update(ModelVersion).where(ModelVersion.id == candidate.id)
                        .values(status="champion"))
        session.commit()
    session.rollback()
    champions = session.query(ModelVersion).filter_by(tenant_id=first.id, kind="clv",
                                                      status="champion").count()
    assert champions == 1

"""The reaper against real Redis: lost workers and lost queued messages become failed jobs.

Most tests run on a Redis database of their own, where no worker of the session listens, so
queued messages stay where the test put them.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dashboard.reaper import MESSAGE_LOST, WORKER_LOST, reap
from tests.integration.conftest import other_redis_db, wait_for

pytestmark = pytest.mark.integration

REAPER_DB = 7


@pytest.fixture
def quiet_app(app_config, app):
    """The app on a Redis database without workers, emptied for each test."""
    from dashboard import create_app
    from dashboard.redis_conn import get_redis

    quiet = create_app({**app_config, "REDIS_URL": other_redis_db(app_config["REDIS_URL"],
                                                                   REAPER_DB)})
    with quiet.app_context():
        get_redis().flushdb()
        yield quiet


def _later(app, extra_seconds: int = 1):
    from dashboard.schema import utcnow

    return utcnow() + timedelta(seconds=app.config["REAPER_GRACE_SECONDS"] + extra_seconds)


def _submit(user, **params):
    from dashboard.jobs import submit_job
    from dashboard.store import store_for

    return submit_job(store_for(user.tenant_id), user, "self_test", params)


def test_a_running_job_whose_worker_is_gone_fails_with_a_message(quiet_app, make_user, make_job,
                                                                 job_row):
    from dashboard.schema import utcnow

    job = make_job(make_user(), status="running", task_id="task-of-a-dead-worker",
                   started_at=utcnow(), heartbeat_at=utcnow(), attempts=1)

    assert reap(now=_later(quiet_app)) == [job.id]

    row = job_row(job.id)
    assert (row.status, row.error) == ("failed", WORKER_LOST)
    assert row.finished_at is not None


def test_a_running_job_with_a_recent_heartbeat_is_left_alone(quiet_app, make_user, make_job,
                                                             job_row):
    from dashboard.schema import utcnow

    job = make_job(make_user(), status="running", task_id="busy", heartbeat_at=utcnow())

    assert reap() == []
    assert job_row(job.id).status == "running"


def test_a_running_job_whose_message_went_back_to_the_queue_waits_for_its_redelivery(
        quiet_app, make_user, job_row):
    from dashboard.database import db
    from dashboard.schema import utcnow

    # A crashed worker's task, requeued by reject_on_worker_lost: the row still says running.
    job = _submit(make_user(role="analyst"))
    job.status, job.attempts, job.heartbeat_at = "running", 1, utcnow()
    db.session.commit()

    assert reap(now=_later(quiet_app)) == []
    assert job_row(job.id).status == "running"


def test_a_queued_job_whose_message_was_deleted_from_redis_fails(quiet_app, make_user, job_row):
    from dashboard.redis_conn import get_redis

    job = _submit(make_user(role="analyst"))
    get_redis().delete("celery")  # what a Redis restart without its data leaves behind

    assert reap(now=_later(quiet_app)) == [job.id]
    row = job_row(job.id)
    assert (row.status, row.error) == ("failed", MESSAGE_LOST)


def test_a_queued_job_whose_message_is_still_in_redis_is_untouched(quiet_app, make_user,
                                                                    job_row):
    job = _submit(make_user(role="analyst"))

    assert reap(now=_later(quiet_app)) == []
    assert job_row(job.id).status == "queued"


def test_a_queued_job_delivered_but_not_yet_acknowledged_is_untouched(quiet_app, make_user,
                                                                      job_row):
    from dashboard.redis_conn import get_redis

    job = _submit(make_user(role="analyst"))
    client = get_redis()
    # What the Redis transport does when a worker takes a message with acks_late.
    raw = client.rpop("celery")
    client.hset("unacked", "delivery-tag-1", json.dumps([json.loads(raw), "", "celery"]))

    assert reap(now=_later(quiet_app)) == []
    assert job_row(job.id).status == "queued"


def test_a_fresh_queued_job_is_not_judged_before_the_grace(quiet_app, make_user, job_row):
    from dashboard.redis_conn import get_redis

    job = _submit(make_user(role="analyst"))
    get_redis().delete("celery")

    assert reap() == []
    assert job_row(job.id).status == "queued"


def test_nothing_changes_while_redis_cannot_be_reached(app_config, app, make_user, make_job,
                                                       job_row):
    from dashboard import create_app
    from dashboard.redis_server import free_port
    from dashboard.schema import utcnow

    down = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    job = make_job(make_user(), status="running", task_id="t", heartbeat_at=utcnow())

    with down.app_context():
        assert reap(now=_later(down)) == []

    assert job_row(job.id).status == "running"


def test_a_job_a_live_worker_is_running_is_not_reaped_even_with_a_stale_heartbeat(
        celery_worker, app, api_as, make_user, job_row):
    user = make_user(role="analyst")
    api = api_as(user)
    with app.app_context():
        job_id = _submit(user, seconds=120).id
        wait_for(lambda: job_row(job_id).status == "running", "the job to start")

        assert reap(now=_later(app, extra_seconds=3600)) == []

    assert job_row(job_id).status == "running"
    assert api.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200


def test_the_periodic_reaper_task_runs_in_the_worker(celery_worker, app, make_user, make_job,
                                                     job_row):
    from dashboard.schema import utcnow
    from workers.celery_app import load_tasks
    from workers.tasks.maintenance import reap_jobs

    celery = load_tasks()

    stale = utcnow() - timedelta(seconds=app.config["REAPER_GRACE_SECONDS"] + 60)
    job = make_job(make_user(), status="running", task_id="gone", heartbeat_at=stale)

    assert reap_jobs.delay().get(timeout=60) == [job.id]
    assert job_row(job.id).error == WORKER_LOST
    schedule = celery.conf.beat_schedule["reap-lost-jobs"]
    assert schedule["task"] == reap_jobs.name

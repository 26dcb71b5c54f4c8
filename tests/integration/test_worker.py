"""The progress helper in-process against the real database, and a real prefork worker
process that a task kills."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.integration.conftest import wait_for
from workers.progress import MAX_DELIVERIES, JobError, run_job

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """Work that records what the helper let it do."""

    def __init__(self, body=None) -> None:
        self.calls = 0
        self.body = body

    def __call__(self, context):
        self.calls += 1
        return self.body(context) if self.body else {"ok": True}


def test_a_job_runs_once_and_records_start_progress_and_result(app, make_user, make_job,
                                                                job_row):
    job = make_job(make_user(role="analyst"), status="queued")
    seen = []

    def work(context):
        context.progress(40, "Halfway")
        row = job_row(job.id)
        seen.append((row.status, row.progress, row.message, row.heartbeat_at >= row.started_at))
        return {"answer": 42}

    with app.app_context():
        status = run_job(job.id, work)

    after = job_row(job.id)
    assert status == "succeeded"
    assert seen == [("running", 40.0, "Halfway", True)]
    assert (after.status, after.progress, after.result, after.attempts) == (
        "succeeded", 100.0, {"answer": 42}, 1)
    assert after.message == "Done"
    assert after.finished_at >= after.started_at


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_a_finished_job_is_not_run_again(app, make_user, make_job, job_row, status):
    job = make_job(make_user(), status=status, attempts=1)
    work = Recorder()

    with app.app_context():
        assert run_job(job.id, work) == status

    assert work.calls == 0
    assert job_row(job.id).attempts == 1


def test_a_job_that_crashed_its_worker_three_times_fails_without_running(app, make_user,
                                                                          make_job, job_row):
    job = make_job(make_user(), status="running", attempts=MAX_DELIVERIES)
    work = Recorder()

    with app.app_context():
        assert run_job(job.id, work) == "failed"

    row = job_row(job.id)
    assert work.calls == 0
    assert row.error == "The job crashed its worker 3 times; it was not run again"
    assert row.attempts == MAX_DELIVERIES
    assert row.finished_at is not None


def test_a_redelivered_job_runs_again_and_counts_the_attempt(app, make_user, make_job, job_row):
    job = make_job(make_user(), status="running", attempts=1)

    with app.app_context():
        assert run_job(job.id, Recorder()) == "succeeded"

    assert job_row(job.id).attempts == 2


def test_a_job_error_becomes_the_jobs_error_as_written(app, make_user, make_job, job_row):
    job = make_job(make_user())

    def work(context):
        raise JobError("Column 'amount' is missing in row 1")

    with app.app_context():
        assert run_job(job.id, work) == "failed"

    assert job_row(job.id).error == "Column 'amount' is missing in row 1"


def test_an_unexpected_exception_becomes_one_readable_line(app, make_user, make_job, job_row,
                                                           caplog):
    job = make_job(make_user())

    def work(context):
        {}["customer_id"]

    with app.app_context():
        assert run_job(job.id, work) == "failed"

    row = job_row(job.id)
    assert row.error == "Unexpected error (KeyError): 'customer_id'"
    assert "Traceback" in caplog.text, "the traceback belongs in the log"


def test_work_stops_at_the_next_progress_update_after_a_cancel(app, make_user, make_job,
                                                               job_row):
    from dashboard.database import db
    from dashboard.schema import Job

    job = make_job(make_user())
    steps = []

    def work(context):
        context.progress(10, "Step 1")
        steps.append(1)
        db.session.get(Job, job.id).status = "cancelled"
        db.session.commit()
        context.progress(20, "Step 2")
        steps.append(2)

    with app.app_context():
        assert run_job(job.id, work) == "cancelled"

    row = job_row(job.id)
    assert steps == [1]
    assert (row.status, row.progress, row.message) == ("cancelled", 10.0, "Step 1")


def test_a_step_reports_progress_within_its_share_of_the_job(app, make_user, make_job, job_row):
    job = make_job(make_user())
    reported = []

    def work(context):
        step = context.scaled(50, 70)
        step(50, "Scoring")
        reported.append(job_row(job.id).progress)
        step(150, "Scoring")
        reported.append(job_row(job.id).progress)

    with app.app_context():
        run_job(job.id, work)

    assert reported == [60.0, 70.0]


def test_a_missing_job_is_skipped(app):
    work = Recorder()

    with app.app_context():
        assert run_job("no-such-job", work) == "missing"

    assert work.calls == 0


@pytest.fixture
def worker_settings():
    """Extra environment for the `crash_worker` process (override in a test module)."""
    return {}


@pytest.fixture
def crash_worker(app_config, tmp_path, worker_settings):
    """A real `celery -A workers.entry worker --pool prefork -c 1` process that also imports
    the test-only crashing tasks and consumes only their queue."""
    from tests.integration.crashing_tasks import CRASH_QUEUE

    env = {
        **os.environ,
        "DATABASE_URL": app_config["DATABASE_URL"],
        "REDIS_URL": app_config["REDIS_URL"],
        "DATA_DIR": app_config["DATA_DIR"],
        "SECRET_KEY": TEST_SECRET_KEY,
        **worker_settings,
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.entry", "worker", "--pool", "prefork",
         "--concurrency", "1", "--queues", CRASH_QUEUE, "--hostname", f"crash-{os.getpid()}@%h",
         "--include", "tests.integration.crashing_tasks", "--loglevel", "INFO",
         "--logfile", str(log), "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    yield log
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_a_task_that_kills_its_worker_is_delivered_three_times_then_fails(
        app, crash_worker, make_user, job_row):
    """Real prefork worker process; takes about 10 s (three child crashes and restarts)."""
    from dashboard.jobs import submit_job
    from dashboard.store import store_for
    from tests.integration import crashing_tasks  # noqa: F401  (registers the job kind)

    user = make_user(role="analyst")
    with app.app_context():
        job = submit_job(store_for(user.tenant_id), user, "crash_worker")

    failed = wait_for(lambda: (row := job_row(job.id)).status == "failed" and row,
                      "the crashing job to fail", timeout=120, interval=0.2)

    assert failed.error == "The job crashed its worker 3 times; it was not run again", (
        crash_worker.read_text())
    assert failed.attempts == MAX_DELIVERIES


TIME_LIMITS = {"TASK_TIME_LIMIT": 3, "TASK_SOFT_TIME_LIMIT": 1}


@pytest.mark.parametrize("worker_settings", [{key: str(value) for key, value in TIME_LIMITS.items()}])
def test_a_job_past_the_hard_time_limit_fails_with_that_reason(
        app_config, crash_worker, make_user, job_row):
    """Real prefork worker process (hard limit 3 s); the job ignores the soft limit."""
    from dashboard import create_app
    from dashboard.jobs import submit_job
    from dashboard.store import store_for
    from tests.integration import crashing_tasks  # noqa: F401  (registers the job kind)

    user = make_user(role="analyst")
    # The limits travel in the task message, so the sender is configured like the worker.
    with create_app({**app_config, **TIME_LIMITS}).app_context():
        job = submit_job(store_for(user.tenant_id), user, "block_worker", {"seconds": 60})

    failed = wait_for(lambda: (row := job_row(job.id)).status == "failed" and row,
                      "the blocked job to fail", timeout=60, interval=0.2)

    assert failed.error == "The job ran past its time limit of 3 s and was stopped", (
        crash_worker.read_text())
    assert failed.attempts == 1

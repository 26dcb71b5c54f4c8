"""Chain jobs against real worker processes that die: the pool process SIGKILLed inside a
step, or the whole worker SIGKILLed while a chain runs.

Each test has a Redis of its own (no worker of the session consumes it) and starts its
workers as `celery -A workers.entry worker --pool prefork -c 1` subprocesses
(`tests/integration/worker_process.py`)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import wait_for

pytest.register_assert_rewrite("tests.integration.reliability")
from tests.integration.reliability import (  # noqa: E402
    GRACE_SECONDS,
    STEP_SECONDS,
    api_for,
    finished,
    job,
    rows,
    sales_csv,
    steps,
    upload,
)

# The fixtures own_redis, bound_config, bound_app and start_worker.
pytest_plugins = ["tests.integration.reliability"]
pytestmark = pytest.mark.integration

CRASHED = "The job crashed its worker 3 times; it was not run again"


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
    assert (chain["train"].status, chain["train"].message) == (
        "failed", "Its worker crashed on this step every time")
    assert [chain[k].status for k in ("score", "explain")] == ["cancelled", "cancelled"]
    after = outcome(user.tenant_id, job_id)
    assert (after["live_run"], after["champions"]) == (live_before, champions_before)
    assert after["runs"] == [] and after["versions"] == []
    assert [d.status for d in after["datasets"]] == ["ready"]


def test_a_redelivered_chain_resumes_after_its_last_finished_step_and_writes_each_row_once(
        bound_app, start_worker, make_user, tmp_path):
    """Kills the pool process once with the model versions committed and once with the
    run explained and live, each before its step was marked done: the third delivery
    finishes."""
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
        "ingest": 1, "train": 2, "score": 1, "explain": 2}
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


def restore_unacked(redis_url: str) -> None:
    """What the transport does once the visibility timeout of an unacknowledged message
    has passed: put it back in its queue (here at once)."""
    from kombu import Connection

    with Connection(redis_url, transport_options={"visibility_timeout": 0}) as connection:
        connection.default_channel.qos.restore_visible(num=100)


def test_a_chain_whose_whole_worker_was_killed_is_failed_by_the_reaper_and_stays_failed(
        bound_app, bound_config, start_worker, make_user):
    """SIGKILL of the main process and the pool while training runs; a new worker comes up.
    The killed delivery's message stays unacknowledged (until the visibility timeout), so
    it is the reaper that ends the job; the message delivered later changes nothing."""
    from dashboard.queue import workers_answering
    from dashboard.reaper import WORKER_LOST

    user = make_user(role="analyst")
    live_before, champions_before = earlier_results(user.tenant_id)
    first = start_worker()
    job_id = upload(api_for(bound_app, user), sales_csv())
    wait_for(lambda: steps(job_id)["train"].status == "running", "training to start",
             timeout=STEP_SECONDS)
    first.kill()
    assert job(job_id).status == "running"

    second = start_worker()
    wait_for(lambda: workers_answering() > 0, "the new worker to answer", timeout=STEP_SECONDS)
    failed = finished(job_id, reaping=True, timeout=GRACE_SECONDS + 20)

    assert (failed.status, failed.error, failed.attempts) == ("failed", WORKER_LOST, 1), (
        second.log_text())
    chain = steps(job_id)
    assert chain.pop("ingest").status == "succeeded"
    assert {(s.status, s.message) for s in chain.values()} == {
        ("failed", "Not finished: " + WORKER_LOST.lower())}
    after = outcome(user.tenant_id, job_id)
    assert (after["live_run"], after["champions"]) == (live_before, champions_before)
    assert after["runs"] == [] and after["versions"] == []

    restore_unacked(bound_config["REDIS_URL"])
    wait_for(lambda: f"jobs.pipeline[{failed.task_id}] succeeded" in second.log_text(),
             "the old message to be delivered again", timeout=STEP_SECONDS)
    again = job(job_id)
    assert (again.status, again.attempts, again.error) == ("failed", 1, WORKER_LOST)

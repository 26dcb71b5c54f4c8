"""The web process keeps one run per tenant in memory: a newer live run replaces it."""

from __future__ import annotations

import threading
import time

import pytest

from tests.integration.live_run import publish_run

pytestmark = pytest.mark.integration


@pytest.fixture
def counted_reads(monkeypatch) -> list[str]:
    """The ids of the runs this process reads from disk from now on, in order."""
    from dashboard import runs

    reads: list[str] = []

    class CountedRunData(runs.RunData):
        def __init__(self, store, run):
            reads.append(run.id)
            super().__init__(store, run)

    monkeypatch.setattr(runs, "RunData", CountedRunData)
    return reads


def test_a_new_live_run_drops_the_tenants_previous_one_from_the_cache(app, make_tenant):
    from dashboard import runs
    from dashboard.store import store_for

    tenant_id, other_id = make_tenant().id, make_tenant().id
    for tenant in (tenant_id, other_id):
        publish_run(app, tenant, customers=120)
    with app.app_context():
        first = runs.live_run_data(store_for(tenant_id)).run_id
        other = runs.live_run_data(store_for(other_id)).run_id
    publish_run(app, tenant_id, customers=120, seed=2)

    with app.app_context():
        second = runs.live_run_data(store_for(tenant_id)).run_id

    assert second != first
    assert (tenant_id, first) not in runs._CACHE
    assert {(tenant_id, second), (other_id, other)} <= set(runs._CACHE)


def test_requests_arriving_together_after_a_run_goes_live_read_it_once(app, make_tenant,
                                                                        counted_reads):
    from dashboard import runs
    from dashboard.store import store_for

    tenant_id = make_tenant().id
    publish_run(app, tenant_id, customers=120)
    threads = 6
    everyone_asking = threading.Barrier(threads)

    def ask(results: list) -> None:
        with app.app_context():
            everyone_asking.wait(timeout=30)
            results.append(runs.live_run_data(store_for(tenant_id)))

    results: list = []
    workers = [threading.Thread(target=ask, args=(results,)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert len(results) == threads
    assert len({id(data) for data in results}) == 1
    assert len(counted_reads) == 1
    assert runs._LOADING == {}


def wait_until(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_ready_run_is_read_ahead_so_going_live_costs_the_next_request_no_read(
        app, make_tenant, counted_reads):
    from dashboard import customers, runs
    from dashboard.schema import Run
    from dashboard.store import store_for

    tenant_id = make_tenant().id
    first = publish_run(app, tenant_id, customers=120)
    second = publish_run(app, tenant_id, customers=120, seed=2, live=False)
    with app.app_context():
        # While the second run is being explained, pages still get the live one...
        assert runs.live_run_data(store_for(tenant_id)).run_id == first
    # ...and the first request that noticed the ready run started reading it.
    wait_until(lambda: (tenant_id, second) in runs._CACHE and not runs._LOADING,
               "the ready run to be read ahead")
    ahead = runs._CACHE[(tenant_id, second)]
    assert ahead in customers._INDEXES
    assert sorted(counted_reads) == sorted([first, second])

    with app.app_context():
        store = store_for(tenant_id)
        run = store.get(Run, second)
        # The explain step may still add to the small files of a run read ahead.
        added = {**runs.read_json(store, run, runs.AGGREGATES_FILE), "drivers": [{"x": 1}]}
        runs.write_json(store, run, runs.AGGREGATES_FILE, added)
        runs.go_live(store, run)
        served = runs.live_run_data(store_for(tenant_id))

    assert served is ahead and sorted(counted_reads) == sorted([first, second])
    assert served.aggregates["drivers"] == [{"x": 1}]
    assert (tenant_id, first) not in runs._CACHE


def test_an_explain_step_that_fails_never_makes_its_run_live(app, make_tenant):
    from dashboard.schema import Run, Tenant
    from dashboard.store import store_for
    from workers.progress import JobError
    from workers.steps import analysis

    tenant_id = make_tenant().id
    first = publish_run(app, tenant_id, customers=120)
    second = publish_run(app, tenant_id, customers=120, seed=2, live=False)

    class Step:
        """The part of a chain step that explain uses before it fails here."""

        def __init__(self, store):
            self.store = store

    with app.app_context():
        store = store_for(tenant_id)
        # This tenant has no champion models, so explaining fails at its start.
        with pytest.raises(JobError, match="no champion"):
            analysis.explain(Step(store), {"run_id": second})
        store = store_for(tenant_id)
        assert store.session.get(Tenant, tenant_id).live_run_id == first
        assert store.get(Run, second).status == "failed"
        assert store.get(Run, first).status == "live"


def test_a_run_read_ahead_that_then_fails_is_dropped_from_the_cache(app, make_tenant,
                                                                    monkeypatch):
    from dashboard import runs
    from dashboard.schema import Run
    from dashboard.store import store_for

    monkeypatch.setattr(runs, "READY_CHECK_SECONDS", 0.0)
    tenant_id = make_tenant().id
    first = publish_run(app, tenant_id, customers=120)
    second = publish_run(app, tenant_id, customers=120, seed=2, live=False)
    with app.app_context():
        runs.live_run_data(store_for(tenant_id))
    wait_until(lambda: (tenant_id, second) in runs._CACHE and not runs._LOADING,
               "the ready run to be read ahead")

    with app.app_context():
        store = store_for(tenant_id)
        runs.fail_run(store, store.get(Run, second))
        assert runs.live_run_data(store_for(tenant_id)).run_id == first

    assert (tenant_id, second) not in runs._CACHE
    assert (tenant_id, first) in runs._CACHE

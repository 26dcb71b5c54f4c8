"""The web process keeps one run per tenant in memory: a newer live run replaces it."""

from __future__ import annotations

import threading

import pytest

from tests.integration.live_run import publish_run

pytestmark = pytest.mark.integration


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
                                                                        monkeypatch):
    from dashboard import runs
    from dashboard.store import store_for

    tenant_id = make_tenant().id
    publish_run(app, tenant_id, customers=120)
    threads = 6
    everyone_asking = threading.Barrier(threads)
    reads = []

    class CountedRunData(runs.RunData):
        def __init__(self, store, run):
            reads.append(run.id)
            super().__init__(store, run)

    monkeypatch.setattr(runs, "RunData", CountedRunData)

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
    assert len(reads) == 1
    assert runs._LOADING == {}

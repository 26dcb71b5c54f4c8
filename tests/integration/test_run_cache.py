"""The web process keeps one run per tenant in memory: a newer live run replaces it."""

from __future__ import annotations

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

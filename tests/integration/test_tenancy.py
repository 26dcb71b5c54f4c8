"""Tenant scoping in the store, with two tenants and a canary row in tenant A."""

from __future__ import annotations

import pytest
from flask_login import login_user

from dashboard.auth.users import LoginUser
from dashboard.database import db
from dashboard.schema import Dataset, Job
from dashboard.store import NotFound, TenantStore, current_store


@pytest.fixture
def canary(app, tenant_a, tenant_b):
    """A dataset and a job in tenant A; tenant B has one job of its own."""
    store_a = TenantStore(db.session(), tenant_a.id, app.config["DATA_DIR"])
    dataset = store_a.add(Dataset(filename="canary.csv"))
    job = store_a.add(Job(kind="ingest", message="canary"))
    TenantStore(db.session(), tenant_b.id, app.config["DATA_DIR"]).add(Job(kind="train"))
    db.session.commit()
    return dataset, job


def store(app, tenant) -> TenantStore:
    return TenantStore(db.session(), tenant.id, app.config["DATA_DIR"])


def test_the_owner_tenant_finds_its_canary(app, tenant_a, canary):
    dataset, job = canary
    assert store(app, tenant_a).get(Dataset, dataset.id).filename == "canary.csv"
    assert store(app, tenant_a).get(Job, job.id).message == "canary"


def test_another_tenant_gets_not_found_for_the_canary_id(app, tenant_b, canary):
    dataset, job = canary
    with pytest.raises(NotFound):
        store(app, tenant_b).get(Dataset, dataset.id)
    with pytest.raises(NotFound):
        store(app, tenant_b).get(Job, job.id)


def test_lists_and_totals_hold_only_the_tenants_own_rows(app, tenant_a, tenant_b, canary):
    _dataset, job = canary
    jobs_b, total_b = store(app, tenant_b).list(Job)
    assert total_b == 1 and [row.kind for row in jobs_b] == ["train"]
    assert job.id not in {row.id for row in jobs_b}
    assert store(app, tenant_b).list(Dataset) == ([], 0)
    assert store(app, tenant_a).list(Job)[1] == 1


def test_adding_through_a_store_stamps_its_own_tenant(app, tenant_a, tenant_b):
    row = store(app, tenant_b).add(Job(kind="ingest", tenant_id=tenant_a.id))
    db.session.commit()
    assert row.tenant_id == tenant_b.id
    assert store(app, tenant_a).list(Job) == ([], 0)


def test_files_stay_inside_the_tenant_directory(app, tenant_a, tenant_b):
    path_a = store(app, tenant_a).path("uploads", "sales.csv")
    assert tenant_a.id in path_a.parts and tenant_b.id not in path_a.parts
    with pytest.raises(ValueError, match="escapes"):
        store(app, tenant_b).path("..", tenant_a.id, "uploads", "sales.csv")


def test_the_current_store_is_the_signed_in_users_tenant(app, make_user, tenant_a, tenant_b,
                                                         canary):
    dataset, _job = canary
    user_b = make_user(tenant_b)
    with app.test_request_context():
        login_user(LoginUser(user_b))
        scoped = current_store()
        assert scoped.tenant_id == tenant_b.id
        with pytest.raises(NotFound):
            scoped.get(Dataset, dataset.id)


def test_there_is_no_current_store_without_a_signed_in_user(app):
    with app.test_request_context(), pytest.raises(PermissionError):
        current_store()

"""Per-tenant locks on the real Redis."""

from __future__ import annotations

import secrets

import pytest
import redis

from tests.integration.conftest import wait_for
from workers.locks import LockBusy, is_locked, lock_key, tenant_lock

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_client(redis_url):
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def tenant():
    return f"tenant-{secrets.token_hex(4)}"


def test_a_second_retrain_of_the_same_tenant_is_refused(redis_client, tenant):
    with tenant_lock(redis_client, tenant, "retrain", ttl=60):
        with pytest.raises(LockBusy, match="a retrain is already running for this tenant"):
            with tenant_lock(redis_client, tenant, "retrain", ttl=60):
                pass


def test_other_tenants_and_other_purposes_do_not_wait(redis_client, tenant):
    with tenant_lock(redis_client, tenant, "retrain", ttl=60):
        with tenant_lock(redis_client, tenant + "-other", "retrain", ttl=60):
            with tenant_lock(redis_client, tenant, "ingest", ttl=60):
                assert is_locked(redis_client, tenant, "retrain")


def test_the_lock_is_released_after_the_block_also_on_error(redis_client, tenant):
    with pytest.raises(RuntimeError):
        with tenant_lock(redis_client, tenant, "retrain", ttl=60):
            raise RuntimeError("training failed")

    assert not is_locked(redis_client, tenant, "retrain")
    with tenant_lock(redis_client, tenant, "retrain", ttl=60):
        pass


def test_a_holder_that_died_frees_the_lock_when_it_expires(redis_client, tenant):
    redis_client.set(lock_key(tenant, "retrain"), "token-of-a-dead-worker", px=200)

    wait_for(lambda: not is_locked(redis_client, tenant, "retrain"), "the lock to expire", timeout=10)
    with tenant_lock(redis_client, tenant, "retrain", ttl=60):
        assert is_locked(redis_client, tenant, "retrain")


def test_an_expired_holder_does_not_release_the_next_holders_lock(redis_client, tenant):
    with tenant_lock(redis_client, tenant, "retrain", ttl=60):
        # The first holder's lock expired and a second worker took it meanwhile.
        redis_client.set(lock_key(tenant, "retrain"), "second-holder")

    assert redis_client.get(lock_key(tenant, "retrain")) == b"second-holder"
    redis_client.delete(lock_key(tenant, "retrain"))


def test_an_abandoned_lock_is_freed_only_for_the_token_that_holds_it(redis_client):
    from workers.locks import holder, release_abandoned

    with tenant_lock(redis_client, "tenant-x", "training", ttl=60, owner="job-1"):
        assert holder(redis_client, "tenant-x", "training") == "job-1"
        assert not release_abandoned(redis_client, "tenant-x", "training", "job-2")
        assert is_locked(redis_client, "tenant-x", "training")
        assert release_abandoned(redis_client, "tenant-x", "training", "job-1")
        assert holder(redis_client, "tenant-x", "training") is None

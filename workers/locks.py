"""Per-tenant locks in Redis: one retrain at a time per tenant, across every worker.

A lock is a Redis key holding a random token with an expiry, so a worker that dies while
holding it cannot block the tenant forever; release deletes the key only while it still
holds this holder's token (redis-py's `Lock`, which does the check atomically in Lua).
A step that can outlast the expiry calls `extend()` on the yielded lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError
from redis.lock import Lock

logger = logging.getLogger(__name__)

KEY_PREFIX = "valuelens:lock"


class LockBusy(RuntimeError):
    """Another holder has the lock; the message says what is running."""


def lock_key(tenant_id: str, purpose: str) -> str:
    return f"{KEY_PREFIX}:{purpose}:{tenant_id}"


def is_locked(client: redis.Redis, tenant_id: str, purpose: str) -> bool:
    return bool(client.exists(lock_key(tenant_id, purpose)))


@contextmanager
def tenant_lock(client: redis.Redis, tenant_id: str, purpose: str, ttl: float,
                owner: str | None = None) -> Iterator[Lock]:
    """Hold the tenant's `purpose` lock for the block, or raise `LockBusy` at once.

    `owner` (a job id) becomes the lock's token: a redelivery of the same job takes back
    the lock that its crashed delivery left behind, instead of waiting for the expiry."""
    lock = client.lock(lock_key(tenant_id, purpose), timeout=ttl, blocking=False)
    if not lock.acquire(token=owner) and not (owner and _take_back(lock, owner)):
        raise LockBusy(f"a {purpose} is already running for this tenant")
    try:
        yield lock
    finally:
        try:
            lock.release()
        except LockError:
            # The lock expired (and someone else may hold it now): nothing of ours to free.
            logger.warning("the %s lock of tenant %s expired before it was released",
                           purpose, tenant_id)


def _take_back(lock: Lock, owner: str) -> bool:
    """Renew the lock when `owner` holds it already (checked and renewed atomically)."""
    lock.local.token = lock.redis.get_encoder().encode(owner)
    try:
        return lock.reacquire()
    except LockError:
        lock.local.token = None
        return False


def holder(client: redis.Redis, tenant_id: str, purpose: str) -> str | None:
    """The token (a job id, for job-owned locks) of whoever holds the lock now."""
    token = client.get(lock_key(tenant_id, purpose))
    return token.decode() if token is not None else None


def release_abandoned(client: redis.Redis, tenant_id: str, purpose: str, token: str) -> bool:
    """Free the lock if `token` still holds it (its job has ended without releasing it:
    a worker killed outright); atomic, so a new holder is never freed by mistake."""
    lock = client.lock(lock_key(tenant_id, purpose))
    lock.local.token = lock.redis.get_encoder().encode(token)
    try:
        lock.release()
        return True
    except LockError:
        return False

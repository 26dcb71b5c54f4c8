"""Checking a password at login or before a password change, under the rate limits.

Every refusal looks the same to the client (one message, one verification's worth of
time), whether the email is unknown, the password wrong or the account inactive; the
audit log tells them apart for operators.
"""

from __future__ import annotations

from flask import current_app

from dashboard import audit
from dashboard.accounts import find_user, normalise_email
from dashboard.auth.passwords import burn_verification, hash_password, needs_rehash, verify_password
from dashboard.auth.ratelimit import LoginLimiter
from dashboard.redis_conn import get_redis
from dashboard.schema import User, utcnow
from dashboard.store import unscoped

MAX_LOGGED_EMAIL_LENGTH = 320


class LoginRefused(Exception):
    """Wrong email or password (deliberately not saying which)."""


def login_limiter() -> LoginLimiter:
    config = current_app.config
    return LoginLimiter(
        client=get_redis(),
        window_seconds=config["LOGIN_WINDOW_SECONDS"],
        max_per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
        max_per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    )


def check_credentials(email: str, password: str, address: str, *,
                      action: str = "login") -> User:
    """The active user with this email and password, or `LoginRefused`.

    Raises `ratelimit.TooManyAttempts` before looking at the password when the account
    or the address has used up its failures, and `redis.RedisError` when the counters
    cannot be read (no unlimited guessing while Redis is down).
    """
    email = normalise_email(email)
    limiter = login_limiter()
    attempt = limiter.begin(email, address)
    user = find_user(unscoped(), email)
    if user is None:
        burn_verification(password)
        audit.record(f"{action}_failed", address=address, reason="unknown email",
                     email=email[:MAX_LOGGED_EMAIL_LENGTH])
        raise LoginRefused
    if not verify_password(user.password_hash, password):
        audit.record(f"{action}_failed", tenant_id=user.tenant_id, user_id=user.id,
                     address=address, reason="wrong password")
        raise LoginRefused
    if not user.active:
        audit.record(f"{action}_failed", tenant_id=user.tenant_id, user_id=user.id,
                     address=address, reason="inactive user")
        raise LoginRefused
    limiter.succeeded(attempt)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        unscoped().commit()
    return user


def log_in(email: str, password: str, address: str) -> User:
    """Check the credentials for a login and record it."""
    user = check_credentials(email, password, address)
    user.last_login_at = utcnow()
    audit.record("login", tenant_id=user.tenant_id, user_id=user.id, address=address)
    return user

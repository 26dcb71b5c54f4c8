"""The signed-in user as flask-login sees it, and the session loader.

The login id stored in the signed session cookie is `"<user id>:<session version>:<sid>"`.
A password change bumps the user's session version, so every cookie issued before it
stops loading. Logout puts the session's random `sid` on a deny-list in Redis for as long
as a cookie can live, so a copy of a logged-out cookie stops loading too, while the
user's other sessions stay signed in.

Lifetimes: a session records when it signed in and when it was last used. It stops
loading `SESSION_IDLE_MINUTES` after its last request and `PERMANENT_SESSION_LIFETIME`
(`SESSION_MAX_HOURS`) after sign-in, whatever happens in between; the same lifetime is
the oldest signed cookie Flask accepts at all.
"""

from __future__ import annotations

import logging
import secrets
import time

import redis
from flask import current_app, session

from dashboard.redis_conn import get_redis
from dashboard.schema import User
from dashboard.store import unscoped

log = logging.getLogger(__name__)
LOGGED_OUT_PREFIX = "valuelens:logged-out-session"
SIGNED_IN_AT = "signed_in_at"
LAST_SEEN_AT = "last_seen_at"
# Refreshing the last-seen time on every request would re-sign the cookie on every
# request; a minute is finer than any idle limit.
LAST_SEEN_RESOLUTION_SECONDS = 60


class LoginUser:
    """Wraps a `User` row for flask-login; every row attribute reads through."""

    is_anonymous = False

    def __init__(self, row: User, *, sid: str | None = None, via_token: bool = False) -> None:
        self.row = row
        self.sid = sid or secrets.token_urlsafe(16)
        self.via_token = via_token

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def is_active(self) -> bool:
        return bool(self.row.active)

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    def get_id(self) -> str:
        return f"{self.row.id}:{self.row.session_version}:{self.sid}"


def _logged_out_key(sid: str) -> str:
    return f"{LOGGED_OUT_PREFIX}:{sid}"


def forget_session(sid: str) -> None:
    """Deny this session id until any cookie carrying it has expired anyway."""
    lifetime = int(current_app.permanent_session_lifetime.total_seconds())
    get_redis().set(_logged_out_key(sid), 1, ex=max(lifetime, 1))


def stamp_new_session() -> None:
    """Record the sign-in time in a fresh session."""
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now


def session_in_time() -> bool:
    """True when the session is within its idle and absolute lifetimes; notes this use."""
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN_AT)
    if not isinstance(signed_in, int) or not isinstance(seen, int):
        return False
    config = current_app.config
    now = int(time.time())
    if now - signed_in > current_app.permanent_session_lifetime.total_seconds():
        return False
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60:
        return False
    if now - seen >= LAST_SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN_AT] = now
    return True


def load_session_user(login_id: str) -> LoginUser | None:
    """flask-login's user_loader: None (anonymous) for stale, logged-out, expired or odd
    ids."""
    if not session_in_time():
        return None
    user_id, _, rest = login_id.partition(":")
    version, _, sid = rest.partition(":")
    if not (user_id and version.isdigit() and sid):
        return None
    row = unscoped().get(User, user_id)
    if row is None or not row.active or row.session_version != int(version):
        return None
    try:
        if get_redis().exists(_logged_out_key(sid)):
            return None
    except redis.RedisError:
        # Without the deny-list a logged-out cookie cannot be told apart: fail closed.
        log.warning("Redis unavailable; treating the session as signed out", exc_info=True)
        return None
    return LoginUser(row, sid=sid)

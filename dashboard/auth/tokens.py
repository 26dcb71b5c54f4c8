"""API tokens for `Authorization: Bearer <token>`.

A token is `vl_` followed by 40 URL-safe random characters. Only its SHA-256 is stored,
with the first characters kept as a display prefix; lookup is by hash, so the plain token
exists only in the answer that created it. A fast hash is right here, unlike passwords:
the token carries 240 random bits, so there is nothing to guess offline. Tokens open the
REST API only (`/api/`), never the pages or Dash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import g
from sqlalchemy import select

from dashboard.auth.users import LoginUser
from dashboard.schema import ApiToken, User, utcnow
from dashboard.store import unscoped

TOKEN_PREFIX = "vl_"
DISPLAY_PREFIX_LENGTH = 11
# Writing last_used_at on every call would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_token() -> tuple[str, str, str]:
    """A fresh token: (plain token, stored hash, display prefix)."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(30)
    return plain, hash_token(plain), plain[:DISPLAY_PREFIX_LENGTH]


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
        return None
    return value


def load_token_user(request) -> LoginUser | None:
    """flask-login's request_loader: the owner of a valid, unrevoked Bearer token."""
    if not request.path.startswith("/api/"):
        return None
    plain = bearer_token(request.headers.get("Authorization"))
    if plain is None:
        return None
    digest = hash_token(plain)
    token = unscoped().scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None or token.revoked_at is not None:
        return None
    if not hmac.compare_digest(token.token_hash, digest):
        return None
    owner = unscoped().get(User, token.user_id)
    if owner is None or not owner.active or owner.tenant_id != token.tenant_id:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        unscoped().commit()
    g.login_via_token = True
    return LoginUser(owner, via_token=True)

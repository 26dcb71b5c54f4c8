"""What a tenant's admin does to its users, tokens and settings, and what everyone does
to their own API tokens. Each function checks the role, validates, writes, and records
who did what in the audit log in the same commit. Errors are `AccountError`s whose
message can be shown as it is.
"""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from dashboard import accounts, audit
from dashboard.accounts import MAX_HORIZON_DAYS, AccountError
from dashboard.auth.roles import ensure_role
from dashboard.schema import RETRAIN_SCHEDULES, ROLES, ApiToken, AuditEvent, User, utcnow
from dashboard.store import TenantStore

TEMPORARY_PASSWORD_BYTES = 12


def _audit(store: TenantStore, actor, action: str, **detail) -> None:
    store.session.add(audit.event(action, tenant_id=store.tenant_id, user_id=actor.id, **detail))


def list_users(store: TenantStore) -> list[User]:
    users, _ = store.list(User, order_by=(User.email,))
    return users


def add_user(store: TenantStore, admin, email: str, password: str, role: str) -> User:
    ensure_role(admin, "admin")
    user = accounts.create_user(store.session, store.tenant, email, password, role)
    _audit(store, admin, "admin_added_user", target=user.email, role=role)
    store.commit()
    return user


def _other_admins(store: TenantStore, user: User) -> int:
    admins, _ = store.list(User, where=[User.role == "admin", User.active.is_(True),
                                        User.id != user.id])
    return len(admins)


def change_role(store: TenantStore, admin, user_id: str, role: str) -> User:
    ensure_role(admin, "admin")
    if role not in ROLES:
        raise accounts.InvalidRole(f"role {role!r} is not one of {', '.join(ROLES)}")
    user = store.get(User, user_id)
    if user.role == "admin" and role != "admin" and not _other_admins(store, user):
        raise AccountError("The organisation needs at least one active admin.")
    previous, user.role = user.role, role
    _audit(store, admin, "role_changed", target=user.email, previous=previous, role=role)
    store.commit()
    return user


def set_active(store: TenantStore, admin, user_id: str, active: bool) -> User:
    """Deactivate (their sessions and tokens stop working at once) or reactivate a user."""
    ensure_role(admin, "admin")
    user = store.get(User, user_id)
    if not active and user.role == "admin" and not _other_admins(store, user):
        raise AccountError("The organisation needs at least one active admin.")
    user.active = bool(active)
    if not active:
        user.session_version += 1
    _audit(store, admin, "user_activated" if active else "user_deactivated", target=user.email)
    store.commit()
    return user


def reset_password(store: TenantStore, admin, user_id: str) -> str:
    """A new random password for the user, returned once; their sessions end."""
    ensure_role(admin, "admin")
    user = store.get(User, user_id)
    temporary = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    _audit(store, admin, "admin_reset_password", target=user.email)
    accounts.set_password(store.session, user, temporary, action="password_reset")
    return temporary


def list_tokens(store: TenantStore, user=None) -> list[tuple[ApiToken, str]]:
    """Active tokens with their owner's email; only `user`'s when given."""
    query = (select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
             .where(ApiToken.tenant_id == store.tenant_id, ApiToken.revoked_at.is_(None))
             .order_by(ApiToken.created_at.desc()))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return [(token, email) for token, email in store.session.execute(query).all()]


def create_token(store: TenantStore, user, name: str) -> str:
    """A new token for the signed-in user; the plain token is returned here only."""
    _token, plain = accounts.create_token(store.session, user.email, name)
    return plain


def revoke_token(store: TenantStore, actor, token_id: str) -> ApiToken:
    """Revoke one token: one's own, or (admins) any of the tenant's."""
    token = store.get(ApiToken, token_id)
    if token.user_id != actor.id:
        ensure_role(actor, "admin")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        _audit(store, actor, "token_revoked", token_id=token.id, name=token.name,
               prefix=token.prefix)
        store.commit()
    return token


def update_settings(store: TenantStore, admin, *, horizon_days, currency: str, timezone: str,
                    retrain_schedule: str) -> None:
    ensure_role(admin, "admin")
    try:
        horizon = int(horizon_days)
    except (TypeError, ValueError):
        raise AccountError("The horizon must be a whole number of days.") from None
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise AccountError(f"The horizon must be from 1 to {MAX_HORIZON_DAYS} days.")
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise AccountError("The currency must be a three-letter code such as USD.")
    try:
        ZoneInfo(timezone or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"Unknown time zone {timezone!r}.") from None
    if retrain_schedule not in RETRAIN_SCHEDULES:
        raise AccountError(f"Retraining must be one of {', '.join(RETRAIN_SCHEDULES)}.")
    tenant = store.tenant
    changes = {}
    for name, value in (("horizon_days", horizon), ("currency", currency),
                        ("timezone", timezone), ("retrain_schedule", retrain_schedule)):
        if getattr(tenant, name) != value:
            changes[name] = [getattr(tenant, name), value]
            setattr(tenant, name, value)
    if changes:
        _audit(store, admin, "settings_changed", changes=changes)
    store.commit()


def audit_log(store: TenantStore, limit: int = 100) -> list[tuple[AuditEvent, str | None]]:
    """The tenant's latest audit events, newest first, with the acting user's email."""
    query = (select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
             .where(AuditEvent.tenant_id == store.tenant_id)
             .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit))
    return [(event, email) for event, email in store.session.execute(query).all()]

"""The account service: tenants, users, passwords and API tokens.

Used by the CLI, the demo set-up, the web views and the tests; every function takes the
SQLAlchemy session explicitly, validates, then writes, and raises an `AccountError`
subclass whose message can be shown to the operator as it is. Each change is committed
together with its audit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard import audit
from dashboard.auth.passwords import hash_password, password_problem, verify_password
from dashboard.auth.tokens import new_token
from dashboard.schema import ROLES, ApiToken, Tenant, User, utcnow
from dashboard.store import TenantStore

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 320
MAX_NAME_LENGTH = 200
MAX_HORIZON_DAYS = 3650


class AccountError(ValueError):
    """An account operation was refused; the message says why."""


class UnknownTenant(AccountError):
    pass


class DuplicateTenant(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class InvalidRole(AccountError):
    pass


class UnknownUser(AccountError):
    pass


class UnknownToken(AccountError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _valid_email(email: str) -> str:
    normalised = normalise_email(email)
    if len(normalised) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(normalised):
        raise AccountError(f"{email!r} is not a valid email address")
    return normalised


def _valid_name(name: str, what: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise AccountError(f"{what} must be 1 to {MAX_NAME_LENGTH} characters")
    return cleaned


@dataclass(frozen=True)
class PasswordReset:
    user: User
    tokens_revoked: int


def _check_password(password: str, email: str, tenant: Tenant | None) -> None:
    context = (tenant.name, tenant.slug) if tenant is not None else ()
    problem = password_problem(password, email, context)
    if problem:
        raise WeakPassword(problem)


def get_tenant(session: Session, slug: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None:
        raise UnknownTenant(f"no tenant with slug {slug!r}")
    return tenant


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).first()


def get_user(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise UnknownUser(f"no user with email {normalise_email(email)!r}")
    return user


def create_tenant(session: Session, slug: str, name: str, horizon_days: int = 180,
                  currency: str = "USD", timezone: str = "UTC") -> Tenant:
    if not SLUG_PATTERN.fullmatch(slug or ""):
        raise AccountError(
            f"tenant slug {slug!r} must be 2-63 characters of a-z, 0-9 and '-', "
            "starting with a letter or digit"
        )
    name = _valid_name(name, "tenant name")
    if not isinstance(horizon_days, int) or not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise AccountError(f"horizon_days must be a whole number from 1 to {MAX_HORIZON_DAYS}")
    currency = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise AccountError(f"currency {currency!r} must be a three-letter ISO code such as USD")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError(f"unknown time zone {timezone!r}") from None
    if session.scalars(select(Tenant.id).where(Tenant.slug == slug)).first():
        raise DuplicateTenant(f"a tenant with slug {slug!r} already exists")
    tenant = Tenant(slug=slug, name=name, horizon_days=horizon_days, currency=currency,
                    timezone=timezone)
    session.add(tenant)
    session.flush()
    session.add(audit.event("tenant_created", tenant_id=tenant.id, slug=slug))
    _commit(session, DuplicateTenant(f"a tenant with slug {slug!r} already exists"))
    return tenant


def create_user(session: Session, tenant_slug_or_tenant: str | Tenant, email: str,
                password: str, role: str) -> User:
    tenant = (tenant_slug_or_tenant if isinstance(tenant_slug_or_tenant, Tenant)
              else get_tenant(session, tenant_slug_or_tenant))
    email = _valid_email(email)
    if role not in ROLES:
        raise InvalidRole(f"role {role!r} is not one of {', '.join(ROLES)}")
    _check_password(password, email, tenant)
    if find_user(session, email) is not None:
        raise DuplicateEmail(f"a user with email {email!r} already exists")
    user = User(tenant_id=tenant.id, email=email, password_hash=hash_password(password),
                role=role, active=True, session_version=1)
    session.add(user)
    session.flush()
    session.add(audit.event("user_created", tenant_id=tenant.id, user_id=user.id,
                            email=email, role=role))
    _commit(session, DuplicateEmail(f"a user with email {email!r} already exists"))
    return user


def set_password(session: Session, user: User, new_password: str, *,
                 action: str = "password_changed", address: str | None = None) -> None:
    """Replace the password and end every existing session of the user."""
    _stage_password(session, user, new_password, action, address)
    session.commit()


def _stage_password(session: Session, user: User, new_password: str, action: str,
                    address: str | None) -> None:
    _check_password(new_password, user.email, session.get(Tenant, user.tenant_id))
    if verify_password(user.password_hash, new_password):
        raise WeakPassword("The new password must differ from the current one.")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    session.add(audit.event(action, tenant_id=user.tenant_id, user_id=user.id, address=address))


def reset_password(session: Session, email: str, password: str, *,
                   revoke_tokens: bool = True) -> PasswordReset:
    """Set a new password for a user who lost theirs or whose account may be compromised.

    Every session ends (the session version moves on). Unless `revoke_tokens` is False the
    user's API tokens are revoked too, in the same commit: a reset after a compromise must
    not leave a stolen token working."""
    user = get_user(session, email)
    _stage_password(session, user, password, "password_reset", None)
    revoked = _revoke(session, user, select(ApiToken).where(ApiToken.user_id == user.id),
                      reason="password_reset") if revoke_tokens else 0
    session.commit()
    return PasswordReset(user, revoked)


def create_token(session: Session, email: str, name: str) -> tuple[ApiToken, str]:
    """A new API token for the user; the plain token is returned here and never again."""
    user = get_user(session, email)
    name = _valid_name(name, "token name")
    plain, digest, prefix = new_token()
    token = ApiToken(tenant_id=user.tenant_id, user_id=user.id, name=name,
                     token_hash=digest, prefix=prefix)
    session.add(token)
    session.flush()
    session.add(audit.event("token_created", tenant_id=user.tenant_id, user_id=user.id,
                            token_id=token.id, name=name, prefix=prefix))
    session.commit()
    return token, plain


def revoke_tokens(session: Session, email: str, name: str) -> int:
    """Revoke the user's active tokens called `name`; they stop working at once."""
    user = get_user(session, email)
    revoked = _revoke(session, user, select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.name == name))
    if not revoked:
        raise UnknownToken(f"{user.email} has no active token named {name!r}")
    session.commit()
    return revoked


def _revoke(session: Session, user: User, query, **detail) -> int:
    """Revoke the active tokens `query` selects, with an audit row each; the caller
    commits."""
    tokens = session.scalars(query.where(ApiToken.revoked_at.is_(None))).all()
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
        session.add(audit.event("token_revoked", tenant_id=user.tenant_id, user_id=user.id,
                                token_id=token.id, name=token.name, prefix=token.prefix,
                                **detail))
    return len(tokens)


def delete_tenant(session: Session, slug: str, data_dir: str | Path) -> None:
    """Remove the tenant, all its rows (the database cascades) and all its files."""
    tenant = get_tenant(session, slug)
    tenant_id = tenant.id
    session.delete(tenant)
    # The tenant's own audit rows go with it; this one is platform-level and stays.
    session.add(audit.event("tenant_deleted", slug=slug, deleted_tenant_id=tenant_id))
    session.commit()
    # Files last: a failed database delete must leave the tenant whole.
    TenantStore(session, tenant_id, data_dir).delete_files()


def _commit(session: Session, duplicate: AccountError) -> None:
    # The checks above run before the insert; a concurrent insert still lands here.
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise duplicate from None

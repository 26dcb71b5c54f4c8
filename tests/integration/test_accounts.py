"""The account service against the real database: tenants, users, passwords, tokens."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from dashboard import accounts, audit
from dashboard.accounts import (
    AccountError,
    DuplicateEmail,
    DuplicateTenant,
    InvalidRole,
    UnknownTenant,
    UnknownUser,
    WeakPassword,
)
from dashboard.auth.passwords import verify_password
from dashboard.database import db
from dashboard.schema import ApiToken, AuditEvent, Dataset, Job, Tenant, User
from dashboard.store import TenantStore
from tests.conftest import STRONG_PASSWORD


@pytest.fixture
def session(app):
    return db.session()


def actions(session, **where) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return list(session.scalars(query))


def test_a_tenant_is_created_with_its_settings(session):
    tenant = accounts.create_tenant(session, "acme-01", "  Acme Ltd ", horizon_days=90,
                                    currency="eur", timezone="Europe/Berlin")
    stored = accounts.get_tenant(session, "acme-01")
    assert stored.id == tenant.id
    assert (stored.name, stored.horizon_days, stored.currency, stored.timezone) == (
        "Acme Ltd", 90, "EUR", "Europe/Berlin")
    assert actions(session, tenant_id=tenant.id) == ["tenant_created"]


@pytest.mark.parametrize("slug", ["a", "-acme", "Acme", "acme_co", "acme co", "a" * 64, "", "ü-co"])
def test_bad_slugs_are_refused(session, slug):
    with pytest.raises(AccountError, match="slug"):
        accounts.create_tenant(session, slug, "Acme")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"currency": "dollars"}, "three-letter"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"name": "   "}, "tenant name"),
    ],
)
def test_bad_tenant_settings_are_refused(session, settings, message):
    arguments = {"name": "Acme", **settings}
    with pytest.raises(AccountError, match=message):
        accounts.create_tenant(session, "acme", **arguments)


def test_a_second_tenant_with_the_same_slug_is_refused(session, tenant_a):
    with pytest.raises(DuplicateTenant, match="already exists"):
        accounts.create_tenant(session, "tenant-a", "Again")


def test_an_unknown_tenant_is_reported(session):
    with pytest.raises(UnknownTenant, match="no tenant with slug 'nope'"):
        accounts.get_tenant(session, "nope")
    with pytest.raises(UnknownTenant):
        accounts.create_user(session, "nope", "a@example.com", STRONG_PASSWORD, "viewer")


def test_a_user_is_created_with_a_normalised_email_and_a_hashed_password(session, tenant_a):
    user = accounts.create_user(session, "tenant-a", "  Ana@Example.COM ", STRONG_PASSWORD, "analyst")
    stored = session.get(User, user.id)
    assert stored.email == "ana@example.com"
    assert stored.tenant_id == tenant_a.id and stored.role == "analyst" and stored.active
    assert STRONG_PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith("$argon2id$")
    assert verify_password(stored.password_hash, STRONG_PASSWORD)
    assert actions(session, user_id=user.id) == ["user_created"]


def test_emails_are_unique_across_tenants_whatever_their_case(session, tenant_a, tenant_b):
    accounts.create_user(session, tenant_a, "ana@example.com", STRONG_PASSWORD, "viewer")
    with pytest.raises(DuplicateEmail, match="ana@example.com"):
        accounts.create_user(session, tenant_b, "ANA@example.com ", STRONG_PASSWORD, "admin")
    assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Tr0ub4dor&3", "at least 12 characters"),
        ("qwertyuiopasdfgh", "too common"),
        ("Password1234", "too common"),
        ("777777777777777", "single repeated character"),
        ("ana.lytics rules the world", "must not contain your email"),
    ],
)
def test_weak_passwords_are_refused_with_a_message(session, tenant_a, password, message):
    with pytest.raises(WeakPassword, match=message):
        accounts.create_user(session, tenant_a, "ana.lytics@example.com", password, "viewer")
    assert accounts.find_user(session, "ana.lytics@example.com") is None


@pytest.mark.parametrize("email", ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com"])
def test_invalid_emails_are_refused(session, tenant_a, email):
    with pytest.raises(AccountError, match="not a valid email address"):
        accounts.create_user(session, tenant_a, email, STRONG_PASSWORD, "viewer")


def test_an_unknown_role_is_refused(session, tenant_a):
    with pytest.raises(InvalidRole, match="'owner' is not one of viewer, analyst, admin"):
        accounts.create_user(session, tenant_a, "ana@example.com", STRONG_PASSWORD, "owner")


def test_account_errors_are_value_errors():
    for error in (UnknownTenant, DuplicateEmail, WeakPassword, InvalidRole, UnknownUser):
        assert issubclass(error, AccountError) and issubclass(error, ValueError)


def test_setting_a_password_replaces_the_hash_and_ends_sessions(session, make_user):
    user = make_user()
    version = user.session_version
    accounts.set_password(session, user, "a brand new passphrase 9")
    stored = session.get(User, user.id)
    assert stored.session_version == version + 1
    assert verify_password(stored.password_hash, "a brand new passphrase 9")
    assert not verify_password(stored.password_hash, user.password)
    assert actions(session, user_id=user.id)[-1] == "password_changed"


def test_a_weak_new_password_leaves_the_old_one_in_place(session, make_user):
    user = make_user()
    with pytest.raises(WeakPassword):
        accounts.set_password(session, user, "letmein")
    session.rollback()
    stored = session.get(User, user.id)
    assert verify_password(stored.password_hash, user.password)
    assert stored.session_version == 1


def test_reset_password_finds_the_user_by_email(session, make_user):
    user = make_user()
    accounts.reset_password(session, user.email.upper(), "reset phrase for later 5")
    stored = session.get(User, user.id)
    assert verify_password(stored.password_hash, "reset phrase for later 5")
    assert stored.session_version == 2
    assert actions(session, user_id=user.id)[-1] == "password_reset"


def test_reset_password_of_an_unknown_email_is_reported(session):
    with pytest.raises(UnknownUser, match="no user with email 'ghost@example.com'"):
        accounts.reset_password(session, "Ghost@example.com", "reset phrase for later 5")


def test_a_token_is_shown_once_and_stored_only_as_its_hash(session, make_user):
    user = make_user(role="admin")
    token, plain = accounts.create_token(session, user.email, "nightly export")
    assert re.fullmatch(r"vl_[A-Za-z0-9_-]{40}", plain)
    stored = session.get(ApiToken, token.id)
    assert stored.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in {stored.token_hash, stored.prefix, stored.name}
    assert plain.startswith(stored.prefix) and len(stored.prefix) < 16
    assert (stored.user_id, stored.tenant_id, stored.name) == (user.id, user.tenant_id, "nightly export")
    assert actions(session, user_id=user.id)[-1] == "token_created"


def test_tokens_differ_and_need_a_known_user_and_a_name(session, make_user):
    user = make_user()
    first = accounts.create_token(session, user.email, "a")[1]
    assert first != accounts.create_token(session, user.email, "a")[1]
    with pytest.raises(UnknownUser):
        accounts.create_token(session, "ghost@example.com", "a")
    with pytest.raises(AccountError, match="token name"):
        accounts.create_token(session, user.email, " ")


def test_deleting_a_tenant_removes_its_rows_and_files_and_nothing_else(app, session, make_user,
                                                                         tenant_a, tenant_b):
    doomed, kept = make_user(tenant_a), make_user(tenant_b)
    data_dir = app.config["DATA_DIR"]
    for tenant in (tenant_a, tenant_b):
        store = TenantStore(session, tenant.id, data_dir)
        store.add(Dataset(filename="sales.csv"))
        store.add(Job(kind="ingest"))
        store.commit()
        store.path("uploads", "sales.csv").write_text("customer_id,date,amount\n")
    accounts.create_token(session, doomed.email, "script")
    doomed_files = TenantStore(session, tenant_a.id, data_dir).path("uploads").parent

    accounts.delete_tenant(session, "tenant-a", data_dir)

    session.expunge_all()
    for model in (User, Dataset, Job, ApiToken):
        owners = set(session.scalars(select(model.tenant_id)))
        assert owners == ({tenant_b.id} if model is not ApiToken else set()), model.__name__
    assert session.get(Tenant, tenant_a.id) is None
    assert not doomed_files.exists()
    assert TenantStore(session, tenant_b.id, data_dir).path("uploads", "sales.csv").exists()
    assert session.get(User, kept.id) is not None
    deleted = session.scalars(select(AuditEvent).where(AuditEvent.action == "tenant_deleted")).one()
    assert deleted.detail == {"slug": "tenant-a", "deleted_tenant_id": tenant_a.id}


def test_deleting_an_unknown_tenant_is_reported(app, session):
    with pytest.raises(UnknownTenant):
        accounts.delete_tenant(session, "nope", app.config["DATA_DIR"])


def test_audit_record_writes_a_row(session):
    audit.record("login_failed", address="192.0.2.1", reason="unknown email")
    row = session.scalars(select(AuditEvent)).one()
    assert (row.action, row.address, row.detail) == (
        "login_failed", "192.0.2.1", {"reason": "unknown email"})
    assert row.tenant_id is None and row.user_id is None

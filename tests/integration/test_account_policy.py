"""Accounts: a password estimator that knows the user's context, a reset that ends every
session and revokes tokens, and sessions with idle and absolute lifetimes."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from dashboard import accounts
from dashboard.auth.users import LAST_SEEN_AT, SIGNED_IN_AT
from dashboard.cli import main
from tests.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.integration

NEW_PASSWORD = "plum orchard under moonlight 7"


@pytest.fixture
def session(app):
    from dashboard.database import db

    return db.session()


@pytest.mark.parametrize("password", ["aaaaaaaaaaab", "abcabcabcabc", "zaq12wsxcde3",
                                      "qazwsxedcrfvtgb"])
def test_patterned_passwords_are_refused(session, make_tenant, password):
    with pytest.raises(accounts.WeakPassword, match="too easy to guess|too common"):
        accounts.create_user(session, make_tenant(), "ana@example.com", password, "viewer")


@pytest.mark.parametrize("password", ["northwind traders 2024", "NorthwindTraders-Admin",
                                      "nwtraders.example rocks"])
def test_passwords_built_on_the_company_or_its_domain_are_refused(session, make_tenant,
                                                                   password):
    tenant = make_tenant("nw", "Northwind Traders")
    with pytest.raises(accounts.WeakPassword, match="organisation's name or email domain"):
        accounts.create_user(session, tenant, "ana@nwtraders.example", password, "viewer")


def test_the_current_password_is_not_a_new_one(session, make_user):
    user = make_user()
    with pytest.raises(accounts.WeakPassword, match="differ from the current"):
        accounts.set_password(session, user, user.password)


def test_reset_ends_sessions_and_revokes_tokens_by_default(app, session, make_user, auth,
                                                          client):
    user = make_user(role="admin")
    _, plain = accounts.create_token(session, user.email, "nightly export")
    headers = {"Authorization": f"Bearer {plain}"}
    auth.login(user)
    assert client.get("/api/v1/me").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200

    reset = accounts.reset_password(session, user.email, NEW_PASSWORD)

    assert reset.tokens_revoked == 1
    assert client.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_reset_may_keep_tokens(app, session, make_user):
    user = make_user(role="admin")
    _, plain = accounts.create_token(session, user.email, "nightly export")
    reset = accounts.reset_password(session, user.email, NEW_PASSWORD, revoke_tokens=False)
    assert reset.tokens_revoked == 0
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


def test_a_refused_reset_revokes_nothing(app, session, make_user):
    user = make_user(role="admin")
    _, plain = accounts.create_token(session, user.email, "nightly export")
    with pytest.raises(accounts.WeakPassword):
        accounts.reset_password(session, user.email, "abcabcabcabc")
    session.rollback()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


@pytest.mark.parametrize(("flags", "says"), [
    ((), "1 API token revoked"),
    (("--keep-tokens",), "API tokens were kept"),
])
def test_the_reset_command_says_what_it_ended(app_config, session, make_user, flags, says):
    user = make_user(role="admin")
    accounts.create_token(session, user.email, "nightly export")
    env = {"DATABASE_URL": app_config["DATABASE_URL"], "DATA_DIR": app_config["DATA_DIR"],
           "SECRET_KEY": None, "REDIS_URL": None}
    result = CliRunner().invoke(main, ["reset-password", "--email", user.email,
                                       "--password-stdin", *flags],
                                input=NEW_PASSWORD + "\n", env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "all sessions are signed out" in result.stdout
    assert says in result.stdout


def _age_session(client, **seconds_ago):
    now = int(time.time())
    with client.session_transaction() as cookie:
        for key, ago in seconds_ago.items():
            cookie[key] = now - ago


def test_a_session_idle_longer_than_the_limit_is_signed_out(client, auth, make_user, app):
    auth.login(make_user())
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    _age_session(client, **{LAST_SEEN_AT: idle - 30, SIGNED_IN_AT: idle - 30})
    assert client.get("/api/v1/me").status_code == 200
    _age_session(client, **{LAST_SEEN_AT: idle + 1})
    assert client.get("/api/v1/me").status_code == 401


def test_use_keeps_a_session_alive_but_not_past_its_absolute_lifetime(client, auth,
                                                                      make_user, app):
    auth.login(make_user())
    absolute = int(app.permanent_session_lifetime.total_seconds())
    _age_session(client, **{SIGNED_IN_AT: absolute - 60, LAST_SEEN_AT: 120})
    assert client.get("/api/v1/me").status_code == 200
    with client.session_transaction() as cookie:
        assert int(time.time()) - cookie[LAST_SEEN_AT] < 60
    _age_session(client, **{SIGNED_IN_AT: absolute + 1})
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_without_sign_in_time_is_not_accepted(client, auth, make_user):
    auth.login(make_user())
    with client.session_transaction() as cookie:
        del cookie[SIGNED_IN_AT]
    assert client.get("/api/v1/me").status_code == 401


def test_lifetimes_come_from_the_environment():
    from datetime import timedelta

    from dashboard.config import load_config

    config = load_config({"SESSION_IDLE_MINUTES": "15", "SESSION_MAX_HOURS": "8"})
    assert config["SESSION_IDLE_MINUTES"] == 15
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    defaults = load_config({})
    assert defaults["SESSION_IDLE_MINUTES"] == 60
    assert defaults["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


def test_the_strong_test_password_still_passes(session, make_tenant):
    accounts.create_user(session, make_tenant(), "ben@example.com", STRONG_PASSWORD, "viewer")

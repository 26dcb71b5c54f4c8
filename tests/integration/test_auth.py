"""Signing in and out, the rate limits, sessions, password change, CSRF and API tokens,
against the real app, Redis and database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from dashboard import accounts
from dashboard.database import db
from dashboard.redis_server import free_port
from dashboard.schema import AuditEvent, utcnow
from tests.conftest import CSRF_FIELD, AuthActions, unique_address

REFUSED = "Invalid email or password."


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def client_with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def audit_actions(**where) -> list[str]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return [row.action for row in db.session.scalars(query)]


def test_the_login_page_shows_the_form_with_a_csrf_token(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in page and 'name="password"' in page
    assert 'name="csrf_token"' in page
    assert "/assets/bootstrap.min.css" in page


def test_right_password_signs_in_and_redirects_home(client, auth, make_user):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/api/v1/me").get_json()["email"] == user.email


def test_login_accepts_the_email_in_any_case_and_with_spaces(client, auth, make_user):
    user = make_user()
    response = auth.login(user, email=f"  {user.email.upper()} ")
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 200


def test_login_goes_on_to_a_safe_next_path(auth, make_user):
    response = auth.login(make_user(), next="/customers?segment=Champions")
    assert response.headers["Location"] == "/customers?segment=Champions"


@pytest.mark.parametrize(
    "evil",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
        "///evil.example",
    ],
)
def test_login_ignores_a_next_that_leaves_the_site(auth, make_user, evil):
    response = auth.login(make_user(), next=evil)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_signed_in_user_visiting_login_goes_to_next(client, auth, make_user):
    auth.login(make_user())
    response = client.get("/login?next=/reports")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports"


def test_wrong_password_and_unknown_email_get_the_same_message(client, auth, make_user):
    user = make_user()
    wrong = auth.login(user, password="not the right password")
    unknown = auth.login(email="nobody-here@example.com", password="not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert REFUSED in response.get_data(as_text=True)
    # Apart from the echoed email and the form token, the two pages are identical.
    pages = [
        CSRF_FIELD.sub("", response.get_data(as_text=True).replace(email, ""))
        for response, email in ((wrong, user.email), (unknown, "nobody-here@example.com"))
    ]
    assert pages[0] == pages[1]
    assert client.get("/api/v1/me").status_code == 401


def test_an_empty_form_asks_for_email_and_password(auth):
    response = auth.login(email="", password="")
    assert response.status_code == 400
    assert "Enter your email and password." in response.get_data(as_text=True)


def test_an_inactive_user_cannot_sign_in(client, auth, make_user):
    user = make_user(active=False)
    response = auth.login(user)
    assert REFUSED in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401


def test_deactivating_a_user_ends_their_session(client, auth, make_user):
    user = make_user()
    auth.login(user)
    db.session.get(type(user), user.id).active = False
    db.session.commit()
    assert client.get("/api/v1/me").status_code == 401


def test_login_and_failed_login_are_audited(auth, make_user):
    user = make_user()
    auth.login(user, password="not the right password", address="10.9.8.7")
    auth.login(email="ghost@example.com", password="not the right password")
    auth.login(user)
    actions = audit_actions(user_id=user.id)
    assert actions[-2:] == ["login_failed", "login"]
    failed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login_failed", AuditEvent.user_id.is_(None))
    ).one()
    assert failed.detail == {"reason": "unknown email", "email": "ghost@example.com"}
    assert db.session.scalars(
        select(AuditEvent.address).where(AuditEvent.user_id == user.id,
                                         AuditEvent.action == "login_failed")
    ).one() == "10.9.8.7"


def test_after_five_wrong_passwords_the_account_answers_429_even_to_the_right_one(
    client, auth, make_user
):
    user = make_user()
    for _ in range(5):
        assert auth.login(user, password="not the right password").status_code == 200
    refused = auth.login(user)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed sign-in attempts" in refused.get_data(as_text=True)
    # The lock is on the account, not the address: another place gets the same answer.
    assert auth.login(user, address=unique_address()).status_code == 429
    assert client.get("/api/v1/me").status_code == 401


def test_the_account_lock_lifts_when_the_window_has_passed(app, make_user):
    app.config.update(LOGIN_WINDOW_SECONDS=3, LOGIN_MAX_FAILURES_PER_ACCOUNT=2)
    auth = AuthActions(app.test_client())
    user = make_user()
    for _ in range(2):
        auth.login(user, password="not the right password")
    assert auth.login(user).status_code == 429
    deadline = time.monotonic() + 20
    while (response := auth.login(user)).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert response.status_code == 302


def test_a_successful_login_clears_the_accounts_earlier_failures(app, make_user):
    auth = AuthActions(app.test_client())
    user = make_user()
    for _ in range(4):
        auth.login(user, password="not the right password")
    assert auth.login(user).status_code == 302
    second = AuthActions(app.test_client(), address=auth.address)
    for _ in range(4):
        assert second.login(user, password="not the right password").status_code == 200
    assert second.login(user).status_code == 302


def test_one_address_gets_thirty_failures_a_minute_across_accounts(auth, make_user):
    users = [make_user() for _ in range(7)]
    for user in users[:6]:
        for _ in range(5):
            assert auth.login(user, password="not the right password").status_code == 200
    fresh = users[6]
    assert auth.login(fresh).status_code == 429
    assert auth.login(fresh, address=unique_address()).status_code == 302


def test_login_answers_503_when_the_rate_limit_counters_are_unreachable(app_config, make_user):
    from dashboard import create_app

    user = make_user()
    broken = create_app({**app_config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    response = AuthActions(broken.test_client()).login(user)
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)


def test_login_without_a_csrf_token_is_refused_with_a_clear_message(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "security token" in text and "CSRF token is missing" in text
    assert "Traceback" not in text


def test_login_with_a_forged_csrf_token_is_refused(client, make_user):
    user = make_user()
    client.get("/login")
    response = client.post(
        "/login", data={"email": user.email, "password": user.password, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/api/v1/me").status_code == 401


def test_login_issues_a_new_session_and_the_pre_login_cookie_stays_anonymous(
    app, client, auth, make_user
):
    client.get("/login")
    before = session_cookie(client)
    assert before
    auth.login(make_user())
    after = session_cookie(client)
    assert after and after != before
    stale = client_with_cookie(app, before)
    assert stale.get("/").status_code == 302
    assert stale.get("/api/v1/me").status_code == 401


def test_login_issues_a_new_csrf_token(client, auth, make_user):
    before = auth.csrf_token()
    auth.login(make_user())
    assert auth.csrf_token() != before


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, make_user):
    response = auth.login(make_user())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_unless_configured_off(app_config, make_user):
    from dashboard import create_app

    secure = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    response = AuthActions(secure.test_client()).login(make_user())
    assert response.status_code == 302
    assert "; Secure" in response.headers["Set-Cookie"]


def test_logout_is_post_only(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/api/v1/me").status_code == 200


def test_logout_signs_out_and_home_redirects_to_login(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    home = client.get("/")
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/login")
    assert audit_actions(user_id=user.id)[-1] == "logout"


def test_logout_without_a_csrf_token_is_refused(client, auth, make_user):
    auth.login(make_user())
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/me").status_code == 200


def test_a_copy_of_a_logged_out_cookie_no_longer_signs_in(app, client, auth, make_user):
    user = make_user()
    auth.login(user)
    copied = session_cookie(client)
    other_device = AuthActions(app.test_client())
    other_device.login(user)
    auth.logout()
    assert client_with_cookie(app, copied).get("/api/v1/me").status_code == 401
    # Logging out one session leaves the user's other sessions alone.
    assert other_device.client.get("/api/v1/me").status_code == 200


def change_password(auth: AuthActions, current: str, new: str, confirm: str | None = None):
    return auth.client.post(
        "/account/password",
        data={
            "csrf_token": auth.csrf_token(),
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


NEW_PASSWORD = "a different long phrase 77"


def test_password_change_signs_out_other_sessions_and_keeps_this_one(app, client, auth, make_user):
    user = make_user()
    auth.login(user)
    other_device = AuthActions(app.test_client())
    other_device.login(user)
    before = session_cookie(client)

    response = change_password(auth, user.password, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Your password was changed" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 200
    assert session_cookie(client) != before
    assert other_device.client.get("/api/v1/me").status_code == 401
    assert client_with_cookie(app, before).get("/api/v1/me").status_code == 401
    assert audit_actions(user_id=user.id)[-1] == "password_changed"

    AuthActions(app.test_client()).login(user, password=NEW_PASSWORD)
    assert other_device.login(user).status_code == 200
    assert other_device.login(user, password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short-one", "at least 12 characters"),
        ("passwordpassword", "too common"),
        ("zzzzzzzzzzzzzz", "single repeated character"),
    ],
)
def test_a_weak_new_password_is_refused_with_a_message(client, auth, make_user, new, message):
    user = make_user()
    auth.login(user)
    response = change_password(auth, user.password, new)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 200


def test_a_new_password_containing_the_email_is_refused(auth, make_user):
    user = make_user(email="margaret.h@example.com")
    auth.login(user)
    response = change_password(auth, user.password, "Margaret.H is my password")
    assert response.status_code == 400
    assert "must not contain your email" in response.get_data(as_text=True)


def test_a_wrong_current_password_is_refused(app, auth, make_user):
    user = make_user()
    auth.login(user)
    response = change_password(auth, "not the right password", NEW_PASSWORD)
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)
    assert AuthActions(app.test_client()).login(user).status_code == 302


def test_a_mismatched_confirmation_is_refused(auth, make_user):
    user = make_user()
    auth.login(user)
    response = change_password(auth, user.password, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert "confirmation differ" in response.get_data(as_text=True)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_api_token_reads_the_api_without_getting_a_cookie(app, make_user, tenant_a):
    user = make_user(tenant_a, role="analyst")
    token, plain = accounts.create_token(db.session(), user.email, "reporting script")
    client = app.test_client()
    response = client.get("/api/v1/me", headers=bearer(plain))
    assert response.status_code == 200
    assert response.get_json() == {"email": user.email, "role": "analyst", "tenant": "tenant-a"}
    assert "Set-Cookie" not in response.headers
    assert client.get("/api/v1/me").status_code == 401
    assert db.session.get(type(token), token.id).last_used_at is not None


def test_an_api_token_does_not_open_pages_or_dash(app, make_user):
    user = make_user()
    _token, plain = accounts.create_token(db.session(), user.email, "script")
    client = app.test_client()
    assert client.get("/", headers=bearer(plain)).status_code == 302
    assert client.get("/_dash-layout", headers=bearer(plain)).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer vl_unknownunknownunknownunknownunknownunknow", "Bearer ", "Basic dXNlcjpwYXNz", "vl_x"],
)
def test_unknown_or_malformed_tokens_answer_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}


def test_a_revoked_token_answers_401(client, make_user):
    user = make_user()
    token, plain = accounts.create_token(db.session(), user.email, "old script")
    token.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401


def test_a_token_of_an_inactive_user_answers_401(client, make_user):
    user = make_user()
    _token, plain = accounts.create_token(db.session(), user.email, "script")
    db.session.get(type(user), user.id).active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401

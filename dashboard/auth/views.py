"""Login, logout, password change and `GET /api/v1/me`: translate HTTP to the account
service and back."""

from __future__ import annotations

import logging

import redis
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from dashboard import accounts, audit
from dashboard.auth.gate import safe_next
from dashboard.auth.login import LoginRefused, check_credentials, log_in
from dashboard.auth.ratelimit import TooManyAttempts
from dashboard.auth.users import LoginUser, forget_session
from dashboard.store import current_store, unscoped

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

LOGIN_REFUSED = "Invalid email or password."
TOO_MANY = "Too many failed sign-in attempts. Wait a minute and try again."
UNAVAILABLE = "Sign-in is temporarily unavailable. Please try again shortly."
SIGNED_OUT = "You have been signed out."


def client_address() -> str:
    return request.remote_addr or "unknown"


def start_session(user) -> None:
    """A fresh session for `user`: nothing from the previous one survives, and the form
    token is new, so a session fixed or read before login is worth nothing after it."""
    session.clear()
    g.pop("csrf_token", None)
    login_user(LoginUser(user))
    generate_csrf()


def _login_form(status: int = 200, error: str | None = None, headers=()):
    return render_template(
        "login.html",
        error=error,
        email=request.form.get("email", ""),
        next=safe_next(request.values.get("next")) or "",
    ), status, list(headers)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next")) or "/"
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(target)
        return _login_form()
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not email.strip() or not password:
        return _login_form(400, "Enter your email and password.")
    try:
        user = log_in(email, password, client_address())
    except LoginRefused:
        return _login_form(200, LOGIN_REFUSED)
    except TooManyAttempts as refused:
        log.warning("login refused by the rate limit from %s", client_address())
        return _login_form(429, TOO_MANY, [("Retry-After", str(refused.retry_after))])
    except redis.RedisError:
        log.exception("login rate-limit counters unavailable")
        return _login_form(503, UNAVAILABLE)
    start_session(user)
    return redirect(target)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        # A link or an <img> must not sign anyone out; said explicitly, since Dash's
        # catch-all route would otherwise answer GET /logout with the app shell.
        abort(405, valid_methods=["POST"])
    user = current_user._get_current_object()
    try:
        forget_session(user.sid)
    except redis.RedisError:
        # Still sign the browser out; while Redis is down no session loads anyway.
        log.exception("could not deny-list the logged-out session")
    audit.record("logout", tenant_id=user.tenant_id, user_id=user.id, address=client_address())
    logout_user()
    session.clear()
    flash(SIGNED_OUT, "success")
    return redirect(url_for("auth.login"))


def _password_form(status: int = 200, error: str | None = None, headers=()):
    return render_template("change_password.html", error=error), status, list(headers)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    if request.method == "GET":
        return _password_form()
    current = request.form.get("current_password", "")
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return _password_form(400, "The new password and its confirmation differ.")
    try:
        user = check_credentials(current_user.email, current, client_address(),
                                 action="password_change")
    except LoginRefused:
        return _password_form(400, "Your current password is not correct.")
    except TooManyAttempts as refused:
        return _password_form(429, TOO_MANY, [("Retry-After", str(refused.retry_after))])
    except redis.RedisError:
        log.exception("login rate-limit counters unavailable")
        return _password_form(503, UNAVAILABLE)
    try:
        accounts.set_password(unscoped(), user, new, address=client_address())
    except accounts.WeakPassword as weak:
        return _password_form(400, str(weak))
    start_session(user)
    flash("Your password was changed. Other sessions have been signed out.", "success")
    return redirect(url_for("auth.change_password"))


@bp.get("/api/v1/me")
def me():
    user = current_user._get_current_object()
    tenant = current_store().tenant
    return jsonify(email=user.email, role=user.role, tenant=tenant.slug)

"""The one login gate in front of every route, and the CSRF policy.

Public routes are an explicit allow-list of URL *rules* (not path prefixes), so a path
such as `/assets/../_dash-layout` is judged by the route that actually serves it.
Everything else needs a signed-in user: pages redirect to the login form, the JSON API
and Dash's own endpoints answer 401 JSON.

CSRF: HTML forms carry flask-wtf's token. JSON endpoints (the API and Dash callbacks)
cannot carry the form field, so a state-changing request that rides on the session
cookie must either send the token in an `X-CSRFToken` header or have a JSON content
type. A cross-site form cannot send `application/json`, a cross-site script cannot send
it without a CORS preflight this server never grants, and SameSite=Lax withholds the
session cookie from cross-site POSTs in the first place. Requests authenticated by an
API token carry no cookie to abuse and need no CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

PUBLIC_RULES = frozenset({"/login", "/healthz", "/_favicon.ico"})
PUBLIC_RULE_PREFIXES = ("/assets/", "/_dash-component-suites/")
JSON_PATH_PREFIXES = ("/api/", "/_dash", "/_reload-hash")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRFToken"


def is_public_rule(rule: str | None) -> bool:
    if rule is None:
        return False
    return rule in PUBLIC_RULES or rule.startswith(PUBLIC_RULE_PREFIXES)


def wants_json(path: str) -> bool:
    """API and Dash endpoints speak JSON, also when they refuse."""
    return path == "/api" or path.startswith(JSON_PATH_PREFIXES)


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, otherwise None.

    Refuses absolute URLs, scheme-relative `//host`, backslashes (browsers read `/\\host`
    as `//host`) and control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path in {"/login", "/logout"}:
        return None
    return target


def authentication_required():
    if wants_json(request.path):
        return jsonify(error="authentication required"), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def check_csrf() -> None:
    if request.method in SAFE_METHODS or getattr(current_user, "via_token", False):
        return
    if not wants_json(request.path):
        current_app.extensions["csrf"].protect()
        return
    header = request.headers.get(CSRF_HEADER)
    if header:
        try:
            validate_csrf(header)
        except ValidationError as error:
            raise CSRFError(str(error)) from None
        return
    if not request.is_json:
        raise CSRFError(
            f"A state-changing request signed in by cookie needs a JSON body or an "
            f"{CSRF_HEADER} header."
        )


def gate():
    """before_request: refuse anonymous access to everything not on the allow-list."""
    rule = request.url_rule.rule if request.url_rule is not None else None
    if not is_public_rule(rule) and not current_user.is_authenticated:
        return authentication_required()
    if rule is not None and wants_json(request.path) and not wants_json(rule):
        # Dash's catch-all page route matches any path; an unknown API URL is a 404.
        abort(404)
    check_csrf()
    return None

"""The one login gate, the CSRF policy for JSON endpoints, roles and error answers."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, jsonify
from flask_login import current_user

from dashboard.auth.gate import is_public_rule, wants_json
from dashboard.auth.roles import ROLE_ORDER, Forbidden, ensure_role, has_role, require_role
from dashboard.store import NotFound

AUTH_REQUIRED = {"error": "authentication required"}
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DASH_ENDPOINTS = [("GET", "/_dash-layout"), ("GET", "/_dash-dependencies"),
                  ("POST", "/_dash-update-component"), ("GET", "/_reload-hash")]


def concrete_path(rule: str) -> str:
    return re.sub(r"<[^>]+>", "x", rule)


def protected_requests(app):
    for rule in app.url_map.iter_rules():
        if is_public_rule(rule.rule):
            continue
        for method in CHECKED_METHODS:
            if method in rule.methods:
                yield method, concrete_path(rule.rule)


def assert_refused_anonymously(response, method: str, path: str) -> None:
    where = f"{method} {path}"
    if wants_json(path):
        assert response.status_code == 401, where
        assert response.get_json() == AUTH_REQUIRED, where
    else:
        assert response.status_code == 302, where
        assert response.headers["Location"].startswith("/login?next="), where


def test_every_route_outside_the_allow_list_refuses_anonymous_requests(app, client):
    checked = list(protected_requests(app))
    assert ("POST", "/logout") in checked and ("GET", "/_dash-layout") in checked
    for method, path in checked:
        assert_refused_anonymously(client.open(path, method=method), method, path)


@pytest.mark.parametrize(("method", "path"), DASH_ENDPOINTS)
def test_dash_endpoints_answer_401_json_without_a_session(client, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.get_json() == AUTH_REQUIRED


def test_the_allow_list_is_only_login_health_and_static_assets():
    for rule in ["/login", "/healthz", "/_favicon.ico", "/assets/<path:filename>",
                 "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>"]:
        assert is_public_rule(rule)
    for rule in ["/_dash-layout", "/_dash-dependencies", "/_dash-update-component",
                 "/_reload-hash", "/", "/<path:path>", "/logout", "/api/v1/me", None]:
        assert not is_public_rule(rule)


def test_public_routes_answer_without_a_session(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code in {200, 503}
    assert client.get("/_favicon.ico").status_code == 200


def test_a_path_through_the_asset_routes_does_not_reach_dash_data(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for path in ["/assets/../_dash-layout", "/_dash-component-suites/../_dash-layout"]:
        response = client.get(path)
        assert response.status_code in {302, 401, 404, 500}, path
        assert b'"props"' not in response.data and b"Traceback" not in response.data


def test_pages_redirect_to_login_with_the_path_and_query(client):
    response = client.get("/customers?segment=At%20Risk")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/customers?segment%3DAt%2520Risk"


def test_a_signed_in_user_reaches_the_dashboard_and_dash_endpoints(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200


def test_unknown_api_urls_answer_json_404_and_pages_a_friendly_error(client, auth, make_user):
    auth.login(make_user())
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}
    page = client.post("/no-such-page", data={"csrf_token": auth.csrf_token()})
    assert page.status_code == 405
    assert "This page cannot be used that way." in page.get_data(as_text=True)


def test_wrong_methods_answer_json_405_with_allow_under_api(client, auth, make_user):
    auth.login(make_user())
    response = client.post("/api/v1/me", json={})
    assert response.status_code == 405
    assert response.get_json() == {"error": "method not allowed"}
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def probe(app):
    """Test-only routes: one per role for pages and the API, a JSON write, and a crash."""
    bp = Blueprint("probe", __name__)

    for role in ROLE_ORDER:
        @bp.route(f"/probe/{role}", methods=["GET", "POST"], endpoint=f"page_{role}")
        @require_role(role)
        def page(role=role):
            return f"{role} page"

        @bp.route(f"/api/v1/probe/{role}", methods=["POST"], endpoint=f"api_{role}")
        @require_role(role)
        def api(role=role):
            return jsonify(done=role)

    @bp.post("/api/v1/probe-write")
    def write():
        return jsonify(user=current_user.email)

    @bp.get("/probe/missing")
    @bp.get("/api/v1/probe-missing")
    def missing():
        raise NotFound("dataset 'abc' not found")

    @bp.get("/probe/crash")
    def crash():
        raise RuntimeError("database password is hunter2")

    @bp.get("/api/v1/probe-crash")
    def api_crash():
        raise RuntimeError("database password is hunter2")

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("user_role", list(ROLE_ORDER))
@pytest.mark.parametrize("required", list(ROLE_ORDER))
def test_role_matrix_for_pages_and_api(probe, client, auth, make_user, user_role, required):
    auth.login(make_user(role=user_role))
    allowed = ROLE_ORDER[user_role] >= ROLE_ORDER[required]
    page = client.get(f"/probe/{required}")
    api = client.post(f"/api/v1/probe/{required}", json={})
    if allowed:
        assert page.status_code == 200 and page.get_data(as_text=True) == f"{required} page"
        assert api.status_code == 200 and api.get_json() == {"done": required}
    else:
        assert page.status_code == 403
        assert "Error 403" in page.get_data(as_text=True)
        assert api.status_code == 403
        assert api.get_json() == {"error": f"this action needs the {required} role"}


def test_ensure_role_is_the_helper_for_callbacks_and_services(app, make_user):
    viewer, admin = make_user(role="viewer"), make_user(role="admin")
    with app.test_request_context():
        from dashboard.auth.users import LoginUser

        ensure_role(LoginUser(admin), "admin")
        with pytest.raises(Forbidden, match="needs the analyst role"):
            ensure_role(LoginUser(viewer), "analyst")
        with pytest.raises(Forbidden):
            ensure_role(current_user, "viewer")
        assert isinstance(Forbidden("x"), PermissionError)
        assert has_role(LoginUser(viewer), "viewer")
        with pytest.raises(ValueError, match="unknown role 'owner'"):
            has_role(LoginUser(admin), "owner")


def test_an_inactive_user_holds_no_role(make_user):
    from dashboard.auth.users import LoginUser

    assert not has_role(LoginUser(make_user(role="admin", active=False)), "viewer")


def test_session_json_writes_need_a_json_body_or_the_csrf_header(probe, client, auth, make_user):
    user = make_user()
    auth.login(user)
    form = client.post("/api/v1/probe-write", data={"a": "1"})
    assert form.status_code == 400
    assert "X-CSRFToken" in form.get_json()["error"]
    assert client.post("/api/v1/probe-write", data="{}", content_type="text/plain").status_code == 400
    assert client.post("/api/v1/probe-write", json={}).get_json() == {"user": user.email}
    with_header = client.post("/api/v1/probe-write", data={"a": "1"},
                              headers={"X-CSRFToken": auth.csrf_token()})
    assert with_header.status_code == 200
    forged = client.post("/api/v1/probe-write", data={"a": "1"}, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400


def test_dash_callbacks_refuse_a_cross_site_form_post(client, auth, make_user):
    auth.login(make_user())
    response = client.post("/_dash-update-component", data="{}", content_type="text/plain")
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_token_writes_need_no_csrf(probe, make_user):
    from dashboard import accounts
    from dashboard.database import db

    user = make_user()
    _token, plain = accounts.create_token(db.session(), user.email, "script")
    client = probe.test_client()
    response = client.post("/api/v1/probe-write", data={"a": "1"},
                           headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


def test_page_forms_need_the_csrf_token(probe, client, auth, make_user):
    auth.login(make_user(role="admin"))
    assert client.post("/probe/admin").status_code == 400
    assert client.post("/probe/admin", data={"csrf_token": auth.csrf_token()}).status_code == 200


def test_crashes_answer_without_a_stack_trace(probe, client, auth, make_user):
    probe.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(make_user())
    page = client.get("/probe/crash")
    api = client.get("/api/v1/probe-crash")
    assert page.status_code == 500 and api.status_code == 500
    assert "Something went wrong" in page.get_data(as_text=True)
    assert api.get_json() == {"error": "internal server error"}
    for response in (page, api):
        assert b"hunter2" not in response.data and b"Traceback" not in response.data


def test_a_row_missing_for_this_tenant_answers_404(probe, client, auth, make_user):
    auth.login(make_user())
    page = client.get("/probe/missing")
    assert page.status_code == 404
    assert "There is nothing here." in page.get_data(as_text=True)
    api = client.get("/api/v1/probe-missing")
    assert api.status_code == 404
    assert api.get_json() == {"error": "dataset 'abc' not found"}

"""Every response is hardened, and client addresses come from a proxy only when trusted."""

from __future__ import annotations

import pytest

from dashboard.hardening import SECURITY_HEADERS

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", ["/login", "/healthz", "/", "/api/v1/jobs", "/_dash-layout"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    assert response.headers.get("Cache-Control") == "no-store"


def test_static_assets_may_be_cached(client):
    with client.get("/assets/bootstrap.min.css") as response:
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") != "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _address_seen_by_login(app, headers) -> str:
    seen = []

    @app.before_request
    def remember():
        from flask import request

        seen.append(request.remote_addr)

    app.test_client().get("/login", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    return seen[-1]


def test_forwarded_address_is_ignored_without_trusted_proxies(app):
    assert _address_seen_by_login(app, {"X-Forwarded-For": "203.0.113.7"}) == "10.0.0.9"


def test_forwarded_address_is_used_behind_one_trusted_proxy(app_config):
    from dashboard import create_app

    app = create_app({**app_config, "PROXY_HOPS": 1})
    assert _address_seen_by_login(app, {"X-Forwarded-For": "203.0.113.7"}) == "203.0.113.7"

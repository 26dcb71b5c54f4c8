"""Every /api/v1 route in the URL map is in the OpenAPI document, with its path
parameters and responses, and the document is served to signed-in clients."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _api_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            for method in sorted(rule.methods - IGNORED_METHODS):
                yield path, method.lower(), set(rule.arguments)


def test_every_api_route_is_documented_with_its_parameters(app):
    from dashboard.api.openapi import DOCUMENT

    routes = list(_api_routes(app))
    assert len(routes) >= 15
    for path, method, arguments in routes:
        operation = DOCUMENT["paths"].get(path, {}).get(method)
        assert operation is not None, f"{method.upper()} {path} is not documented"
        documented = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert documented == arguments, f"{method.upper()} {path}: path parameters"
        assert operation["responses"], f"{method.upper()} {path}: responses"
    documented_routes = {(path, method) for path, ops in DOCUMENT["paths"].items() for method in ops}
    assert documented_routes == {(path, method) for path, method, _ in routes}


def test_the_document_is_served_as_json(client, auth, make_user):
    auth.login(make_user())

    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")

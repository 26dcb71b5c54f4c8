"""The server-rendered error pages carry the same favicon link as the Dash pages, and the
icon it points to is served without a session."""

from __future__ import annotations

import re

from flask import Blueprint

FAVICON = re.compile(r'<link rel="icon" type="image/x-icon" href="(/_favicon\.ico)">')


def _favicon(response) -> str | None:
    match = FAVICON.search(response.get_data(as_text=True))
    return match.group(1) if match else None


def test_the_404_and_500_pages_link_the_favicon(app, client, auth, make_user):
    crash = Blueprint("favicon_probe", __name__)

    @crash.get("/probe/favicon-crash")
    def broken():
        raise RuntimeError("boom")

    app.register_blueprint(crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(make_user())
    missing, broken_page = client.get("/no-such-page"), client.get("/probe/favicon-crash")
    assert (missing.status_code, broken_page.status_code) == (404, 500)
    assert "Error 404" in missing.get_data(as_text=True)
    assert "Error 500" in broken_page.get_data(as_text=True)
    assert _favicon(missing) == _favicon(broken_page) == "/_favicon.ico"
    auth.logout()
    assert client.get("/_favicon.ico").status_code == 200

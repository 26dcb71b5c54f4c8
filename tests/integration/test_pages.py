"""What a person meets at the edges: unknown addresses answer 404 with a way home, also
once Dash pages are registered, and signing out says so on the login page."""

from __future__ import annotations

from collections import OrderedDict

import dash
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def signed_in(client, auth, make_user):
    auth.login(make_user())
    return client


@pytest.fixture
def registered_pages(monkeypatch):
    """Pages as `dash.register_page` records them (path, and path_template if any)."""
    registry = OrderedDict()
    monkeypatch.setattr(dash, "page_registry", registry)

    def register(path: str, path_template: str | None = None) -> None:
        registry[f"pages{path}"] = {"path": path, "path_template": path_template}

    return register


@pytest.mark.parametrize("path", ["/nope", "/segmentz", "/no/such/page", "/assets-missing"])
def test_an_unknown_page_is_a_404_with_a_link_home(signed_in, path):
    response = signed_in.get(path)

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is nothing here" in page
    assert 'href="/"' in page


def test_the_overview_is_still_served(signed_in):
    assert signed_in.get("/").status_code == 200


def test_an_unknown_page_asks_an_anonymous_visitor_to_sign_in_first(client):
    response = client.get("/nope")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_registered_dash_pages_are_served_and_others_stay_404(signed_in, registered_pages):
    registered_pages("/segments")
    registered_pages("/customers/none", path_template="/customers/<customer_id>")

    assert signed_in.get("/segments").status_code == 200
    assert signed_in.get("/segments/").status_code == 200
    assert signed_in.get("/customers/c-42").status_code == 200
    assert signed_in.get("/customers/c-42/orders").status_code == 404
    assert signed_in.get("/churn").status_code == 404


def test_signing_out_says_so_on_the_login_page(client, auth, make_user):
    auth.login(make_user())

    response = auth.logout()
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have been signed out." in login_page
    assert "You have been signed out." not in client.get("/login").get_data(as_text=True)

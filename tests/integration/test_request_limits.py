"""Request bodies are capped before they are read: small for every route, large only for
views marked as uploads, so anonymous giant POSTs cannot exhaust the web process."""

from __future__ import annotations

import io
import json

import psutil
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from dashboard.hardening import accepts_upload

pytestmark = pytest.mark.integration

KB = 1024
MB = 1024 * KB
# Far below the 512 MB sent; the interpreter and allocator may move a few MB anyway.
FLAT_RSS_BYTES = 48 * MB


class GeneratedBody(io.RawIOBase):
    """A request body produced as it is read, so the test itself never holds it; `sent`
    says how much of it the server read. Seeking only moves the position (the test client
    measures the length that way)."""

    def __init__(self, size: int, byte: bytes = b"a") -> None:
        self.size = size
        self.sent = 0
        self.byte = byte

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.sent = self.size + offset if whence == io.SEEK_END else offset
        return self.sent

    def tell(self) -> int:
        return self.sent

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.sent)
        buffer[:count] = self.byte * count
        self.sent += count
        return count


def rss() -> int:
    return psutil.Process().memory_info().rss


def test_a_giant_anonymous_login_post_is_refused_unread_and_memory_stays_flat(client):
    body = GeneratedBody(512 * MB)
    before = rss()
    response = client.post("/login", input_stream=body,
                           content_type="application/x-www-form-urlencoded")
    grown = rss() - before
    assert response.status_code == 413
    assert "larger than the limit of 1024 KB" in response.get_data(as_text=True)
    assert body.sent == 0
    assert grown < FLAT_RSS_BYTES, f"RSS grew by {grown / MB:.0f} MB"


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(client, app):
    limit = app.config["MAX_REQUEST_KB"] * KB
    body = GeneratedBody(256 * MB)
    before = rss()
    response = client.post("/login", input_stream=body,
                           content_type="application/x-www-form-urlencoded",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.sent <= limit + 64 * KB
    assert rss() - before < FLAT_RSS_BYTES


def test_a_dash_callback_over_the_limit_answers_413_json(client, auth, make_user):
    auth.login(make_user())
    payload = json.dumps({"output": "jobs-table.children", "inputs": [],
                          "padding": "x" * (2 * MB)})
    response = client.post("/_dash-update-component", data=payload,
                           content_type="application/json")
    assert response.status_code == 413
    assert "limit of 1024 KB" in response.get_json()["error"]


def test_a_json_api_body_over_the_limit_answers_413_json(api_as, make_user):
    api = api_as(make_user(role="analyst"))
    response = api.post("/api/v1/jobs", json={"kind": "self_test", "padding": "x" * (2 * MB)})
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_the_limit_is_configurable(app_config, make_user):
    from dashboard import create_app

    small = create_app({**app_config, "MAX_REQUEST_KB": 4})
    response = small.test_client().post("/login", data={"email": "a@b.example",
                                                        "password": "p" * 5 * KB})
    assert response.status_code == 413


def test_bodies_within_the_limit_still_work(client, auth, make_user):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302


@pytest.fixture
def upload_app(app_config):
    """An app with one view marked as an upload, the way the dataset routes are."""
    from flask import jsonify, request

    from dashboard import create_app
    app = create_app({**app_config, "MAX_UPLOAD_MB": 8})

    @app.post("/api/v1/test-upload")
    @accepts_upload
    def test_upload():
        upload = request.files["file"]
        size = len(upload.stream.read())
        return jsonify(size=size, on_disk=hasattr(upload.stream, "_file")
                       and not isinstance(upload.stream._file, io.BytesIO))

    @app.post("/api/v1/test-form")
    def test_form():
        return jsonify(size=len(request.files["file"].read()))

    return app


def post_multipart(client, path: str, headers: dict, size: int, text: str = ""):
    """POST a form with a file of `size` bytes (and a text field), encoded by werkzeug into
    a temporary file that is closed afterwards."""
    fields = {"file": FileStorage(GeneratedBody(size, b"x"), "sales.csv")}
    if text:
        fields["note"] = text
    stream, length, boundary = stream_encode_multipart(fields)
    with stream:
        return client.post(path, headers=headers, input_stream=stream,
                           content_type=f'multipart/form-data; boundary="{boundary}"')


def test_only_upload_views_accept_large_files_and_spool_them_to_disk(upload_app, make_user):
    from dashboard import accounts
    from dashboard.database import db

    user = make_user(role="analyst")
    _, token = accounts.create_token(db.session(), user.email, "uploads")
    headers = {"Authorization": f"Bearer {token}"}
    client = upload_app.test_client()

    before = rss()
    ok = post_multipart(client, "/api/v1/test-upload", headers, 6 * MB)
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.get_json() == {"size": 6 * MB, "on_disk": True}
    assert rss() - before < FLAT_RSS_BYTES

    assert post_multipart(client, "/api/v1/test-form", headers, 6 * MB).status_code == 413
    assert post_multipart(client, "/api/v1/test-upload", headers, 9 * MB).status_code == 413
    # Text fields of an upload form stay within the small limit.
    refused = post_multipart(client, "/api/v1/test-upload", headers, KB, text="n" * (2 * MB))
    assert refused.status_code == 413

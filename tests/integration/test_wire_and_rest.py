"""At rest and on the wire: private files and folders, a password-protected embedded
Redis, a Content-Security-Policy, no version banner, and quiet 404s for missing files."""

from __future__ import annotations

import http.client
import logging
import os
import stat
import threading

import pytest
import redis
from werkzeug.serving import make_server

from dashboard.hardening import QuietRequestHandler

pytestmark = pytest.mark.integration


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The common default umask, under which plain mkdir/open give 0755/0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path, loose_umask):
    from sqlalchemy import text

    from dashboard.database import make_engine

    path = tmp_path / "fresh" / "valuelens.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600
        assert mode(f"{path}-shm") == 0o600
    engine.dispose()
    assert mode(path.parent) == 0o700


def test_an_existing_database_file_keeps_its_mode(tmp_path, loose_umask):
    from dashboard.database import make_engine

    path = tmp_path / "valuelens.db"
    path.touch(mode=0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o640


def test_tenant_folders_are_created_private(app, make_tenant, loose_umask):
    from dashboard.store import store_for

    tenant = make_tenant()
    with app.app_context():
        target = store_for(tenant.id).path("uploads", "2024", "sales.csv")
    data_dir = app.config["DATA_DIR"]
    for folder in (f"{data_dir}/tenants", f"{data_dir}/tenants/{tenant.id}",
                   target.parent.parent, target.parent):
        assert mode(folder) == 0o700, folder


def test_embedded_redis_needs_its_generated_password_and_listens_on_loopback(tmp_path):
    from dashboard.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    try:
        client = redis.Redis.from_url(url)
        assert client.ping()
        assert client.config_get("bind")["bind"] == "127.0.0.1"
        assert client.config_get("protected-mode")["protected-mode"] == "yes"
        client.close()
        anonymous = redis.Redis(host="127.0.0.1", port=server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        assert server.password not in " ".join(server.process.args)
        assert server.password not in server.display_url
        assert mode(tmp_path / "redis") == 0o700
        assert mode(tmp_path / "redis" / "redis.conf") == 0o600
    finally:
        server.stop()


def test_each_start_of_the_embedded_redis_gets_a_new_password(tmp_path):
    from dashboard.redis_server import EmbeddedRedis

    first, second = EmbeddedRedis(tmp_path / "a"), EmbeddedRedis(tmp_path / "b")
    assert first.password != second.password
    assert len(first.password) >= 32


def test_pages_carry_a_policy_that_allows_only_dash_own_inline_script(client, auth, make_user):
    import dash

    auth.login(make_user())
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    script_src = directives["script-src"].split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert set(dash.get_app().csp_hashes()) <= set(script_src)
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "new DashRenderer" in response.get_data(as_text=True)


def test_login_and_api_answers_carry_the_policy_too(client):
    for path in ("/login", "/api/v1/jobs", "/healthz"):
        assert "default-src 'self'" in client.get(path).headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", [
    "/_dash-component-suites/dash/no-such-file.v4_0_0m1.js",
    "/_dash-component-suites/no_such_package/bundle.js",
    "/assets/no-such-file.css",
])
def test_a_missing_static_file_is_a_quiet_404(client, caplog, path):
    with caplog.at_level(logging.INFO):
        response = client.get(path)
    assert response.status_code == 404
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


def test_the_local_web_server_names_no_versions(app):
    server = make_server("127.0.0.1", 0, app, threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert response.status == 200
    assert response.getheader("Server") == "ValueLens"

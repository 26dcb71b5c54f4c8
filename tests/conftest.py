"""Shared fixtures: a real Redis, a real metadata database, the app, a real Celery worker,
and user factories.

Redis: `REDIS_URL` when given, otherwise an embedded redis-server for the session.
Database: PostgreSQL when it answers (required when CI=true), otherwise SQLite; each test
session gets a fresh database, migrated with the product's own migrations.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "VALUELENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Strong enough for the production key check, which subprocesses in the tests run.
TEST_SECRET_KEY = "Qm7vT2xR9pL4wK8sN3jH6dF1gB5cZ0yA-e_UoIuYtRiEwQ"
STRONG_PASSWORD = "correct horse battery staple 42"


def _postgres_answers() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    from dashboard.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    import sqlalchemy

    from dashboard.migrate import upgrade

    if os.environ.get("CI") == "true" or _postgres_answers():
        name = f"valuelens_test_{secrets.token_hex(4)}"
        admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        yield url
        from dashboard.database import db

        db.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url


@pytest.fixture
def app_config(database_url, redis_url, tmp_path):
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SESSION_COOKIE_SECURE": False,
    }


@pytest.fixture
def app(app_config):
    from dashboard import create_app
    from dashboard.database import db
    from dashboard.schema import Base

    server = create_app(app_config)
    yield server
    # Each test starts from empty tables; the schema stays.
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def celery_worker(database_url, redis_url, tmp_path_factory):
    """A real Celery worker (thread pool) consuming from the real Redis for the session.

    Tasks run in the context of the most recently created Flask app, so each test's `app`
    (same database and Redis, its own data directory) is the one the worker uses.
    """
    from celery.contrib.testing import tasks as ping_task  # noqa: F401  (start-up ping)
    from celery.contrib.testing.worker import start_worker

    from dashboard import create_app
    from workers.celery_app import load_tasks

    celery = load_tasks()
    create_app({
        "TESTING": True, "SECRET_KEY": TEST_SECRET_KEY, "DATABASE_URL": database_url,
        "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path_factory.mktemp("worker-data")),
    })
    with start_worker(celery, pool="threads", concurrency=2, perform_ping_check=True,
                      shutdown_timeout=30, loglevel="WARNING") as worker:
        yield worker


# --- Accounts and signing in --------------------------------------------------------
# `make_tenant` / `make_user` create real rows through the account service; a user comes
# back as its `User` row with the plain password attached as `.password`. `auth` signs a
# test client in through the real /login form, CSRF token included.

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def unique_address() -> str:
    """A client address of its own, so one test's failed logins never count against
    another test's (the rate-limit windows live in the shared Redis)."""
    return "10.{}.{}.{}".format(*secrets.token_bytes(3))


@pytest.fixture
def make_tenant(app):
    from dashboard import accounts
    from dashboard.database import db

    def make(slug: str | None = None, name: str | None = None, **settings):
        slug = slug or f"t-{secrets.token_hex(4)}"
        return accounts.create_tenant(db.session(), slug, name or slug.title(), **settings)

    return make


@pytest.fixture
def make_user(app, make_tenant):
    from dashboard import accounts
    from dashboard.database import db

    def make(tenant=None, role: str = "viewer", email: str | None = None,
             password: str = STRONG_PASSWORD, active: bool = True):
        tenant = tenant or make_tenant()
        email = email or f"user-{secrets.token_hex(4)}@example.com"
        user = accounts.create_user(db.session(), tenant, email, password, role)
        if not active:
            user.active = False
            db.session.commit()
        user.password = password
        return user

    return make


@pytest.fixture
def tenant_a(make_tenant):
    return make_tenant("tenant-a", "Tenant A")


@pytest.fixture
def tenant_b(make_tenant):
    return make_tenant("tenant-b", "Tenant B")


class AuthActions:
    """Signs one test client in and out through the real forms."""

    def __init__(self, client, address: str | None = None) -> None:
        self.client = client
        self.address = address or unique_address()

    def csrf_token(self) -> str:
        """The form token of this client's session (from the page that shows a form)."""
        response = self.client.get("/login")
        if response.status_code == 302:
            response = self.client.get("/account/password")
        match = CSRF_FIELD.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on the page (status {response.status_code})"
        return match.group(1)

    def login(self, user=None, password: str | None = None, *, email: str | None = None,
              next: str | None = None, address: str | None = None):
        """POST the login form; `user` is a row from `make_user` (or give `email`)."""
        form = {
            "csrf_token": self.csrf_token(),
            "email": email if email is not None else user.email,
            "password": password if password is not None else user.password,
        }
        if next is not None:
            form["next"] = next
        return self.client.post(
            "/login", data=form, environ_base={"REMOTE_ADDR": address or self.address}
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(client):
    return AuthActions(client)

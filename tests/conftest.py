"""Shared fixtures: a real Redis, a real metadata database, the app, and user factories.

Redis: `REDIS_URL` when given, otherwise an embedded redis-server for the session.
Database: PostgreSQL when it answers (required when CI=true), otherwise SQLite; each test
session gets a fresh database, migrated with the product's own migrations.
"""

from __future__ import annotations

import os
import secrets

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "VALUELENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_SECRET_KEY = "test-" + "k" * 40
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

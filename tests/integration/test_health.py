"""GET /healthz against real services: a worker, no worker, Redis down, database down."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_without_workers(tmp_path_factory):
    """A second, real Redis server that no worker listens to."""
    from dashboard.redis_server import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("lonely-redis"))
    yield server.start()
    server.stop()


def _closed_port_url() -> str:
    from dashboard.redis_server import free_port

    return f"redis://127.0.0.1:{free_port()}/0"


def test_healthy_with_database_redis_and_a_worker(celery_worker, app, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["db"], body["redis"]) == ("ok", "ok")
    assert body["workers"] >= 1


def test_no_worker_answering_is_unhealthy(app_config, redis_without_workers):
    from dashboard import create_app

    app = create_app({**app_config, "REDIS_URL": redis_without_workers})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"db": "ok", "redis": "ok", "workers": 0}


def test_redis_down_is_named(app_config):
    from dashboard import create_app

    app = create_app({**app_config, "REDIS_URL": _closed_port_url()})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"db": "ok", "redis": "error: cannot connect", "workers": 0}


def test_database_down_is_named(app_config):
    from dashboard import create_app
    from dashboard.redis_server import free_port

    app = create_app({**app_config,
                      "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"})

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["db"] == "error: OperationalError"
    assert body["redis"] == "ok"

"""ValueLens web application: `create_app()` is the one way to build it."""

from __future__ import annotations

from flask import Flask

from dashboard.config import check_secret_key, load_config
from dashboard.database import db


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask server with every extension bound and Dash mounted.

    `config` overrides what `load_config()` read from the environment (tests pass their
    database, Redis and data directory here).
    """
    settings = load_config()
    settings.update(config or {})
    check_secret_key(settings)

    server = Flask(__name__, static_folder=None)
    server.config.update(settings)

    db.init_app(server)

    from dashboard import api, auth, hardening, health, redis_conn, web
    from dashboard.queue import init_celery

    hardening.init_app(server)
    redis_conn.init_app(server)
    init_celery(server)
    auth.init_app(server)
    api.init_app(server)
    server.register_blueprint(health.bp)
    web.init_dash(server)
    return server

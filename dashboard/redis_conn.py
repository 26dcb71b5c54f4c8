"""One Redis client per application, for rate-limit counters, locks and health checks."""

from __future__ import annotations

import redis
from flask import current_app


def init_app(app) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["redis"] = (
        redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2) if url else None
    )


def get_redis() -> redis.Redis:
    client = current_app.extensions.get("redis")
    if client is None:
        raise RuntimeError("REDIS_URL is not configured")
    return client

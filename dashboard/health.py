"""GET /healthz: is the database answering, is Redis answering, how many workers are up.

200 when all three are fine, 503 otherwise, always with the same keys:
`{"db": "ok", "redis": "ok", "workers": N}`. A failing part reads `"error: <reason>"`;
the reason is a short category only, since this route is public (details go to the log).
Workers are counted by a Celery ping with a short timeout; without Redis there is nobody
to ping, so they count as 0.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, jsonify
from kombu.exceptions import OperationalError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dashboard.queue import workers_answering
from dashboard.redis_conn import get_redis
from dashboard.store import unscoped

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


def _reason(exc: Exception) -> str:
    if isinstance(exc, redis.TimeoutError | TimeoutError):
        return "error: timed out"
    if isinstance(exc, redis.ConnectionError | ConnectionError | OperationalError):
        return "error: cannot connect"
    return f"error: {type(exc).__name__}"


def check_database() -> str:
    try:
        unscoped().execute(text("SELECT 1"))
        unscoped().rollback()
        return "ok"
    except SQLAlchemyError as exc:
        logger.error("health check: database: %s", exc)
        unscoped().rollback()
        return _reason(exc)


def check_redis() -> str:
    try:
        get_redis().ping()
        return "ok"
    except (redis.RedisError, RuntimeError) as exc:
        logger.error("health check: redis: %s", exc)
        return "error: not configured" if isinstance(exc, RuntimeError) else _reason(exc)


def count_workers() -> int:
    try:
        return workers_answering()
    except (OperationalError, redis.RedisError, OSError) as exc:
        logger.error("health check: worker ping: %s", exc)
        return 0


@bp.get("/healthz")
def healthz():
    status = {"db": check_database(), "redis": check_redis(), "workers": 0}
    if status["redis"] == "ok":
        status["workers"] = count_workers()
    healthy = status["db"] == "ok" and status["redis"] == "ok" and status["workers"] >= 1
    response = jsonify(status)
    response.status_code = 200 if healthy else 503
    return response

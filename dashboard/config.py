"""Configuration: every environment variable the product reads is parsed here, once.

`load_config()` returns a plain dict that becomes `app.config`; the Celery settings are
derived from it in `celery_settings()`. Secrets fail fast: outside debug and testing the
application refuses to start without a strong `SECRET_KEY`.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 8050
DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_UPLOAD_MB = 1024
MIN_SECRET_BYTES = 32

# Values copied from tutorials and sample configs: a key equal to one of these is public.
SAMPLE_SECRET_KEYS = frozenset(
    {
        "dev",
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "development",
        "secret-key",
        "secret_key",
        "your-secret-key",
        "your_secret_key",
        "supersecretkey",
        "super-secret-key",
        "please-change-this-secret-key-in-production",
        "change-this-to-a-long-random-string-of-at-least-32-bytes",
    }
)


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which setting and why."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"expected a boolean (true/false), got {value!r}")


def _int(name: str, value: str | None, default: int, minimum: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if parsed < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {parsed}")
    return parsed


def default_database_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'valuelens.db').resolve()}"


def load_config(environ: dict[str, str] | None = None) -> dict:
    """Read the environment into a Flask config dict."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("DATA_DIR") or "var").resolve()
    return {
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": env.get("DATABASE_URL") or default_database_url(data_dir),
        "REDIS_URL": env.get("REDIS_URL", ""),
        "PORT": _int("PORT", env.get("PORT"), DEFAULT_PORT, minimum=1),
        "HOST": env.get("HOST") or DEFAULT_HOST,
        "WEB_CONCURRENCY": _int("WEB_CONCURRENCY", env.get("WEB_CONCURRENCY"), 2, 1),
        "WEB_THREADS": _int("WEB_THREADS", env.get("WEB_THREADS"), 4, 1),
        "WORKER_CONCURRENCY": _int("WORKER_CONCURRENCY", env.get("WORKER_CONCURRENCY"), 2, 1),
        # Only `valuelens run` reads it, when it creates the demo tenant on first start.
        "DEMO_PASSWORD": env.get("VALUELENS_DEMO_PASSWORD", ""),
        "PROXY_HOPS": _int("PROXY_HOPS", env.get("PROXY_HOPS"), 0, 0),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", env.get("MAX_UPLOAD_MB"), DEFAULT_MAX_UPLOAD_MB, 1),
        "DEBUG": _bool(env.get("VALUELENS_DEBUG"), False),
        "TESTING": False,
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(
            "LOGIN_MAX_FAILURES_PER_ACCOUNT", env.get("LOGIN_MAX_FAILURES_PER_ACCOUNT"), 5, 1
        ),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(
            "LOGIN_MAX_FAILURES_PER_ADDRESS", env.get("LOGIN_MAX_FAILURES_PER_ADDRESS"), 30, 1
        ),
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", env.get("LOGIN_WINDOW_SECONDS"), 60, 1),
        "TASK_SOFT_TIME_LIMIT": _int("TASK_SOFT_TIME_LIMIT", env.get("TASK_SOFT_TIME_LIMIT"), 3300, 1),
        "TASK_TIME_LIMIT": _int("TASK_TIME_LIMIT", env.get("TASK_TIME_LIMIT"), 3600, 1),
        "REAPER_GRACE_SECONDS": _int("REAPER_GRACE_SECONDS", env.get("REAPER_GRACE_SECONDS"), 120, 1),
    }


def check_secret_key(config: dict) -> None:
    """Refuse weak keys unless the app runs in debug or testing mode.

    `CLI_MODE` is set by the administrative commands (`valuelens create-user` and the
    like): they build the app to reach the database but never serve a request or sign a
    cookie, so an operator can run them without the web secret at hand.
    """
    if config.get("DEBUG") or config.get("TESTING") or config.get("CLI_MODE"):
        return
    key = config.get("SECRET_KEY") or ""
    if not key:
        raise ConfigError("SECRET_KEY is not set; set it to a random string of at least 32 bytes")
    if key.strip().lower() in SAMPLE_SECRET_KEYS:
        raise ConfigError("SECRET_KEY is a published sample value; generate a random one")
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes")


def celery_settings(config: dict) -> dict:
    """The Celery configuration: lowercase Celery keys, reliability first."""
    broker = config["REDIS_URL"]
    return {
        "broker_url": broker,
        "result_backend": broker,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": config["TASK_SOFT_TIME_LIMIT"],
        "task_time_limit": config["TASK_TIME_LIMIT"],
        "task_track_started": True,
        "result_expires": 7 * 24 * 3600,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": config["TASK_TIME_LIMIT"] + 600},
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
    }

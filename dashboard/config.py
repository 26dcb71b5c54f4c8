"""Configuration: every environment variable the product reads is parsed here, once.

`load_config()` returns a plain dict that becomes `app.config`; the Celery settings are
derived from it in `celery_settings()`. Secrets fail fast: every serving process (web,
worker, beat, `run`) refuses to start without a strong `SECRET_KEY`, and no setting turns
that check off; debug mode is only for `valuelens run` on a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

from zxcvbn import zxcvbn

DEFAULT_PORT = 8050
DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_UPLOAD_MB = 1024
# Forms, JSON and Dash callbacks: far above what a person types or a callback sends, far
# below what lets a few anonymous requests exhaust the web process's memory.
DEFAULT_MAX_REQUEST_KB = 1024
# An idle browser session ends after an hour; any session ends after a working day.
DEFAULT_SESSION_IDLE_MINUTES = 60
DEFAULT_SESSION_MAX_HOURS = 12
MIN_SECRET_BYTES = 32
# zxcvbn's estimate of the guesses a key needs: 10^24 is about 80 bits. Random keys of 32
# hex digits or more estimate above 10^28; repeats, sequences and words fall far short.
MIN_SECRET_GUESSES_LOG10 = 24
# The estimate's cost grows with the length; a key's first 128 characters say enough.
MAX_SECRET_CHARS_ESTIMATED = 128

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
        "you-will-never-guess",
        "hard to guess string",
        "super secret key",
        # Flask's documentation shows this output of `secrets.token_hex()`.
        "192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
    }
)
# Parts of placeholders (README and compose examples, "<output of: python3 -c ...>"): a
# key containing one was pasted from documentation, not generated.
PLACEHOLDER_MARKERS = (
    "<", ">", "change-me", "change_me", "changeme", "change-this", "change_this",
    "replace-me", "replace_me", "your-secret", "your_secret", "placeholder", "output of",
    "secrets.token", "token_urlsafe", "token_hex",
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


def _int(name: str, value: str | None, default: int, minimum: int = 0,
         maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None
    if parsed < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {parsed}")
    if maximum is not None and parsed > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {parsed}")
    return parsed


DEFAULT_WORKER_NICE = 10


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
        # `valuelens web` usually runs in a container, where only all interfaces are
        # reachable: it binds HOST when one is given, else every interface.
        "WEB_HOST": env.get("HOST") or "0.0.0.0",
        "WEB_CONCURRENCY": _int("WEB_CONCURRENCY", env.get("WEB_CONCURRENCY"), 2, 1),
        "WEB_THREADS": _int("WEB_THREADS", env.get("WEB_THREADS"), 4, 1),
        "WORKER_CONCURRENCY": _int("WORKER_CONCURRENCY", env.get("WORKER_CONCURRENCY"), 2, 1),
        # Task processes yield the CPU to web requests: training may take every core for a
        # minute, and a page should not wait behind it.
        "WORKER_NICE": _int("WORKER_NICE", env.get("WORKER_NICE"), DEFAULT_WORKER_NICE, 0, 19),
        # Only `valuelens run` reads it, when it creates the demo tenant on first start.
        "DEMO_PASSWORD": env.get("VALUELENS_DEMO_PASSWORD", ""),
        "PROXY_HOPS": _int("PROXY_HOPS", env.get("PROXY_HOPS"), 0, 0),
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", env.get("MAX_UPLOAD_MB"), DEFAULT_MAX_UPLOAD_MB, 1),
        "MAX_REQUEST_KB": _int("MAX_REQUEST_KB", env.get("MAX_REQUEST_KB"),
                               DEFAULT_MAX_REQUEST_KB, 1),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", env.get("SESSION_IDLE_MINUTES"),
                                     DEFAULT_SESSION_IDLE_MINUTES, 1),
        # Also the longest Flask accepts a signed cookie and keeps a logout on the deny-list.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int(
            "SESSION_MAX_HOURS", env.get("SESSION_MAX_HOURS"), DEFAULT_SESSION_MAX_HOURS, 1)),
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
        # Fair queues: each tenant has at most this many jobs at the workers at once; the
        # rest wait in the database, so one tenant's backlog never fills the broker.
        "TENANT_MAX_RUNNING_JOBS": _int("TENANT_MAX_RUNNING_JOBS",
                                        env.get("TENANT_MAX_RUNNING_JOBS"), 1, 1),
        "TENANT_MAX_WAITING_JOBS": _int("TENANT_MAX_WAITING_JOBS",
                                        env.get("TENANT_MAX_WAITING_JOBS"), 10, 0),
    }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secret_key(config: dict) -> None:
    """Fail fast before serving: a strong key, and debug mode only where it is safe.

    Only the test suite (`TESTING`) and the administrative commands (`CLI_MODE`: they reach
    the database but never serve a request or sign a cookie) go without a key; neither
    can be set from the environment. Debug mode is refused unless `valuelens run`
    (`LOCAL_RUN`) serves on a loopback address, and it never relaxes the key check.
    """
    if config.get("DEBUG") and not (config.get("LOCAL_RUN") and is_loopback(config["HOST"])):
        raise ConfigError("VALUELENS_DEBUG is only allowed for `valuelens run` on a loopback "
                          "HOST; unset it for web, worker and beat")
    if config.get("TESTING") or config.get("CLI_MODE"):
        return
    problem = secret_key_problem(config.get("SECRET_KEY") or "")
    if problem:
        raise ConfigError(problem)


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot sign sessions, as one sentence; None when it is strong."""
    hint = "generate one with: python3 -c \"import secrets; print(secrets.token_urlsafe(48))\""
    if not key:
        return f"SECRET_KEY is not set; {hint}"
    lowered = key.strip().lower()
    if lowered in SAMPLE_SECRET_KEYS or any(mark in lowered for mark in PLACEHOLDER_MARKERS):
        return f"SECRET_KEY is a published sample value or placeholder; {hint}"
    if any(char.isspace() for char in key):
        return f"SECRET_KEY contains whitespace, so it was typed or pasted, not generated; {hint}"
    if len(key.encode()) < MIN_SECRET_BYTES:
        return f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes; {hint}"
    sample = key[:MAX_SECRET_CHARS_ESTIMATED]
    if zxcvbn(sample, max_length=len(sample))["guesses_log10"] < MIN_SECRET_GUESSES_LOG10:
        return f"SECRET_KEY is too predictable (repeats, sequences or words); {hint}"
    return None


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

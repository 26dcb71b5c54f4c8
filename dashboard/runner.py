"""`valuelens run`: the whole product on one machine, under one supervisor.

The supervisor migrates the database, starts an embedded Redis unless `REDIS_URL` is
given, creates the demo tenant on first start, then runs one Celery worker as a child
process and the web server in-process (Flask's threaded server), plus a timer for the job
reaper and the tenants' retrain schedules. The "running" banner appears once `/healthz` is
green, and the terminal shows page views, API calls and errors, not the browser's routine
polls. Every child gets its own session (process group), so a Ctrl-C in the terminal
reaches the supervisor alone: it stops the web server, then the worker with its pool, then
Redis, and only then exits. Nothing is left running.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from dashboard.config import ConfigError, check_secret_key, is_loopback, load_config
from dashboard.demo import DEMO_USERS, Demo, ensure_demo
from dashboard.hardening import QuietRequestHandler
from dashboard.migrate import upgrade

logger = logging.getLogger(__name__)

WORKER_APP = "workers.entry"
SECRET_KEY_FILE = "secret_key"
REAPER_INTERVAL_SECONDS = 60
WORKER_STOP_SECONDS = 20
POLL_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A worker that dies this soon after starting is failing to boot, not crashing at random:
# after a few of those in a row the supervisor gives up instead of looping forever.
WORKER_BOOT_SECONDS = 15
WORKER_BOOT_FAILURES = 3
# The banner waits this long for /healthz to be green (a worker answering), so "running"
# means ready; a slower start prints it anyway and says what is missing.
READY_TIMEOUT_SECONDS = 90
# Requests a browser repeats on its own (the job list's poll, Dash's plumbing and static
# files): a success is not worth a line in the terminal; errors still are.
ROUTINE_PATH_PREFIXES = ("/_dash-update-component", "/_dash-layout", "/_dash-dependencies",
                         "/_reload-hash", "/_favicon.ico", "/assets/",
                         "/_dash-component-suites/")

def worker_command(concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", WORKER_APP, "worker",
        "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "INFO",
    ]


def local_secret_key(data_dir: Path) -> str:
    """The secret key kept under DATA_DIR for local use, created (mode 0600) when missing."""
    path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Tighten a copy that was restored with looser permissions.
        os.chmod(path, 0o600)
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def browser_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


class LocalRequestHandler(QuietRequestHandler):
    """The web server's request handler for a local run: routine successes go unlogged."""

    def log_request(self, code="-", size="-") -> None:
        routine = urlsplit(self.path).path.startswith(ROUTINE_PATH_PREFIXES)
        if routine and str(code)[:1] in {"2", "3"}:
            return
        super().log_request(code, size)


class Supervisor:
    """Owns the child processes of `valuelens run` and tears all of them down on exit."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.redis = None
        self.worker: subprocess.Popen | None = None
        self.worker_started = 0.0
        self.server = None
        self.web_thread: threading.Thread | None = None
        self.reaper_thread: threading.Thread | None = None

    @staticmethod
    def say(line: str = "") -> None:
        print(line, flush=True)

    @staticmethod
    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr, flush=True)
        return 1

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda *_: self.stop.set())
        try:
            return self._serve()
        finally:
            # A second Ctrl-C must not interrupt the teardown halfway and orphan a child.
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
            self._shutdown()

    def _serve(self) -> int:
        from dashboard import create_app
        from dashboard.accounts import AccountError
        from dashboard.redis_server import EmbeddedRedis

        settings = self.settings
        data_dir = Path(settings["DATA_DIR"])
        # The database, the secret key and every tenant's files live here: owner only.
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        overrides: dict = {"LOCAL_RUN": True}
        if not settings["SECRET_KEY"]:
            overrides["SECRET_KEY"] = local_secret_key(data_dir)
            self.say(f"Using the local secret key in {data_dir / SECRET_KEY_FILE} "
                     "(set SECRET_KEY to use your own).")
        check_secret_key({**settings, **overrides})
        host, port = settings["HOST"], settings["PORT"]
        if is_loopback(host):
            overrides["SESSION_COOKIE_SECURE"] = False
            self.say(f"Serving plain HTTP on {host}: secure-only session cookies are off.")
        elif settings["SESSION_COOKIE_SECURE"]:
            self.say(f"Serving plain HTTP on {host}: browsers will only log in through an "
                     "HTTPS proxy in front (or set SESSION_COOKIE_SECURE=false).")
        if not settings["REDIS_URL"]:
            self.redis = EmbeddedRedis(data_dir / "redis")
        overrides["REDIS_URL"] = settings["REDIS_URL"] or self.redis.url

        upgrade(settings["DATABASE_URL"])
        self.say("Database is at the latest schema.")
        app = create_app(overrides)
        # Listen before starting any child, so a busy port fails fast and leaves nothing
        # (werkzeug prints the reason and exits with status 1).
        self.server = make_server(host, port, app, threaded=True,
                                  request_handler=LocalRequestHandler)
        if self.redis is not None:
            try:
                self.redis.start()
            except RuntimeError as exc:
                return self.fail(str(exc))
            self.say(f"Started the embedded Redis at {self.redis.display_url} "
                     f"(append-only file in {self.redis.directory}).")
        with app.app_context():
            try:
                demo = ensure_demo(settings["DEMO_PASSWORD"] or None)
            except AccountError as exc:
                return self.fail(str(exc))
        if self.stop.is_set():
            return 0

        env = {**os.environ, **{key: str(app.config[key]) for key in
                                ("DATABASE_URL", "REDIS_URL", "DATA_DIR", "SECRET_KEY")}}
        env.pop("VALUELENS_DEMO_PASSWORD", None)
        # Debug mode is for the web server of a local run; a worker refuses to start with it.
        env.pop("VALUELENS_DEBUG", None)
        self._start_worker(env)
        self.web_thread = self._start_thread("web", self.server.serve_forever)
        self.reaper_thread = self._start_thread("reaper", lambda: self._reap_periodically(app))
        ready = self._wait_until_healthy(app)
        if self.stop.is_set():
            return 0
        self._print_banner(browser_url(host, port), demo, ready)
        return self._watch(env)

    def _start_worker(self, env: dict) -> None:
        self.worker = subprocess.Popen(
            worker_command(concurrency=1), env=env, start_new_session=True
        )
        self.worker_started = time.monotonic()

    @staticmethod
    def _start_thread(name: str, target) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _reap_periodically(self, app) -> None:
        from dashboard.pipeline import run_retrain_schedules
        from dashboard.reaper import reap
        from dashboard.schema import utcnow

        while not self.stop.wait(REAPER_INTERVAL_SECONDS):
            try:
                with app.app_context():
                    reap()
                    run_retrain_schedules(utcnow())
            except Exception:
                # A busy database or a Redis hiccup must not stop the product; try next tick.
                logger.exception("the job reaper failed; retrying in %s s",
                                 REAPER_INTERVAL_SECONDS)

    def _wait_until_healthy(self, app) -> bool:
        """Poll /healthz until it is green; False when time runs out, the worker exits (the
        watch loop restarts it) or a stop was asked for."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        client = app.test_client()
        while not self.stop.is_set() and self.worker.poll() is None:
            if client.get("/healthz").status_code == 200:
                return True
            if time.monotonic() > deadline:
                break
            self.stop.wait(POLL_SECONDS)
        return False

    def _print_banner(self, url: str, demo: Demo | None, ready: bool = True) -> None:
        self.say()
        self.say(f"ValueLens is running at {url}  (Ctrl-C stops everything)")
        if not ready:
            self.say("The worker has not answered yet: jobs wait until it does "
                     f"({url}healthz says what is missing).")
        self.say('Demo logins (tenant "demo"):')
        for email, role in DEMO_USERS:
            self.say(f"  {email:<24} {role}")
        if demo is None:
            self.say("  password: the one shown on first start (`valuelens reset-password "
                     f"--email {DEMO_USERS[0][0]}` sets a new one)")
        elif demo.password_generated:
            self.say(f"  password: {demo.password}   (shown only this once)")
        else:
            self.say("  password: the value of VALUELENS_DEMO_PASSWORD")
        if demo is not None:
            self.say("The demo data is loading as a background job; it shows in the job list.")
        self.say()

    def _watch(self, env: dict) -> int:
        boot_failures = 0
        while not self.stop.wait(POLL_SECONDS):
            if self.redis is not None and self.redis.process.poll() is not None:
                return self.fail("the embedded Redis exited; stopping")
            if not self.web_thread.is_alive():
                return self.fail("the web server stopped; stopping")
            code = self.worker.poll()
            if code is None:
                continue
            quick = time.monotonic() - self.worker_started < WORKER_BOOT_SECONDS
            boot_failures = boot_failures + 1 if quick else 0
            if boot_failures >= WORKER_BOOT_FAILURES:
                return self.fail(f"the worker keeps exiting (last exit status {code}); stopping")
            print(f"The worker exited with status {code}; restarting it.", file=sys.stderr,
                  flush=True)
            self._kill_group(self.worker)
            self._start_worker(env)
        return 0

    def _shutdown(self) -> None:
        from dashboard.database import db

        self.stop.set()
        if self.server is not None:
            if self.web_thread is not None:
                self.server.shutdown()
            self.server.server_close()
        if self.worker is not None:
            self._stop_worker()
        if self.redis is not None:
            self.redis.stop()
        for thread in (self.web_thread, self.reaper_thread):
            if thread is not None:
                thread.join(timeout=5)
        db.dispose()

    def _stop_worker(self) -> None:
        # SIGTERM asks Celery for a warm shutdown (finish or hand back the current task);
        # tasks are acknowledged late, so one killed after the timeout is redelivered.
        if self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print("The worker did not stop in time; killing it.", file=sys.stderr, flush=True)
        self._kill_group(self.worker)

    @staticmethod
    def _kill_group(process: subprocess.Popen) -> None:
        """Kill whatever is left of the child's process group (the prefork pool)."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def run() -> int:
    """Entry point of `valuelens run`; returns the exit status."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return Supervisor(load_config()).run()
    except (ConfigError, OSError) as exc:
        return Supervisor.fail(str(exc))

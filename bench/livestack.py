"""A real ValueLens stack on loopback for the end-to-end benchmarks.

Redis (embedded, or `REDIS_URL`), a fresh SQLite database under a scratch `DATA_DIR` (or
PostgreSQL at `DATABASE_URL`), `valuelens worker` with one task process and the production
web server (`valuelens web`: gunicorn, gthread) bound to 127.0.0.1. Tenant, admin and API
token are made with the CLI, as an operator would. Every child runs in its own session,
so `stop()` can kill each whole process tree; it runs on errors, Ctrl-C and SIGTERM too.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.redis_server import EmbeddedRedis, free_port  # noqa: E402

VALUELENS = str(Path(sys.executable).with_name("valuelens"))
HEALTH_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20
# `valuelens web` binds every interface; the benchmark must stay on loopback, so it runs
# the same command with only the bind address rewritten.
WEB_ON_LOOPBACK = (
    "import sys; from dashboard import cli; run = cli._exec; "
    "cli._exec = lambda argv: run([a.replace('0.0.0.0:', '127.0.0.1:') for a in argv]); "
    "sys.argv = ['valuelens', 'web']; cli.main()"
)


def _raise_interrupt(*_):
    raise KeyboardInterrupt


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (0 once it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssSampler:
    """Samples a process tree's RSS every `interval` seconds in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self):
        self.peak = tree_rss(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Stack:
    def __init__(self, data_dir: Path, web_workers: int = 2, web_threads: int = 4) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redis: EmbeddedRedis | None = None
        self.worker: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.slug = "bench" + secrets.token_hex(3)
        self.email = f"admin@{self.slug}.example"
        self.password = secrets.token_urlsafe(18)
        self.token = ""
        self.env = {
            **os.environ,
            "DATA_DIR": str(self.data_dir),
            "SECRET_KEY": secrets.token_hex(32),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(web_workers),
            "WEB_THREADS": str(web_threads),
            "WORKER_CONCURRENCY": "1",
            # Plain HTTP on loopback: a secure-only cookie would never come back.
            "SESSION_COOKIE_SECURE": "false",
        }
        self.env.pop("VALUELENS_DEBUG", None)

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self):
        signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([VALUELENS, *args], env=self.env, input=stdin, text=True,
                              capture_output=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"valuelens {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("REDIS_URL"):
            self.redis = EmbeddedRedis(self.data_dir / "redis")
            self.env["REDIS_URL"] = self.redis.start()
        self._cli("init-db")
        self._cli("create-tenant", self.slug, "--name", f"Benchmark {self.slug}")
        self._cli("create-user", "--tenant", self.slug, "--email", self.email, "--role", "admin",
                  "--password-stdin", stdin=self.password + "\n")
        self.token = self._cli("create-token", "--email", self.email,
                               "--name", "bench").strip().splitlines()[-1]
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        self.worker = subprocess.Popen(
            [VALUELENS, "worker"], env=self.env, start_new_session=True, cwd=ROOT,
            stdout=open(logs / "worker.log", "w"), stderr=subprocess.STDOUT)
        self.web = subprocess.Popen(
            [sys.executable, "-c", WEB_ON_LOOPBACK], env=self.env, start_new_session=True,
            cwd=ROOT, stdout=open(logs / "web.log", "w"), stderr=subprocess.STDOUT)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = ""
        while time.monotonic() < deadline:
            for name, proc in (("worker", self.worker), ("web server", self.web)):
                if proc.poll() is not None:
                    raise RuntimeError(f"the {name} exited with {proc.returncode}; see "
                                       f"{self.data_dir / 'logs'}")
            try:
                answer = requests.get(self.url + "/healthz", timeout=10)
                if answer.status_code == 200:
                    return
                last = answer.text[:200]
            except requests.RequestException:
                # Not listening yet, or still importing the app in its workers.
                pass
            time.sleep(0.5)
        raise RuntimeError(f"/healthz not green after {HEALTH_TIMEOUT_S} s: {last}")

    def stop(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for proc in (self.web, self.worker):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
            for proc in (self.web, self.worker):
                if proc is None:
                    continue
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    pass
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            if self.redis is not None:
                self.redis.stop()
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def add_users(self, count: int, role: str = "analyst") -> list[tuple[str, str]]:
        """`count` more users of the tenant, one per simulated person: logging in as one
        account from many sessions at once trips the login limiter's per-account burst
        guard, as it should."""
        users = [(f"user{n}@{self.slug}.example", secrets.token_urlsafe(18))
                 for n in range(count)]
        script = (
            "import json, sys\n"
            "from dashboard import accounts\n"
            "from dashboard.config import load_config\n"
            "from dashboard.database import db\n"
            "db.configure(load_config()['DATABASE_URL'])\n"
            "for email, password in json.load(sys.stdin):\n"
            f"    accounts.create_user(db.session(), {self.slug!r}, email, password, {role!r})\n"
        )
        done = subprocess.run([sys.executable, "-c", script], env=self.env, cwd=ROOT, text=True,
                              input=json.dumps(users), capture_output=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"could not create users: {done.stderr.strip()[-500:]}")
        return users

    # -- measurements ----------------------------------------------------------------
    def worker_rss(self) -> int:
        return tree_rss(self.worker.pid)

    def web_rss(self) -> int:
        return tree_rss(self.web.pid)

    def api(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        return session


class MultipartFile:
    """A multipart/form-data body streamed from disk with a known length, so a
    multi-hundred-megabyte upload never sits in this process's memory."""

    def __init__(self, path: Path, fields: dict[str, str]) -> None:
        self.boundary = "vlbench" + secrets.token_hex(12)
        head = "".join(f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"{k}\""
                       f"\r\n\r\n{v}\r\n" for k, v in fields.items())
        head += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename=\"{path.name}\"\r\nContent-Type: text/csv\r\n\r\n")
        self._parts = [head.encode(), None, f"\r\n--{self.boundary}--\r\n".encode()]
        self._size = len(self._parts[0]) + path.stat().st_size + len(self._parts[2])
        self._file = open(path, "rb")
        self._index = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        while self._index < 3:
            part = self._parts[self._index]
            if part is None:
                chunk = self._file.read(size if size and size > 0 else 1 << 20)
                if chunk:
                    return chunk
                self._file.close()
            elif part:
                self._parts[self._index] = b""
                return part
            self._index += 1
        return b""


def upload(session: requests.Session, url: str, csv: Path) -> dict:
    body = MultipartFile(csv, {"kind": "transactions", "mode": "replace"})
    answer = session.post(url + "/api/v1/datasets", data=body,
                          headers={"Content-Type": body.content_type}, timeout=600)
    if answer.status_code != 202:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()

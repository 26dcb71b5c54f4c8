"""A real `celery -A workers.entry worker --pool prefork -c 1` process for the reliability
tests, bound to the test's database, data directory and Redis, and killed the way machines
die: SIGKILL of the pool process running a task, or of the whole worker at once.

The worker also imports `tests.integration.pause_points`, which can hold a task at a named
point inside a chain step until the test kills it (nothing happens unless a test arms it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psutil

from tests.conftest import TEST_SECRET_KEY
from tests.integration.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    def __init__(self, config: dict, directory: Path, pause_dir: Path | None = None) -> None:
        self.config = config
        self.directory = directory
        self.pause_dir = pause_dir
        self.name = f"reliability-{secrets.token_hex(3)}"
        self.log = directory / f"{self.name}.log"
        self.process: subprocess.Popen | None = None
        self.output = None

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            "DATABASE_URL": self.config["DATABASE_URL"],
            "REDIS_URL": self.config["REDIS_URL"],
            "DATA_DIR": self.config["DATA_DIR"],
            "SECRET_KEY": TEST_SECRET_KEY,
            "VALUELENS_TEST_PAUSE_DIR": str(self.pause_dir or ""),
        }
        # What the worker prints before its logging is set up (e.g. an import error).
        self.output = open(self.directory / f"{self.name}.out", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.entry", "worker",
             "--pool", "prefork", "--concurrency", "1", "--hostname", f"{self.name}@%h",
             "--include", "tests.integration.pause_points", "--loglevel", "INFO",
             "--logfile", str(self.log), "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=self.output, stderr=subprocess.STDOUT,
        )
        return self

    def log_text(self) -> str:
        return "\n".join(path.read_text() for path in (self.log, Path(self.output.name))
                         if path.exists())

    def pool_child(self) -> psutil.Process:
        """The one live pool process (concurrency 1)."""
        def live_child():
            children = [child for child in psutil.Process(self.process.pid).children()
                        if child.status() != psutil.STATUS_ZOMBIE]
            return children[0] if len(children) == 1 else None

        return wait_for(live_child, "the worker's pool process", timeout=30)

    def kill_pool_child(self, pid: int | None = None) -> int:
        """SIGKILL the pool process (`pid`, or the only one); returns its pid."""
        child = psutil.Process(pid) if pid else self.pool_child()
        child.kill()
        child.wait(10)
        return child.pid

    def kill(self) -> None:
        """SIGKILL the whole worker, main process first so nothing is restarted."""
        main = psutil.Process(self.process.pid)
        everyone = [main, *main.children(recursive=True)]
        for process in everyone:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(everyone, timeout=10)
        self.process.wait(10)

    def stop(self) -> None:
        """End the worker at once: what it was doing belongs to a finished test."""
        if self.output is not None:
            self.output.close()
        if self.process is not None and self.process.poll() is None:
            self.kill()

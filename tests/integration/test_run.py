"""`valuelens run` as a new user gets it, and the production entry points `web`, `worker`
and `beat`, each started as a real process and stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
import requests
from celery import Celery
from sqlalchemy import select

from dashboard.database import db
from dashboard.redis_server import free_port
from dashboard.schema import Tenant
from tests.conftest import STRONG_PASSWORD, TEST_SECRET_KEY
from tests.integration.conftest import other_redis_db

pytestmark = pytest.mark.integration

VALUELENS = str(Path(sys.executable).with_name("valuelens"))
START_TIMEOUT = 120
STOP_TIMEOUT = 60
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
# Settings a developer's shell may carry; each test states the ones it means.
PRODUCT_SETTINGS = ("DATA_DIR", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT", "HOST",
                    "VALUELENS_DEMO_PASSWORD", "WEB_CONCURRENCY", "WEB_THREADS",
                    "WORKER_CONCURRENCY", "SESSION_COOKIE_SECURE")


def product_env(**settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in PRODUCT_SETTINGS}
    env.update(settings)
    return env


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen([VALUELENS, *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def wait_for(condition, what: str, process: subprocess.Popen, log: Path,
             timeout: float = START_TIMEOUT):
    """Poll `condition` until it returns something true; fail with the process log when
    the process exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {what}:\n{log.read_text()}")
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout} s:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> tuple[int, list[psutil.Process]]:
    """SIGTERM the process; its exit status and the descendants still alive afterwards."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    _gone, alive = psutil.wait_procs(children, timeout=STOP_TIMEOUT)
    for leftover in alive:
        leftover.kill()
    return code, alive


def get_json(url: str):
    try:
        return requests.get(url, timeout=5).json()
    except (requests.ConnectionError, requests.Timeout, ValueError):
        return None


def processes_of(data_dir: Path) -> list[psutil.Process]:
    """Processes that belong to a product using `data_dir`: the worker carries it in its
    environment, the embedded Redis works in it (its command line is rewritten)."""
    found = []
    for process in psutil.process_iter():
        try:
            belongs = (process.environ().get("DATA_DIR") == str(data_dir)
                       or Path(process.cwd()).is_relative_to(data_dir))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if belongs and process.pid != os.getpid():
            found.append(process)
    return found


@dataclass
class Product:
    process: subprocess.Popen
    url: str
    data_dir: Path
    log: Path


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """`valuelens run` as on a new machine: no REDIS_URL, no DATABASE_URL, no SECRET_KEY."""
    root = tmp_path_factory.mktemp("run")
    port = free_port()
    log = root / "run.log"
    process = start(["run"], product_env(DATA_DIR=str(root / "data"), PORT=str(port),
                                         VALUELENS_DEMO_PASSWORD=STRONG_PASSWORD), log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: (get_json(url + "/healthz") or {}).get("workers", 0) >= 1,
                 "healthy /healthz with a worker", process, log)
        # The supervisor prints its banner after its own health check, which may come a
        # moment after ours.
        wait_for(lambda: "ValueLens is running at" in log.read_text(), "the banner",
                 process, log)
        yield Product(process, url, root / "data", log)
    finally:
        stop(process)


def test_first_start_prints_the_url_and_the_demo_logins(product):
    output = product.log.read_text()
    assert f"ValueLens is running at {product.url}/" in output
    for email in ("admin@demo.example", "analyst@demo.example", "viewer@demo.example"):
        assert email in output
    assert "password: the value of VALUELENS_DEMO_PASSWORD" in output
    assert STRONG_PASSWORD not in output
    assert "secure-only session cookies are off" in output
    assert "Started the embedded Redis" in output


def test_first_start_keeps_its_state_under_the_data_dir(product):
    secret = product.data_dir / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert (product.data_dir / "valuelens.db").exists()
    assert (product.data_dir / "redis" / "redis.log").exists()


def test_dash_endpoints_refuse_anonymous_callers(product):
    answer = requests.post(product.url + "/_dash-update-component", json={}, timeout=10)
    assert answer.status_code == 401


def test_demo_admin_logs_in_and_sees_the_demo_job(product):
    browser = requests.Session()
    form = browser.get(product.url + "/login", timeout=10)
    token = CSRF_FIELD.search(form.text).group(1)
    answer = browser.post(product.url + "/login", timeout=30, allow_redirects=False, data={
        "csrf_token": token, "email": "admin@demo.example", "password": STRONG_PASSWORD,
    })
    assert answer.status_code == 302, answer.text
    jobs = browser.get(product.url + "/api/v1/jobs", timeout=10)
    assert jobs.status_code == 200, jobs.text
    assert [job["kind"] for job in jobs.json()["jobs"]] == ["demo"]


def test_a_killed_worker_is_replaced(product):
    first = next(child for child in psutil.Process(product.process.pid).children()
                 if "celery" in " ".join(child.cmdline()))
    first.kill()
    first.wait(STOP_TIMEOUT)

    def new_worker_answers():
        workers = [child for child in psutil.Process(product.process.pid).children()
                   if "celery" in " ".join(child.cmdline())]
        replaced = workers and workers[0].pid != first.pid
        return replaced and (get_json(product.url + "/healthz") or {}).get("workers", 0) >= 1

    wait_for(new_worker_answers, "a new worker answering", product.process, product.log)
    assert "The worker exited with status -9; restarting it." in product.log.read_text()


def test_sigterm_stops_the_web_server_the_worker_and_redis(product):
    children = psutil.Process(product.process.pid).children(recursive=True)
    commands = " ".join(" ".join(child.cmdline()) for child in children)
    assert "celery" in commands and "redis-server" in commands
    assert set(children) <= set(processes_of(product.data_dir))

    code, alive = stop(product.process)
    assert code == 0, product.log.read_text()
    assert alive == []
    assert processes_of(product.data_dir) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(product.url + "/healthz", timeout=5)


def test_run_refuses_a_weak_demo_password_and_leaves_nothing_running(tmp_path):
    log = tmp_path / "run.log"
    process = start(["run"], product_env(DATA_DIR=str(tmp_path / "data"), PORT=str(free_port()),
                                         VALUELENS_DEMO_PASSWORD="password"), log)
    code = process.wait(START_TIMEOUT)
    assert code == 1
    assert "VALUELENS_DEMO_PASSWORD is refused: Password must be at least 12" in log.read_text()
    assert processes_of(tmp_path / "data") == []


def test_run_on_a_busy_port_says_so_and_starts_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        log = tmp_path / "run.log"
        process = start(["run"], product_env(DATA_DIR=str(tmp_path / "data"), PORT=str(port)),
                        log)
        code = process.wait(START_TIMEOUT)
    assert code == 1
    assert f"Port {port} is in use by another program" in log.read_text()
    assert processes_of(tmp_path / "data") == []


@pytest.fixture
def private_queue(redis_url):
    """A Redis database of its own, so workers started here meet no other test's jobs."""
    url = other_redis_db(redis_url, 8)
    yield url
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


@pytest.fixture
def server_env(database_url, private_queue, tmp_path):
    return product_env(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=database_url,
                       REDIS_URL=private_queue, SECRET_KEY=TEST_SECRET_KEY)


def test_run_uses_the_given_redis_and_database(app, database_url, private_queue, tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    process = start(["run"], product_env(DATA_DIR=str(tmp_path / "data"), PORT=str(port),
                                         REDIS_URL=private_queue, DATABASE_URL=database_url,
                                         SECRET_KEY=TEST_SECRET_KEY,
                                         VALUELENS_DEMO_PASSWORD=STRONG_PASSWORD), log)
    try:
        wait_for(lambda: (get_json(f"http://127.0.0.1:{port}/healthz") or {}).get("workers", 0),
                 "healthy /healthz with a worker", process, log)
        queued = redis.Redis.from_url(private_queue)
        assert queued.dbsize() > 0
        queued.close()
    finally:
        code, alive = stop(process)
    assert code == 0 and alive == []
    output = log.read_text()
    assert "embedded Redis" not in output and "local secret key" not in output
    assert not (tmp_path / "data" / "valuelens.db").exists()
    db.session.remove()
    assert db.session.scalars(select(Tenant.name).where(Tenant.slug == "demo")).one()


def test_web_becomes_gunicorn_and_serves_healthz(server_env, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    process = start(["web"], {**server_env, "PORT": str(port), "WEB_CONCURRENCY": "1",
                              "WEB_THREADS": "2"}, log)
    try:
        health = wait_for(lambda: get_json(f"http://127.0.0.1:{port}/healthz"), "/healthz",
                          process, log)
        assert (health["db"], health["redis"]) == ("ok", "ok")
        command = " ".join(psutil.Process(process.pid).cmdline())
        assert "gunicorn" in command and f"--bind 0.0.0.0:{port}" in command
    finally:
        code, alive = stop(process)
    assert code == 0, log.read_text()
    assert alive == []


def test_web_binds_the_given_host_only(server_env, tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    process = start(["web"], {**server_env, "HOST": "127.0.0.1", "PORT": str(port),
                              "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}, log)
    try:
        wait_for(lambda: get_json(f"http://127.0.0.1:{port}/healthz"), "/healthz", process, log)
        listening = {conn.laddr for conn in psutil.Process(process.pid).net_connections("inet")
                     if conn.status == psutil.CONN_LISTEN}
        assert listening == {("127.0.0.1", port)}
    finally:
        code, alive = stop(process)
    assert code == 0, log.read_text()
    assert alive == []


def test_worker_becomes_a_celery_worker_that_answers_pings(server_env, private_queue, tmp_path):
    log = tmp_path / "worker.log"
    process = start(["worker"], {**server_env, "WORKER_CONCURRENCY": "1", "WORKER_NICE": "7"},
                    log)
    probe = Celery("probe", broker=private_queue)
    try:
        wait_for(lambda: probe.control.ping(timeout=1.0), "worker answering a ping", process, log)
        command = psutil.Process(process.pid).cmdline()
        assert "celery" in command and "worker" in command
        # The task process runs at the configured lower priority; the parent that only
        # receives messages keeps its own.
        children = psutil.Process(process.pid).children(recursive=True)
        assert children and {child.nice() for child in children} == {7}
    finally:
        probe.close()
        code, alive = stop(process)
    assert code == 0, log.read_text()
    assert alive == []


def test_beat_becomes_celery_beat_with_its_schedule_in_the_data_dir(server_env, tmp_path):
    log = tmp_path / "beat.log"
    process = start(["beat"], server_env, log)
    try:
        wait_for(lambda: list((tmp_path / "data").glob("celerybeat-schedule*")),
                 "beat schedule file", process, log)
        command = psutil.Process(process.pid).cmdline()
        assert "celery" in command and "beat" in command
    finally:
        code, alive = stop(process)
    assert code == 0, log.read_text()
    assert alive == []

"""`valuelens run` says it is running only when it is: /healthz is green by the time the
banner shows, and the terminal is not flooded by the browser's routine requests."""

from __future__ import annotations

import requests

from dashboard.redis_server import free_port
from tests.conftest import STRONG_PASSWORD
from tests.integration.test_run import get_json, product_env, start, stop, wait_for

BANNER = "ValueLens is running at"


def test_healthz_is_green_when_the_banner_shows_and_polls_stay_out_of_the_log(tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    process = start(["run"], product_env(DATA_DIR=str(tmp_path / "data"), PORT=str(port),
                                         VALUELENS_DEMO_PASSWORD=STRONG_PASSWORD), log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: BANNER in log.read_text(), "the banner", process, log)
        health = requests.get(url + "/healthz", timeout=10)
        assert health.status_code == 200, health.text
        assert health.json()["workers"] >= 1

        for path in ("/assets/bootstrap.min.css", "/_favicon.ico", "/login",
                     "/assets/missing.css"):
            requests.get(url + path, timeout=10)
        # A failed request on a routine path is still worth its line.
        wait_for(lambda: "GET /assets/missing.css" in log.read_text(), "the 404 in the log",
                 process, log)
    finally:
        code, _left = stop(process)
    output = log.read_text()
    assert code == 0, output
    assert "The worker has not answered yet" not in output
    assert '"GET /login HTTP/1.1" 200' in output
    assert "/assets/bootstrap.min.css" not in output
    assert "/_favicon.ico" not in output
    assert get_json(url + "/healthz") is None

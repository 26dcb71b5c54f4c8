import stat

import pytest

from dashboard.config import ConfigError, check_secret_key, load_config
from dashboard.runner import browser_url, is_loopback, local_secret_key


def test_admin_commands_run_without_a_secret_key():
    config = load_config({})
    config.update(SECRET_KEY="", CLI_MODE=True)
    check_secret_key(config)


def test_without_cli_mode_the_missing_key_is_still_refused():
    config = load_config({})
    config.update(SECRET_KEY="", CLI_MODE=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        check_secret_key(config)


def test_server_settings_default_to_localhost_and_small_pools():
    config = load_config({})
    assert config["HOST"] == "127.0.0.1"
    assert (config["WEB_CONCURRENCY"], config["WEB_THREADS"], config["WORKER_CONCURRENCY"]) == (2, 4, 2)
    assert config["DEMO_PASSWORD"] == ""


def test_the_web_server_binds_every_interface_unless_given_a_host():
    assert load_config({})["WEB_HOST"] == "0.0.0.0"
    assert load_config({"HOST": "10.0.0.5"})["WEB_HOST"] == "10.0.0.5"


def test_server_settings_are_read_from_the_environment():
    config = load_config({"HOST": "0.0.0.0", "WEB_CONCURRENCY": "3", "WEB_THREADS": "8",
                          "WORKER_CONCURRENCY": "4", "VALUELENS_DEMO_PASSWORD": "pw"})
    assert config["HOST"] == "0.0.0.0"
    assert (config["WEB_CONCURRENCY"], config["WEB_THREADS"], config["WORKER_CONCURRENCY"]) == (3, 8, 4)
    assert config["DEMO_PASSWORD"] == "pw"


@pytest.mark.parametrize("name", ["WEB_CONCURRENCY", "WEB_THREADS", "WORKER_CONCURRENCY"])
def test_pool_sizes_must_be_positive_integers(name):
    with pytest.raises(ConfigError, match=name):
        load_config({name: "0"})


def test_task_processes_run_at_a_lower_priority_unless_told_otherwise():
    assert load_config({})["WORKER_NICE"] == 10
    assert load_config({"WORKER_NICE": "0"})["WORKER_NICE"] == 0


@pytest.mark.parametrize("value", ["-1", "20", "low"])
def test_worker_niceness_outside_what_the_kernel_takes_is_refused(value):
    with pytest.raises(ConfigError, match="WORKER_NICE"):
        load_config({"WORKER_NICE": value})


def test_local_secret_key_is_created_private_and_kept(tmp_path):
    key = local_secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    check_secret_key({"SECRET_KEY": key})
    assert local_secret_key(tmp_path) == key


def test_a_loosened_secret_key_file_is_made_private_again(tmp_path):
    key = local_secret_key(tmp_path)
    (tmp_path / "secret_key").chmod(0o644)
    assert local_secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
    ("192.168.1.20", False), ("dashboard.example.com", False),
])
def test_only_loopback_hosts_count_as_local(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("host", "url"), [
    ("127.0.0.1", "http://127.0.0.1:8050/"), ("0.0.0.0", "http://127.0.0.1:8050/"),
    ("::1", "http://[::1]:8050/"),
])
def test_printed_url_is_one_a_browser_can_open(host, url):
    assert browser_url(host, 8050) == url

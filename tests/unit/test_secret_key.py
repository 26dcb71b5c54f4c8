"""The secret key check cannot be switched off, and weak keys of every kind are refused."""

from __future__ import annotations

import secrets

import pytest

from dashboard.config import ConfigError, check_secret_key, load_config

README_PLACEHOLDER = '<output of: python3 -c "import secrets; print(secrets.token_urlsafe(48))">'


def _server_config(**environ):
    return load_config({"SECRET_KEY": secrets.token_urlsafe(48), **environ})


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (" " * 32, "whitespace"),
        ("\t" + secrets.token_urlsafe(40), "whitespace"),
        ("a" * 64, "too predictable"),
        ("test-" + "k" * 40, "too predictable"),
        ("x9" * 20, "too predictable"),
        ("abcdefgh" * 4, "too predictable"),
        ("qwertyuiopasdfghjklzxcvbnm123456789", "too predictable"),
        ("Password1234567890Password123456", "too predictable"),
        (README_PLACEHOLDER, "placeholder"),
        ("CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "placeholder"),
        ("192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf", "sample"),
        ("dev", "sample"),
    ],
)
def test_weak_keys_are_refused_with_a_reason(key, reason):
    with pytest.raises(ConfigError, match=reason):
        check_secret_key(_server_config(SECRET_KEY=key))


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(16), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(24),
                                  lambda: secrets.token_urlsafe(48)])
def test_generated_keys_pass(make):
    for _ in range(20):
        check_secret_key(_server_config(SECRET_KEY=make()))


@pytest.mark.parametrize("debug", ["true", "1", "yes"])
def test_debug_mode_does_not_relax_the_key_check(debug):
    config = load_config({"SECRET_KEY": "dev", "VALUELENS_DEBUG": debug})
    with pytest.raises(ConfigError):
        check_secret_key(config)


def test_debug_mode_is_refused_for_servers_other_than_a_local_run():
    with pytest.raises(ConfigError, match="VALUELENS_DEBUG is only allowed"):
        check_secret_key(_server_config(VALUELENS_DEBUG="true"))


def test_debug_mode_is_refused_for_a_local_run_on_a_public_address():
    config = _server_config(VALUELENS_DEBUG="true", HOST="0.0.0.0")
    with pytest.raises(ConfigError, match="loopback"):
        check_secret_key({**config, "LOCAL_RUN": True})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_debug_mode_is_allowed_for_a_local_run_on_loopback(host):
    config = _server_config(VALUELENS_DEBUG="true", HOST=host)
    check_secret_key({**config, "LOCAL_RUN": True})


def test_a_local_run_in_debug_mode_still_needs_a_strong_key():
    config = load_config({"SECRET_KEY": "dev", "VALUELENS_DEBUG": "true"})
    with pytest.raises(ConfigError, match="sample"):
        check_secret_key({**config, "LOCAL_RUN": True})

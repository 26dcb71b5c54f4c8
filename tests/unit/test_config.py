import pytest

from dashboard.config import ConfigError, check_secret_key, load_config


def _config(**overrides):
    config = load_config({})
    config.update(overrides)
    return config


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "not set"),
        ("short-but-random-7f3a", "shorter than 32 bytes"),
        ("changeme", "sample value"),
        ("change-this-to-a-long-random-string-of-at-least-32-bytes", "sample value"),
    ],
)
def test_production_refuses_weak_secret_key(key, reason):
    with pytest.raises(ConfigError, match=reason):
        check_secret_key(_config(SECRET_KEY=key))


def test_strong_secret_key_is_accepted():
    check_secret_key(_config(SECRET_KEY="kX2p9vQ7mZr4tW8yB3nH6jL1sD5fG0cA"))


def test_the_test_suite_may_run_without_key():
    check_secret_key(_config(SECRET_KEY="", TESTING=True))


def test_create_app_refuses_to_start_without_key(tmp_path):
    from dashboard import create_app

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "", "DATA_DIR": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_environment_is_parsed_with_defaults(tmp_path):
    config = load_config({"DATA_DIR": str(tmp_path), "PORT": "9000"})
    assert config["PORT"] == 9000
    assert config["MAX_UPLOAD_MB"] == 1024
    assert config["DATABASE_URL"].startswith("sqlite:///")
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("MAX_UPLOAD_MB", "0")])
def test_bad_numbers_are_rejected_with_the_setting_name(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})

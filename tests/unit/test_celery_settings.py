"""The Celery configuration: reliability settings from DESIGN.md, derived from app config."""

from __future__ import annotations

import pytest
from flask import Flask

from dashboard.config import celery_settings, load_config


def _config(**overrides):
    config = load_config({"REDIS_URL": "redis://redis.internal:6379/0"})
    config.update(overrides)
    return config


def test_tasks_are_acknowledged_after_they_ran_and_requeued_when_a_worker_dies():
    settings = celery_settings(_config())

    assert settings["task_acks_late"] is True
    assert settings["task_reject_on_worker_lost"] is True
    assert settings["worker_prefetch_multiplier"] == 1


def test_only_json_goes_over_the_wire():
    settings = celery_settings(_config())

    assert settings["task_serializer"] == settings["result_serializer"] == "json"
    assert settings["accept_content"] == ["json"]


def test_time_limits_come_from_the_configuration_and_the_soft_one_comes_first():
    settings = celery_settings(_config(TASK_SOFT_TIME_LIMIT=100, TASK_TIME_LIMIT=120))

    assert (settings["task_soft_time_limit"], settings["task_time_limit"]) == (100, 120)


def test_an_unacknowledged_message_is_not_redelivered_while_its_task_may_still_run():
    settings = celery_settings(_config(TASK_TIME_LIMIT=120))

    assert settings["broker_transport_options"]["visibility_timeout"] > 120


def test_broker_and_results_use_redis_url():
    settings = celery_settings(_config())

    assert settings["broker_url"] == settings["result_backend"] == "redis://redis.internal:6379/0"


def test_binding_configures_the_app_and_the_worker_side_registers_tasks_and_the_reaper():
    from dashboard.queue import celery, init_celery
    from workers.celery_app import load_tasks

    server = Flask(__name__)
    server.config.update(_config(REAPER_GRACE_SECONDS=120))

    assert init_celery(server) is celery
    assert celery.flask_app is server
    assert celery.conf.task_acks_late is True
    assert celery.conf.broker_url == "redis://redis.internal:6379/0"
    assert load_tasks() is celery
    assert {"jobs.demo", "jobs.self_test", "workers.reaper.reap_jobs"} <= set(celery.tasks)
    assert celery.conf.beat_schedule["reap-lost-jobs"]["task"] == "workers.reaper.reap_jobs"


def test_every_job_kind_has_a_worker_task():
    from dashboard.job_kinds import JOB_KINDS
    from dashboard.queue import job_task_name
    from workers.celery_app import load_tasks

    registered = set(load_tasks().tasks)

    assert {job_task_name(kind) for kind in JOB_KINDS} <= registered


def test_a_task_refuses_to_run_before_the_app_is_bound():
    from workers.celery_app import load_tasks

    celery = load_tasks()
    bound, celery.flask_app = celery.flask_app, None
    try:
        with pytest.raises(RuntimeError, match="not bound"):
            celery.tasks["jobs.self_test"]("some-job")
    finally:
        celery.flask_app = bound

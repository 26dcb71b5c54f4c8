"""The Celery application (placeholder until the job system lands)."""

from celery import Celery

celery = Celery("valuelens")


def init_celery(app) -> None:
    pass

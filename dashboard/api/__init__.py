"""REST API under /api/v1 (placeholder until the API lands)."""


def init_app(app) -> None:
    pass

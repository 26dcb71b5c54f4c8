"""Authentication and authorisation (placeholder until the auth module lands)."""


def init_app(app) -> None:
    pass

"""The Dash application mounted on the Flask server (placeholder)."""


def init_dash(server) -> None:
    pass

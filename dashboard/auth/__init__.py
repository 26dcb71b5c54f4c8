"""Authentication and authorisation: flask-login sessions and API tokens, the one login
gate, CSRF, roles and the error pages.

`init_app()` binds it all to the Flask server; it runs before Dash and the API are
mounted, and the gate judges every route whenever it was added.
"""

from __future__ import annotations

from flask import g
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, user_logged_in
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


class TokenAwareSessionInterface(SecureCookieSessionInterface):
    """No session cookie for a request authenticated by an API token: the token is the
    credential, and a cookie would turn a script's token into a browser login."""

    def save_session(self, app, session, response) -> None:
        if g.get("login_via_token"):
            return None
        return super().save_session(app, session, response)


def _stamp_new_session(_app, **_extra) -> None:
    from dashboard.auth.users import stamp_new_session

    stamp_new_session()


def init_app(app) -> None:
    # Imported here: the account service imports `dashboard.auth.passwords`, and the
    # views import the account service.
    from dashboard.auth import views
    from dashboard.auth.errors import register_error_handlers
    from dashboard.auth.gate import gate
    from dashboard.auth.tokens import load_token_user
    from dashboard.auth.users import load_session_user

    # The gate applies CSRF itself, with one policy for forms and JSON endpoints.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # Form tokens live as long as the session: a page left open should still log out.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    login_manager.init_app(app)
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)
    # Every sign-in starts the session's idle and absolute clocks, whichever view did it.
    user_logged_in.connect(_stamp_new_session, app)
    app.session_interface = TokenAwareSessionInterface()

    app.before_request(gate)
    csrf.init_app(app)
    app.register_blueprint(views.bp)
    register_error_handlers(app)

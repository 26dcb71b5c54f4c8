"""Error answers: small friendly pages for people, `{"error": "..."}` for the API and
Dash endpoints, and never a stack trace."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from dashboard.auth.gate import wants_json
from dashboard.auth.roles import Forbidden
from dashboard.store import NotFound

PAGE_MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in to continue.",
    403: "Your role does not allow this. Ask an admin of your organisation for access.",
    404: "There is nothing here. The page may have moved, or the link may be mistyped.",
    405: "This page cannot be used that way.",
    413: "The request is too large.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. Please try again in a moment.",
}


def _answer(status: int, message: str, headers=()):
    if wants_json(request.path):
        body = jsonify(error=message)
    else:
        body = render_template("error.html", status=status, message=message)
    return body, status, list(headers)


def _message(error: HTTPException) -> str:
    # Werkzeug's stock descriptions are long and generic; a view's own text is kept.
    if error.description and error.description != type(error).description:
        return error.description
    if wants_json(request.path):
        return "authentication required" if error.code == 401 else error.name.lower()
    return PAGE_MESSAGES.get(error.code, error.name)


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    headers = [(name, value) for name, value in error.get_headers()
               if name.lower() not in {"content-type", "content-length"}]
    return _answer(error.code, _message(error), headers)


def handle_csrf_error(error: CSRFError):
    return _answer(400, f"The request's security token was refused: {error.description} "
                        "Reload the page and try again.")


def handle_forbidden(error: Forbidden):
    return _answer(403, str(error) or PAGE_MESSAGES[403])


def handle_not_found(error: NotFound):
    # The store's message names the kind of row; it is the same for "missing" and
    # "another tenant's", so it reveals nothing.
    return _answer(404, str(error) if wants_json(request.path) else PAGE_MESSAGES[404])


def register_error_handlers(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(Forbidden, handle_forbidden)
    app.register_error_handler(NotFound, handle_not_found)

"""HTTP-level protections that apply to every request and response.

Responses carry headers that stop framing (clickjacking), MIME sniffing, referrer leaks
and scripts that the product did not ship (Content-Security-Policy); pages and API answers
are never stored by shared caches, since they hold one tenant's data. Behind a reverse
proxy, `PROXY_HOPS` trusted hops let the client address (used by the login rate limit)
and scheme come from `X-Forwarded-*`; with 0 hops those headers are ignored, so a client
cannot forge its address.

Request bodies are capped per request, before anything reads them: `MAX_REQUEST_KB` for
every route (forms, JSON, Dash callbacks), `MAX_UPLOAD_MB` only for views marked with
`@accepts_upload`. A body declared larger is refused with 413 unread; a chunked one is
cut off with 413 when it passes the limit (never handed on silently truncated).
"""

from __future__ import annotations

import dash
from dash.exceptions import DependencyException, InvalidResourceError
from flask import Request, abort, current_app, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
UPLOAD_MARK = "_valuelens_accepts_upload"
SERVER_NAME = "ValueLens"

# Dash and Plotly set inline styles from JavaScript and inject <style> elements, so styles
# may be inline; scripts may not: only this origin's files and the hashes of Dash's own
# inline scripts run. Bootstrap's CSS draws some icons as data: SVG images.
CSP_DIRECTIVES = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def accepts_upload(view):
    """Mark a view as an upload endpoint: its body may be up to `MAX_UPLOAD_MB`.

    Works above or below the route decorator (it marks the function, it does not wrap
    it). Only the body limit changes: text fields of a multipart form stay within
    `MAX_REQUEST_KB`, and file parts are spooled to a temporary file instead of memory.
    """
    setattr(view, UPLOAD_MARK, True)
    return view


def body_limit(view) -> int:
    """The largest body, in bytes, that the view may receive."""
    config = current_app.config
    if getattr(view, UPLOAD_MARK, False):
        return config["MAX_UPLOAD_MB"] * 1024 * 1024
    return config["MAX_REQUEST_KB"] * 1024


class CappedInput:
    """`wsgi.input` of a body of unknown length (chunked): 413 once it passes the limit.

    werkzeug's own cap stops reading at the limit without an error, which would hand a
    view a silently truncated body (an upload cut off mid-file). Reads never ask the
    server for more than one byte past the limit.
    """

    def __init__(self, stream, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int | None = -1) -> bytes:
        allowed = self.limit + 1 - self.count
        data = self.stream.read(allowed if size is None or size < 0 else min(size, allowed))
        self.count += len(data)
        if self.count > self.limit:
            raise RequestEntityTooLarge(_too_large(self.limit))
        return data


class ValueLensRequest(Request):
    """Closes every temporary file of a multipart body, also when parsing stopped halfway:
    after a 413 in the middle of a form werkzeug keeps no reference to the parts it had
    spooled, and only garbage collection would close them."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        stream = super()._get_file_stream(total_content_length, content_type, filename,
                                          content_length)
        self.__dict__.setdefault("_spooled_parts", []).append(stream)
        return stream

    def close(self) -> None:
        super().close()
        for stream in self.__dict__.pop("_spooled_parts", ()):
            stream.close()


def _too_large(limit: int) -> str:
    return f"The request is larger than the limit of {limit // 1024} KB."


def limit_request_body():
    """before_request, ahead of the login gate and CSRF (which read forms)."""
    limit = body_limit(current_app.view_functions.get(request.endpoint))
    request.max_content_length = limit
    request.max_form_memory_size = min(limit, current_app.config["MAX_REQUEST_KB"] * 1024)
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=_too_large(limit))
    if request.content_length is None and "wsgi.input_terminated" in request.environ:
        request.environ["wsgi.input"] = CappedInput(request.environ["wsgi.input"], limit)
        # One byte more for werkzeug's cap, so that CappedInput sees the overflow.
        request.max_content_length = limit + 1


def content_security_policy(script_hashes=()) -> str:
    directives = dict(CSP_DIRECTIVES)
    directives["script-src"] = " ".join(["'self'", *script_hashes])
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def dash_script_hashes() -> list[str]:
    """The hashes of the Dash app's inline scripts (its renderer and clientside callbacks).

    Worked out for every response, not once: Dash adds inline scripts until its first
    request has set it up (the page-title callback of `dash.page_registry`), and a
    redirect may be answered before that. Hashing a few short scripts costs microseconds.
    """
    try:
        return list(dash.get_app().csp_hashes())
    except dash.exceptions.AppNotFoundError:
        return []


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy",
                                content_security_policy(dash_script_hashes()))
    return response


def _missing_dash_file(_error):
    # A component-suite path Dash does not know is a client's mistake (or a scanner), not
    # a fault of ours: a plain 404, no traceback in the log.
    return current_app.handle_http_exception(NotFound())


def _missing_static_file(error):
    if request.path.startswith(STATIC_PREFIXES):
        return current_app.handle_http_exception(NotFound())
    raise error


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler without its version banner: `Server: Werkzeug/3.1.9
    Python/3.11.2` tells a scanner which published bugs to try. (gunicorn's header is
    `Server: gunicorn`, without a version.)"""

    @property
    def server_version(self) -> str:
        return SERVER_NAME

    def version_string(self) -> str:
        return SERVER_NAME


def init_app(app) -> None:
    app.request_class = ValueLensRequest
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # The app-wide cap is the small one, so a body read outside a request's own limit
    # (before `limit_request_body` ran) is still bounded.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_REQUEST_KB"] * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_REQUEST_KB"] * 1024
    app.before_request(limit_request_body)
    app.register_error_handler(DependencyException, _missing_dash_file)
    app.register_error_handler(InvalidResourceError, _missing_dash_file)
    app.register_error_handler(FileNotFoundError, _missing_static_file)

    @app.after_request
    def _headers(response):
        add_security_headers(response)
        if not request.path.startswith(STATIC_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

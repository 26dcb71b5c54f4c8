"""HTTP-level protections that apply to every response and to requests from proxies.

Responses carry headers that stop framing (clickjacking), MIME sniffing and referrer
leaks; pages and API answers are never stored by shared caches, since they hold one
tenant's data. Behind a reverse proxy, `PROXY_HOPS` trusted hops let the client address
(used by the login rate limit) and scheme come from `X-Forwarded-*`; with 0 hops those
headers are ignored, so a client cannot forge its address.
"""

from __future__ import annotations

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/")


def add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app) -> None:
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.after_request
    def _headers(response):
        add_security_headers(response)
        if not request.path.startswith(STATIC_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

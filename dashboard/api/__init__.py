"""REST API under /api/v1.

Every module of this package adds its routes to `bp`; `init_app` imports all of them and
registers the blueprint. Errors under /api/ always answer `{"error": "<message>"}` with the
right status and never a stack trace: HTTP errors (also unknown URLs and wrong methods),
a missing row of this tenant (`NotFound` → 404), a missing role (`PermissionError` → 403),
and anything unexpected (500, logged with its traceback). Views raise; they never build
error responses themselves, except through `error_response` for domain errors.

List endpoints share `list_args()`: `limit` (default 50, at most 1000), `offset`, and
`sort`, a field name from the endpoint's allow-list with an optional leading `-`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import NamedTuple

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error_response(status: int, message: str):
    response = jsonify({"error": message})
    response.status_code = status
    return response


def answer_errors(status: int, *errors: type[Exception]) -> None:
    """Answer each of these domain errors with `status` and its message."""
    for error in errors:
        bp.register_error_handler(error, lambda exc, status=status: error_response(status, str(exc)))


class ListArgs(NamedTuple):
    limit: int
    offset: int
    order_by: tuple


def int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise BadRequest(f"{name} must be {bounds}")
    return value


def list_args(sortable: dict, default_sort: str, tiebreak=None) -> ListArgs:
    """Parse `limit`, `offset` and `sort` against `sortable` (field name → column)."""
    limit = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_arg("offset", 0, 0)
    sort = request.args.get("sort") or default_sort
    field = sort.removeprefix("-")
    if field not in sortable:
        raise BadRequest(f"cannot sort by {field!r}; use one of: {', '.join(sorted(sortable))}")
    column = sortable[field]
    order = column.desc() if sort.startswith("-") else column.asc()
    # A unique tie-breaker keeps pages stable when many rows share the sort value.
    return ListArgs(limit, offset, (order,) if tiebreak is None else (order, tiebreak))


def json_object() -> dict:
    """The request body, which must be a JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object with Content-Type: application/json")
    return body


def _forbidden(exc: PermissionError):
    return error_response(403, str(exc) or "you are not allowed to do this")


# HTTP errors, `NotFound` (404), `Forbidden` (403) and unexpected errors (500, logged by
# Flask with the traceback) are answered as JSON under /api/ by the application-wide
# handlers of `dashboard.auth.errors`; a blueprint handler for `Exception` would shadow
# them. Only the plain `PermissionError` (no signed-in user) needs one here.
bp.register_error_handler(PermissionError, _forbidden)


def init_app(app) -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    app.register_blueprint(bp)

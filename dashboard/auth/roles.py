"""Roles within one tenant: viewer < analyst < admin.

Every mutating view, callback and service checks its role through this module, so the
rule lives in one place: `require_role` for Flask views, `ensure_role` for Dash callbacks,
API handlers and services. A missing role raises `Forbidden`, which the application
answers with 403 (JSON under /api/, a small page elsewhere).
"""

from __future__ import annotations

from functools import wraps

from dashboard.schema import ROLES

ROLE_ORDER: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}


class Forbidden(PermissionError):
    """The user is signed in but their role does not allow the action (HTTP 403)."""


def _rank(role: str) -> int:
    try:
        return ROLE_ORDER[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}") from None


def has_role(user, role: str) -> bool:
    """True when `user` is signed in, active and holds `role` or a higher one."""
    required = _rank(role)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "active", False):
        return False
    return ROLE_ORDER.get(getattr(user, "role", None), -1) >= required


def ensure_role(user, role: str) -> None:
    """Raise `Forbidden` unless `user` holds `role` or a higher one."""
    if not has_role(user, role):
        raise Forbidden(f"this action needs the {role} role")


def require_role(role: str):
    """Decorator for Flask views: the signed-in user needs `role` or a higher one."""
    _rank(role)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from flask_login import current_user

            ensure_role(current_user, role)
            return view(*args, **kwargs)

        return wrapped

    return decorator

"""The audit log: security-relevant events as `AuditEvent` rows.

`event()` builds a row for a caller that commits it together with the change it
describes (the account service does); `record()` adds and commits one on its own, for
events that change nothing else, such as a failed login.
"""

from __future__ import annotations

from dashboard.schema import AuditEvent
from dashboard.store import unscoped

MAX_ADDRESS_LENGTH = 64


def event(action: str, *, tenant_id: str | None = None, user_id: str | None = None,
          address: str | None = None, **detail) -> AuditEvent:
    return AuditEvent(
        action=action,
        tenant_id=tenant_id,
        user_id=user_id,
        address=(address or None) and address[:MAX_ADDRESS_LENGTH],
        detail=detail or None,
    )


def record(action: str, *, tenant_id: str | None = None, user_id: str | None = None,
           address: str | None = None, **detail) -> AuditEvent:
    """Write one audit row now (commits the current session)."""
    row = event(action, tenant_id=tenant_id, user_id=user_id, address=address, **detail)
    unscoped().add(row)
    unscoped().commit()
    return row

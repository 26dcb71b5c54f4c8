"""The tenant-scoped store: the only way tenant rows and files are read and written.

A `TenantStore` is bound to one tenant id, taken from the logged-in user on the server
(`current_store()`), or from a job row in a worker. Every lookup filters by that tenant, so
an id that belongs to another tenant is indistinguishable from a missing one (404).
Cross-tenant access needs `unscoped()`, which is deliberately loud and greppable.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.database import db
from dashboard.schema import Tenant, TenantOwned

T = TypeVar("T", bound=TenantOwned)


class NotFound(LookupError):
    """The row does not exist for this tenant (it may exist for another one)."""


def make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents with mode 0700: a tenant's files are one
    company's data, and other local users have no business listing or reading them."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)


def tenant_dir(data_dir: str | Path, tenant_id: str) -> Path:
    return Path(data_dir) / "tenants" / tenant_id


class TenantStore:
    def __init__(self, session: Session, tenant_id: str, data_dir: str | Path) -> None:
        if not tenant_id:
            raise ValueError("a tenant store needs a tenant id")
        self.session = session
        self.tenant_id = tenant_id
        self.data_dir = Path(data_dir)

    @property
    def tenant(self) -> Tenant:
        tenant = self.session.get(Tenant, self.tenant_id)
        if tenant is None:
            raise NotFound("tenant")
        return tenant

    def select(self, model: type[T]):
        return select(model).where(model.tenant_id == self.tenant_id)

    def get(self, model: type[T], row_id: str) -> T:
        row = self.session.scalars(self.select(model).where(model.id == row_id)).first()
        if row is None:
            raise NotFound(f"{model.__name__.lower()} {row_id!r} not found")
        return row

    def list(self, model: type[T], *, where=(), order_by=(), limit: int | None = None,
             offset: int = 0) -> tuple[list[T], int]:
        """Rows of this tenant, with the total count before limit/offset."""
        query = self.select(model)
        for condition in where:
            query = query.where(condition)
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(query.order_by(*order_by).offset(offset).limit(limit)).all()
        return list(rows), int(total or 0)

    def add(self, row: T) -> T:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row

    def commit(self) -> None:
        self.session.commit()

    def path(self, *parts: str) -> Path:
        """A path inside this tenant's data directory (created on demand)."""
        base = tenant_dir(self.data_dir, self.tenant_id).resolve()
        target = base.joinpath(*parts).resolve()
        if base != target and base not in target.parents:
            raise ValueError("path escapes the tenant directory")
        make_private_dirs(target.parent)
        return target

    def delete_files(self) -> None:
        shutil.rmtree(tenant_dir(self.data_dir, self.tenant_id), ignore_errors=True)


def store_for(tenant_id: str) -> TenantStore:
    return TenantStore(db.session(), tenant_id, current_app.config["DATA_DIR"])


def current_store() -> TenantStore:
    """The store of the logged-in user's tenant; the only tenant a request may touch."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        raise PermissionError("no logged-in user")
    return store_for(current_user.tenant_id)


def unscoped() -> Session:
    """UNSCOPED access across tenants, for platform operations only: signing in (a user is
    found by email or token before a tenant is known), the audit log, claiming a job by
    id, the reaper, health checks and the operator's CLI. Everything else goes through a
    `TenantStore`; a test keeps `db.session` out of every other module."""
    return db.session()

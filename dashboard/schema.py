"""Metadata tables. Every tenant-owned table carries `tenant_id`; reads go through the
tenant-scoped store (`dashboard.store`), never through these classes directly."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.database import Base

ROLES = ("viewer", "analyst", "admin")
JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED_JOB_STATES = ("succeeded", "failed", "cancelled")
DATASET_STATES = ("uploaded", "ingesting", "ready", "failed")
RUN_STATES = ("scoring", "ready", "live", "superseded", "failed")
MODEL_STATES = ("candidate", "champion", "archived")
RETRAIN_SCHEDULES = ("off", "daily", "weekly")


def new_id() -> str:
    """Opaque, unguessable identifier (clients must not infer anything from it)."""
    return secrets.token_hex(12)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 text for clients."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False, default=180)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="USD")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    live_run_id: Mapped[str | None] = mapped_column(String(32))
    retrain_schedule: Mapped[str] = mapped_column(String(16), nullable=False, default="off",
                                                  server_default="off")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class TenantOwned:
    """Mixin for rows that belong to one tenant."""

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )


class User(TenantOwned, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped at password change and logout-everywhere: sessions carrying an older value die.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(TenantOwned, Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Dataset(TenantOwned, Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_by: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="transactions")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="uploaded")
    # The raw upload, relative to the tenant's directory; `data_path` the validated Parquet.
    path: Mapped[str | None] = mapped_column(Text)
    data_path: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(16), nullable=False, default="replace",
                                      server_default="replace")
    # The dataset an `append` upload extends (its rows come first).
    base_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("datasets.id", ondelete="SET NULL"))
    mapping: Mapped[dict | None] = mapped_column(JSON)
    target: Mapped[str | None] = mapped_column(String(200))
    report: Mapped[dict | None] = mapped_column(JSON)
    drift: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime)


class Job(TenantOwned, Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id", ondelete="SET NULL"))
    # A step of a chain (ingest, train, score, explain) points at the chain's job.
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    task_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class Run(TenantOwned, Base):
    """One scored output of the tenant's data: what the dashboards read. `Tenant.live_run_id`
    points at the live one; a chain's job creates at most one run (`job_id` is unique)."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("datasets.id", ondelete="SET NULL"), index=True)
    job_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="transactions")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="scoring")
    horizon_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # Directory relative to the tenant's: customers.parquet, report.json, explanations.parquet.
    path: Mapped[str] = mapped_column(Text, nullable=False)
    customers: Mapped[int | None] = mapped_column(Integer)
    models: Mapped[dict | None] = mapped_column(JSON)
    summary: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    live_at: Mapped[datetime | None] = mapped_column(DateTime)
    explained_at: Mapped[datetime | None] = mapped_column(DateTime)


class ModelVersion(TenantOwned, Base):
    __tablename__ = "model_versions"
    # Never two champions of one kind per tenant, whatever the code does.
    __table_args__ = (
        Index("uq_model_versions_one_champion", "tenant_id", "kind", unique=True,
              sqlite_where=text("status = 'champion'"),
              postgresql_where=text("status = 'champion'")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    candidate: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="candidate")
    dataset_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("datasets.id", ondelete="SET NULL"))
    job_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="SET NULL"))
    path: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    params: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Security-relevant events. `tenant_id` is empty for platform-level events such as a
    failed login for an unknown email."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    detail: Mapped[dict | None] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

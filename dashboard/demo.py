"""The demo tenant: three users and a job that loads and analyses synthetic data.

`valuelens run` creates it on the first start and `valuelens demo` on request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

DEMO_SLUG = "demo"
DEMO_NAME = "Demo company"
DEMO_USERS = (
    ("admin@demo.example", "admin"),
    ("analyst@demo.example", "analyst"),
    ("viewer@demo.example", "viewer"),
)


@dataclass(frozen=True)
class Demo:
    password: str
    password_generated: bool
    job_id: str


def ensure_demo(password: str | None = None) -> Demo | None:
    """Create the demo tenant, its three users and the job that loads its data.

    Needs an application context with Redis bound (the job is enqueued). Returns None, and
    changes nothing, when the tenant exists already. A given `password` that fails the
    strength rule raises `WeakPassword` before anything is written.
    """
    from dashboard.accounts import WeakPassword, create_tenant, create_user
    from dashboard.auth.passwords import password_problem
    from dashboard.jobs import submit_job
    from dashboard.schema import Tenant
    from dashboard.store import store_for, unscoped

    session = unscoped()
    if session.scalars(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)).first():
        return None
    generated = password is None
    password = secrets.token_urlsafe(15) if generated else password
    for email, _role in DEMO_USERS:
        # The same context the account service checks with, so nothing is created before
        # a password it would refuse is found out.
        problem = password_problem(password, email, context=(DEMO_NAME, DEMO_SLUG))
        if problem:
            raise WeakPassword(f"VALUELENS_DEMO_PASSWORD is refused: {problem}")
    tenant = create_tenant(session, DEMO_SLUG, DEMO_NAME)
    users = [create_user(session, tenant, email, password, role) for email, role in DEMO_USERS]
    job = submit_job(store_for(tenant.id), users[0], "demo")
    return Demo(password, generated, job.id)

"""Scheduled retrains: a tenant whose schedule is due gets a retrain job on the beat's
pass; one that is off, not yet due or already retraining does not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.live_run import publish_run

pytestmark = pytest.mark.integration


def _tenant_with_live_run(app, make_tenant, schedule: str, age: timedelta):
    from dashboard.database import db
    from dashboard.schema import Run, Tenant, utcnow

    tenant_id = make_tenant().id
    publish_run(app, tenant_id, customers=200)
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.retrain_schedule = schedule
        db.session.get(Run, tenant.live_run_id).created_at = utcnow() - age
        db.session.commit()
    return tenant_id


def _start(app, *tenant_ids):
    from dashboard.pipeline import start_scheduled_retrains
    from dashboard.schema import utcnow
    from dashboard.store import store_for

    with app.app_context():
        return start_scheduled_retrains([store_for(t) for t in tenant_ids], utcnow())


def test_a_due_schedule_starts_one_retrain_and_only_one(app, make_tenant):
    from dashboard.database import db
    from dashboard.schema import AuditEvent, Job

    daily = _tenant_with_live_run(app, make_tenant, "daily", timedelta(days=2))
    weekly = _tenant_with_live_run(app, make_tenant, "weekly", timedelta(days=2))
    off = _tenant_with_live_run(app, make_tenant, "off", timedelta(days=30))

    started = _start(app, daily, weekly, off)

    with app.app_context():
        jobs = [db.session.get(Job, job_id) for job_id in started]
        assert [(job.tenant_id, job.kind) for job in jobs] == [(daily, "retrain")]
        assert db.session.query(AuditEvent).filter_by(tenant_id=daily,
                                                      action="model.retrain").count() == 1
    assert _start(app, daily) == []  # the retrain it started is now the latest

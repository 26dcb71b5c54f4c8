"""A forged Dash callback from a role that may not use it is refused and changes nothing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def job_count():
    from sqlalchemy import func, select

    from dashboard.database import db
    from dashboard.schema import Job

    return db.session.scalar(select(func.count()).select_from(Job))


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_a_forged_retrain_from_below_admin_is_refused_and_starts_nothing(client, auth, make_user,
                                                                         tenant_a, role):
    auth.login(make_user(tenant_a, role=role))
    client.get("/models")
    output = next(dep["output"] for dep in client.get("/_dash-dependencies").get_json()
                  if dep["inputs"] == [{"id": "retrain", "property": "n_clicks"}])

    response = client.post("/_dash-update-component", json={
        "output": output,
        "outputs": [{"id": "retrain-feedback", "property": "children"},
                    {"id": "retrain-job", "property": "data"},
                    {"id": "retrain-poll", "property": "disabled"}],
        "inputs": [{"id": "retrain", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["retrain.n_clicks"],
        "state": [],
    })

    assert response.status_code == 403
    assert "admin" in response.get_json()["error"]
    assert job_count() == 0


def test_a_forged_user_change_from_an_analyst_changes_no_role(client, auth, make_user, tenant_a):
    from dashboard.database import db
    from dashboard.schema import User

    analyst = make_user(tenant_a, role="analyst")
    viewer = make_user(tenant_a, role="viewer")
    auth.login(analyst)
    client.get("/")
    output = next(dep["output"] for dep in client.get("/_dash-dependencies").get_json()
                  if dep["inputs"] == [{"id": "user-apply", "property": "n_clicks"}])
    response = client.post("/_dash-update-component", json={
        "output": output,
        "outputs": [{"id": "user-feedback", "property": "children"},
                    {"id": "users-box", "property": "children"},
                    {"id": "audit-box", "property": "children"}],
        "inputs": [{"id": "user-apply", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["user-apply.n_clicks"],
        "state": [{"id": "user-choice", "property": "value", "value": viewer.id},
                  {"id": "user-action", "property": "value", "value": "role:admin"}],
    })
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, viewer.id).role == "viewer"


def test_a_viewer_gets_403_for_the_data_and_admin_pages(client, auth, make_user, tenant_a):
    auth.login(make_user(tenant_a, role="viewer"))
    assert client.get("/data").status_code == 403
    assert client.get("/admin").status_code == 403
    assert client.get("/models").status_code == 200
    assert client.get("/account").status_code == 200


def test_an_analyst_may_open_data_but_not_admin(client, auth, make_user, tenant_a):
    auth.login(make_user(tenant_a, role="analyst"))
    assert client.get("/data").status_code == 200
    assert client.get("/admin").status_code == 403

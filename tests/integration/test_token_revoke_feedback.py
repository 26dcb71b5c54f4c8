"""Revoking a token from the Account and Admin pages: one helper says how it went."""

from __future__ import annotations

import dash
import pytest

pytestmark = pytest.mark.integration


def test_revoking_says_what_happened_and_refreshes_only_on_success(app, make_user):
    from flask_login import login_user

    from dashboard import accounts
    from dashboard.auth.users import LoginUser
    from dashboard.components.admin_forms import revoke_with_feedback
    from dashboard.database import db
    from dashboard.schema import ApiToken

    admin = make_user(role="admin")
    stranger = make_user(role="admin")
    with app.test_request_context():
        accounts.create_token(db.session(), admin.email, "scripts")
        accounts.create_token(db.session(), stranger.email, "theirs")
        mine = db.session.query(ApiToken).filter_by(user_id=admin.id).one()
        theirs = db.session.query(ApiToken).filter_by(user_id=stranger.id).one()
        login_user(LoginUser(db.session.get(type(admin), admin.id)))

        nothing = revoke_with_feedback(None, lambda: "rebuilt")
        foreign = revoke_with_feedback(theirs.id, lambda: "rebuilt")
        done = revoke_with_feedback(mine.id, lambda: "rebuilt")

        db.session.expire_all()
        assert db.session.get(ApiToken, mine.id).revoked_at is not None
        assert db.session.get(ApiToken, theirs.id).revoked_at is None
    assert "Choose a token" in str(nothing[0]) and nothing[1] is dash.no_update
    assert "not found" in str(foreign[0]) and foreign[1] is dash.no_update
    assert "Token scripts was revoked." in str(done[0]) and done[1] == "rebuilt"

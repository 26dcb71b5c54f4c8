"""`valuelens upload`: a file into a tenant's data with progress, through a real worker."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dashboard.cli import main

pytestmark = pytest.mark.integration



@pytest.fixture
def sales(tmp_path):
    from models.synthetic import generate_transactions

    path = tmp_path / "sales.csv"
    generate_transactions(150, seed=3).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture
def cli(app_config):
    env = {"DATABASE_URL": app_config["DATABASE_URL"], "DATA_DIR": app_config["DATA_DIR"],
           "REDIS_URL": app_config["REDIS_URL"], "SECRET_KEY": None}

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


def test_upload_waits_for_the_live_results_and_prints_the_job(celery_worker, app, cli,
                                                             make_tenant, sales):
    from dashboard.database import db
    from dashboard.schema import Job, Tenant

    tenant_id = make_tenant("shop").id

    result = cli("upload", "--tenant", "shop", str(sales))

    assert result.exit_code == 0, result.output
    job_id = result.stdout.strip().splitlines()[-1]
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "succeeded" and job.tenant_id == tenant_id
        assert db.session.get(Tenant, tenant_id).live_run_id
    assert "100.0 %" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--tenant", "nobody"], "no tenant 'nobody'"),
    (["--tenant", "shop", "--mapping", "[1]"], "must be a JSON object"),
    (["--tenant", "shop", "--mapping", '{"colour": "x"}'], "unknown field(s) in mapping: colour"),
])
def test_bad_uploads_are_refused_with_a_message_and_keep_nothing(app, cli, make_tenant, sales,
                                                                args, message):
    from dashboard.database import db
    from dashboard.schema import Dataset

    make_tenant("shop")

    result = cli("upload", *args, str(sales))

    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.query(Dataset).count() == 0

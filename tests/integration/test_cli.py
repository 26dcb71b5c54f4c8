"""The administrative `valuelens` commands, end to end against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select

from dashboard.auth.passwords import verify_password
from dashboard.cli import main
from dashboard.database import db
from dashboard.redis_server import free_port
from dashboard.schema import ApiToken, Job, Tenant, User
from tests.conftest import STRONG_PASSWORD, TEST_SECRET_KEY
from tests.integration.conftest import other_redis_db

pytestmark = pytest.mark.integration

OTHER_PASSWORD = "plum orchard under moonlight 7"


@pytest.fixture
def cli(app, app_config):
    """Invoke `valuelens ...` in-process with the environment an operator would have:
    the database and data directory, but no SECRET_KEY and no Redis."""
    env = {"DATABASE_URL": app_config["DATABASE_URL"], "DATA_DIR": app_config["DATA_DIR"],
           "SECRET_KEY": None, "REDIS_URL": None, "VALUELENS_DEMO_PASSWORD": None}

    def invoke(*args: str, input: str | None = None, **extra_env: str | None):
        return CliRunner().invoke(main, list(args), input=input, env={**env, **extra_env},
                                  catch_exceptions=False)

    return invoke


@pytest.fixture
def acme(cli):
    result = cli("create-tenant", "acme", "--name", "Acme Inc")
    assert result.exit_code == 0, result.output
    result = cli("create-user", "--tenant", "acme", "--email", "ada@acme.example",
                 "--role", "admin", "--password-stdin", input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    return "acme"


def _user(email: str) -> User:
    db.session.remove()
    return db.session.scalars(select(User).where(User.email == email)).one()


def test_init_db_creates_every_table_in_a_new_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(main, ["init-db"], env={"DATABASE_URL": url,
                                                        "DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.stdout
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"tenants", "users", "api_tokens", "jobs", "alembic_version"} <= tables


def test_init_db_reports_an_unreachable_database_without_a_traceback(tmp_path):
    url = f"postgresql+psycopg://valuelens:secret@127.0.0.1:{free_port()}/valuelens"
    result = CliRunner().invoke(main, ["init-db"], env={"DATABASE_URL": url,
                                                        "DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "cannot migrate postgresql+psycopg://valuelens:***@127.0.0.1" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.output


def test_admin_commands_on_an_unmigrated_database_point_to_init_db(tmp_path):
    result = CliRunner().invoke(main, ["create-tenant", "acme", "--name", "Acme"], env={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "DATA_DIR": str(tmp_path),
        "SECRET_KEY": None, "REDIS_URL": None})
    assert result.exit_code == 1
    assert "no such table" in result.stderr and "valuelens init-db" in result.stderr


def test_create_tenant_and_its_first_admin(cli, acme):
    user = _user("ada@acme.example")
    tenant = db.session.get(Tenant, user.tenant_id)
    assert (tenant.slug, tenant.name, user.role) == ("acme", "Acme Inc", "admin")
    assert verify_password(user.password_hash, STRONG_PASSWORD)


def test_create_token_prints_the_token_alone_on_the_last_line_and_it_works(cli, acme, client):
    result = cli("create-token", "--email", "ada@acme.example", "--name", "nightly export")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("vl_") and " " not in token
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.name == "nightly export" and token not in stored.token_hash

    assert client.get("/api/v1/jobs").status_code == 401
    answer = client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["jobs"] == []


def test_revoke_token_stops_the_token_at_once(cli, acme, client):
    created = cli("create-token", "--email", "ada@acme.example", "--name", "nightly export")
    token = created.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/jobs", headers=headers).status_code == 200

    result = cli("revoke-token", "--email", "ada@acme.example", "--name", "nightly export")

    assert result.exit_code == 0, result.output
    assert "Revoked 1 token named 'nightly export'" in result.stdout
    assert client.get("/api/v1/jobs", headers=headers).status_code == 401
    again = cli("revoke-token", "--email", "ada@acme.example", "--name", "nightly export")
    assert again.exit_code == 1
    assert "has no active token named 'nightly export'" in again.stderr


def test_reset_password_replaces_the_password_and_ends_sessions(cli, acme):
    before = _user("ada@acme.example").session_version
    result = cli("reset-password", "--email", "ada@acme.example", "--password-stdin",
                 input=OTHER_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = _user("ada@acme.example")
    assert verify_password(user.password_hash, OTHER_PASSWORD)
    assert not verify_password(user.password_hash, STRONG_PASSWORD)
    assert user.session_version > before


def test_delete_tenant_with_yes_removes_its_rows_and_files(cli, acme, app_config):
    tenant_id = _user("ada@acme.example").tenant_id
    files = Path(app_config["DATA_DIR"]) / "tenants" / tenant_id / "uploads"
    files.mkdir(parents=True)
    (files / "sales.csv").write_text("customer_id,date,amount\n")

    result = cli("delete-tenant", "acme", "--yes")
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.get(Tenant, tenant_id) is None
    assert db.session.scalars(select(User).where(User.tenant_id == tenant_id)).first() is None
    assert not files.parent.exists()


def test_delete_tenant_asks_first_and_keeps_everything_on_no(cli, acme):
    result = cli("delete-tenant", "acme", input="n\n")
    assert result.exit_code != 0
    assert "Delete tenant 'acme'" in result.stderr
    assert _user("ada@acme.example").tenant_id


def test_delete_tenant_goes_ahead_when_confirmed(cli, acme):
    result = cli("delete-tenant", "acme", input="y\n")
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalars(select(Tenant).where(Tenant.slug == "acme")).first() is None


@pytest.mark.parametrize(("args", "password", "message"), [
    (("create-user", "--tenant", "nope", "--email", "x@nope.example", "--role", "viewer"),
     STRONG_PASSWORD, "no tenant with slug 'nope'"),
    (("create-user", "--tenant", "acme", "--email", "ADA@acme.example", "--role", "viewer"),
     STRONG_PASSWORD, "already exists"),
    (("create-user", "--tenant", "acme", "--email", "bob@acme.example", "--role", "viewer"),
     "short", "at least 12 characters"),
    (("create-user", "--tenant", "acme", "--email", "bob@acme.example", "--role", "owner"),
     STRONG_PASSWORD, "role 'owner' is not one of viewer, analyst, admin"),
    (("reset-password", "--email", "ada@acme.example"), "password", "at least 12"),
    (("reset-password", "--email", "nobody@acme.example"), STRONG_PASSWORD, "no user"),
], ids=["unknown-tenant", "duplicate-email", "weak-password", "invalid-role",
        "weak-reset", "reset-unknown-user"])
def test_refused_account_changes_exit_non_zero_with_the_reason(cli, acme, args, password,
                                                               message):
    result = cli(*args, "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert db.session.scalars(select(User).where(User.email == "bob@acme.example")).first() is None
    assert verify_password(_user("ada@acme.example").password_hash, STRONG_PASSWORD)


@pytest.mark.parametrize(("args", "message"), [
    (("create-tenant", "acme", "--name", "Again"), "already exists"),
    (("create-tenant", "Not A Slug", "--name", "X"), "must be 2-63 characters"),
    (("create-token", "--email", "nobody@acme.example", "--name", "ci"), "no user"),
    (("delete-tenant", "nope", "--yes"), "no tenant with slug 'nope'"),
    (("revoke-token", "--email", "nobody@acme.example", "--name", "ci"), "no user"),
], ids=["duplicate-tenant", "bad-slug", "token-unknown-user", "delete-unknown-tenant",
        "revoke-unknown-user"])
def test_other_refusals_exit_non_zero_with_the_reason(cli, acme, args, message):
    result = cli(*args)
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("command", ["web", "worker", "beat"])
def test_server_commands_refuse_to_start_without_a_strong_secret_key(cli, redis_url, command):
    result = cli(command, SECRET_KEY="changeme", REDIS_URL=redis_url)
    assert result.exit_code == 1
    assert "SECRET_KEY is a published sample value" in result.stderr


@pytest.mark.parametrize("command", ["web", "worker", "beat"])
def test_server_commands_refuse_to_start_without_redis(cli, command):
    result = cli(command, SECRET_KEY=TEST_SECRET_KEY)
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.stderr


@pytest.fixture
def queue_url(redis_url):
    """A Redis database of its own, so the demo job queued here reaches no other test's
    worker; emptied afterwards."""
    url = other_redis_db(redis_url, 9)
    yield url
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def test_demo_creates_the_tenant_its_users_and_a_queued_demo_job_once(cli, queue_url):
    first = cli("demo", REDIS_URL=queue_url)
    assert first.exit_code == 0, first.output
    password = first.stdout.split("password: ", 1)[1].split()[0]
    db.session.remove()
    tenant = db.session.scalars(select(Tenant).where(Tenant.slug == "demo")).one()
    users = db.session.scalars(select(User).where(User.tenant_id == tenant.id)).all()
    assert {(u.email, u.role) for u in users} == {
        ("admin@demo.example", "admin"), ("analyst@demo.example", "analyst"),
        ("viewer@demo.example", "viewer"),
    }
    assert all(verify_password(u.password_hash, password) for u in users)
    job = db.session.scalars(select(Job).where(Job.tenant_id == tenant.id,
                                               Job.parent_id.is_(None))).one()
    assert (job.kind, job.status) == ("demo", "queued")
    steps = db.session.scalars(select(Job.kind).where(Job.parent_id == job.id)).all()
    assert sorted(steps) == sorted(job.params["steps"])
    assert job.id in first.stdout

    again = cli("demo", REDIS_URL=queue_url)
    assert again.exit_code == 0, again.output
    assert "exists already" in again.stdout and "password" not in again.stdout
    jobs = db.session.scalars(select(Job.id).where(Job.tenant_id == tenant.id,
                                                   Job.parent_id.is_(None))).all()
    assert jobs == [job.id]


def test_demo_uses_the_given_password_without_printing_it(cli, queue_url):
    result = cli("demo", REDIS_URL=queue_url, VALUELENS_DEMO_PASSWORD=OTHER_PASSWORD)
    assert result.exit_code == 0, result.output
    assert OTHER_PASSWORD not in result.output
    assert verify_password(_user("viewer@demo.example").password_hash, OTHER_PASSWORD)


@pytest.mark.parametrize("weak", ["password123", "Demo company rocks 2026!"])
def test_demo_refuses_a_weak_password_and_creates_nothing(cli, queue_url, weak):
    result = cli("demo", REDIS_URL=queue_url, VALUELENS_DEMO_PASSWORD=weak)
    assert result.exit_code == 1
    assert "VALUELENS_DEMO_PASSWORD is refused" in result.stderr
    db.session.remove()
    assert db.session.scalars(select(Tenant)).first() is None


def test_demo_without_a_queue_says_what_is_missing(cli):
    result = cli("demo")
    assert result.exit_code == 1
    assert "REDIS_URL is not set" in result.stderr


def test_analyze_rejects_a_mapping_that_is_not_json(cli, tmp_path):
    source = tmp_path / "sales.csv"
    source.write_text("customer_id,date,amount\n")
    result = cli("analyze", str(source), "--mapping", "{customer_id:", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--mapping" in result.stderr and "not valid JSON" in result.stderr


def test_generate_data_writes_a_reproducible_transactions_csv(tmp_path):
    runner = CliRunner()
    paths = [tmp_path / "a" / "sales.csv", tmp_path / "b.csv"]
    for path in paths:
        result = runner.invoke(main, ["generate-data", "--customers", "30", "--seed", "7",
                                      "--out", str(path)])
        assert result.exit_code == 0, result.output
        assert "of 30 customers" in result.stdout
    header = paths[0].read_text().splitlines()[0].split(",")
    assert {"customer_id", "date", "amount"} <= set(header)
    assert paths[0].read_text() == paths[1].read_text()

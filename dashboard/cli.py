"""The `valuelens` command line: local run, production entry points, administration and
the offline analytics pipeline.

Account commands bind the database alone (no web secret needed), call
`dashboard.accounts`, and turn its errors into a message on stderr with exit status 1;
`demo` builds the app through `create_app()` in CLI mode, since it enqueues a job.
`web`, `worker` and `beat` replace this process with the real server
(`os.execv`) so that signals from the container runtime reach it directly.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from dashboard.cli_analytics import analyze, generate_data
from dashboard.cli_samples import sample_data
from dashboard.cli_upload import upload
from dashboard.config import ConfigError, check_secret_key, load_config
from dashboard.schema import ROLES


def _settings(server: bool = False) -> dict:
    """The configuration; for the production servers also a strong key and a Redis URL,
    checked here so that a mistake is one clear line instead of a crash in every child."""
    try:
        settings = load_config()
        if server:
            check_secret_key(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if server and not settings["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set; the production servers need a "
                                   "Redis server (`valuelens run` starts one for local use)")
    return settings


@contextmanager
def _account_session():
    """A database session for the account commands, with the configuration; account and
    database errors become CLI errors (the message on stderr, exit status 1).

    These commands touch a few rows, so they bind the database alone instead of building
    the web app: importing Dash, Celery and the analytics stack would cost seconds."""
    from dashboard import accounts
    from dashboard.database import db
    from dashboard.store import unscoped

    settings = _settings()
    db.configure(settings["DATABASE_URL"])
    try:
        yield unscoped(), settings
    except accounts.AccountError as exc:
        unscoped().rollback()
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        unscoped().rollback()
        raise click.ClickException(
            f"{_first_line(exc)} (is the database reachable and migrated? "
            "`valuelens init-db` migrates it)"
        ) from None
    finally:
        db.session.remove()


def _first_line(exc: Exception) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and links."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _exec(argv: list[str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ValueLens: customer segments, lifetime value and churn risk for every tenant."""


@main.command()
def run() -> None:
    """Start everything locally: database, Redis, one worker and the web server."""
    from dashboard.runner import run as run_supervisor

    sys.exit(run_supervisor())


@main.command()
def web() -> None:
    """Production web server (gunicorn on $HOST:$PORT; every interface without HOST)."""
    settings = _settings(server=True)
    host = settings["WEB_HOST"]
    _exec([
        sys.executable, "-m", "gunicorn",
        "--bind", f"[{host}]:{settings['PORT']}" if ":" in host else f"{host}:{settings['PORT']}",
        "--workers", str(settings["WEB_CONCURRENCY"]),
        "--threads", str(settings["WEB_THREADS"]),
        "--worker-class", "gthread",
        "--access-logfile", "-",
        "dashboard:create_app()",
    ])


@main.command()
def worker() -> None:
    """Production Celery worker ($WORKER_CONCURRENCY processes)."""
    from dashboard.runner import worker_command

    settings = _settings(server=True)
    _exec(worker_command(settings["WORKER_CONCURRENCY"]))


@main.command()
def beat() -> None:
    """Celery beat: schedules the job reaper (run exactly one)."""
    from dashboard.runner import WORKER_APP

    settings = _settings(server=True)
    data_dir = Path(settings["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    _exec([
        sys.executable, "-m", "celery", "-A", WORKER_APP, "beat",
        "--schedule", str(data_dir / "celerybeat-schedule"), "--loglevel", "INFO",
    ])


@main.command("init-db")
def init_db() -> None:
    """Create or migrate the metadata database to the latest schema."""
    from sqlalchemy.engine import make_url

    from dashboard.migrate import upgrade

    url = _settings()["DATABASE_URL"]
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        upgrade(url)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot migrate {shown}: {_first_line(exc)}") from None
    click.echo(f"Database {shown} is at the latest schema.")


@main.command("create-tenant")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the company.")
def create_tenant(slug: str, name: str) -> None:
    """Create a tenant (a company); add its first admin with create-user."""
    with _account_session() as (session, _):
        from dashboard import accounts

        tenant = accounts.create_tenant(session, slug, name)
    click.echo(f"Created tenant {tenant.slug!r} ({tenant.name}).")


@main.command("create-user")
@click.option("--tenant", "tenant_slug", required=True, help="Slug of the user's tenant.")
@click.option("--email", required=True)
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def create_user(tenant_slug: str, email: str, role: str, password_stdin: bool) -> None:
    """Create a user in a tenant."""
    password = _read_password(password_stdin)
    with _account_session() as (session, _):
        from dashboard import accounts

        user = accounts.create_user(session, tenant_slug, email, password, role)
    click.echo(f"Created {user.role} {user.email} in tenant {tenant_slug!r}.")


@main.command("create-token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'nightly export'.")
def create_token(email: str, name: str) -> None:
    """Create an API token; the token is printed once, alone on the last line."""
    with _account_session() as (session, _):
        from dashboard import accounts

        token, plain = accounts.create_token(session, email, name)
    click.echo(f"Created API token {token.name!r} ({token.prefix}...) for {email}. "
               "Store it now; it cannot be shown again:")
    click.echo(plain)


@main.command("revoke-token")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="The name the token was created with.")
def revoke_token(email: str, name: str) -> None:
    """Revoke a user's API tokens of that name; they stop working at once."""
    with _account_session() as (session, _):
        from dashboard import accounts

        count = accounts.revoke_tokens(session, email, name)
    click.echo(f"Revoked {count} token{'s' if count != 1 else ''} named {name!r} of {email}.")


@main.command("reset-password")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--keep-tokens", is_flag=True,
              help="Leave the user's API tokens working (by default they are revoked).")
def reset_password(email: str, password_stdin: bool, keep_tokens: bool) -> None:
    """Set a new password; the user's sessions end and, unless --keep-tokens, their API
    tokens are revoked."""
    password = _read_password(password_stdin)
    with _account_session() as (session, _):
        from dashboard import accounts

        reset = accounts.reset_password(session, email, password,
                                        revoke_tokens=not keep_tokens)
    tokens = ("API tokens were kept (--keep-tokens)" if keep_tokens else
              f"{reset.tokens_revoked} API token{'' if reset.tokens_revoked == 1 else 's'} "
              "revoked")
    click.echo(f"Password of {reset.user.email} reset; all sessions are signed out; {tokens}.")


@main.command("delete-tenant")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_tenant(slug: str, yes: bool) -> None:
    """Delete a tenant with all its users, data, models and files."""
    with _account_session() as (session, settings):
        from dashboard import accounts

        tenant = accounts.get_tenant(session, slug)
        if not yes:
            click.confirm(f"Delete tenant {slug!r} ({tenant.name}) with all its users, data "
                          "and files? This cannot be undone", abort=True, err=True)
        accounts.delete_tenant(session, slug, settings["DATA_DIR"])
    click.echo(f"Deleted tenant {slug!r}.")


@main.command()
def demo() -> None:
    """Create the demo tenant, its users and the job that loads its data."""
    from dashboard.demo import DEMO_USERS, ensure_demo

    settings = _settings()
    if not settings["REDIS_URL"]:
        raise click.ClickException(
            "REDIS_URL is not set: the demo data loads as a job and needs the queue "
            "(`valuelens run` creates the demo by itself on first start)"
        )
    from dashboard import create_app

    try:
        app = create_app({"CLI_MODE": True})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    with app.app_context(), _account_session():
        created = ensure_demo(settings["DEMO_PASSWORD"] or None)
    if created is None:
        click.echo("The demo tenant exists already; nothing to do.")
        return
    click.echo(f"Created tenant 'demo'; demo data is loading as job {created.job_id}.")
    for email, role in DEMO_USERS:
        click.echo(f"  {email:<24} {role}")
    if created.password_generated:
        click.echo(f"  password: {created.password}   (shown only this once)")
    else:
        click.echo("  password: the value of VALUELENS_DEMO_PASSWORD")


main.add_command(generate_data)
main.add_command(analyze)
main.add_command(sample_data)
main.add_command(upload)

"""`valuelens upload`: a file into a tenant's data through the same service as the web
upload, then the job's progress until the new results are live (or why not)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

POLL_SECONDS = 0.5


def _mapping(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        raise click.BadParameter("must be a JSON object, e.g. "
                                 "'{\"customer_id\": \"Customer\", \"amount\": \"Total\"}'") from None
    if not isinstance(mapping, dict):
        raise click.BadParameter("must be a JSON object")
    return mapping


def _follow(store, job_id: str, timeout: float) -> str:
    """Print the job's progress lines until it ends; returns its final status."""
    from dashboard.schema import FINISHED_JOB_STATES, Job

    deadline = time.monotonic() + timeout
    shown = None
    while True:
        store.session.expire_all()
        job = store.get(Job, job_id)
        store.session.commit()
        line = f"{job.progress:5.1f} %  {job.message}"
        if line != shown:
            click.echo(line, err=True)
            shown = line
        if job.status in FINISHED_JOB_STATES:
            if job.status != "succeeded":
                click.echo(f"The job {job.status}: {job.error or job.message}", err=True)
            return job.status
        if time.monotonic() > deadline:
            raise click.ClickException(f"gave up waiting after {timeout:.0f} s; the job "
                                       f"{job_id} goes on in the background")
        time.sleep(POLL_SECONDS)


@click.command("upload")
@click.option("--tenant", "tenant_slug", required=True, help="The tenant (company) slug.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["transactions", "customers"]), default="transactions",
              show_default=True)
@click.option("--mapping", help="JSON object from field names to the file's column names.")
@click.option("--mode", type=click.Choice(["replace", "append"]), default="replace",
              show_default=True, help="append adds the rows to the live dataset.")
@click.option("--target", help="Customer tables: the column to predict.")
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@click.option("--timeout", type=float, default=3600, show_default=True,
              help="Seconds to wait for the job.")
def upload(tenant_slug, file, kind, mapping, mode, target, no_wait, timeout) -> None:
    """Upload FILE for a tenant: ingest, train, score and explain, with progress."""
    from sqlalchemy import select

    from dashboard import create_app
    from dashboard.config import ConfigError
    from dashboard.datasets import DatasetInUse, UploadRejected, UploadTooLarge, upload_dataset
    from dashboard.jobs import QueueUnavailable
    from dashboard.schema import Tenant
    from dashboard.store import store_for, unscoped

    try:
        app = create_app({"CLI_MODE": True})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: uploads are processed by a worker")
    with app.app_context():
        tenant_id = unscoped().scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
        if tenant_id is None:
            raise click.ClickException(f"no tenant {tenant_slug!r}")
        store = store_for(tenant_id)
        try:
            with open(file, "rb") as stream:
                dataset, job = upload_dataset(
                    store, None, stream, file.name, kind=kind, mapping=_mapping(mapping),
                    mode=mode, target=target,
                    limit_bytes=app.config["MAX_UPLOAD_MB"] * 1024 * 1024)
        except (UploadRejected, UploadTooLarge, DatasetInUse, QueueUnavailable) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Uploaded {file.name} as dataset {dataset.id}; job {job.id}", err=True)
        if no_wait:
            click.echo(job.id)
            return
        status = _follow(store, job.id, timeout)
    if status != "succeeded":
        sys.exit(1)
    click.echo(job.id)

"""The offline analytics commands: `valuelens generate-data` and `valuelens analyze`.

They need no database, Redis or secret: they read and write local files only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("generate-data")
@click.option("--customers", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="CSV file to write.")
@click.option("--attributes-out", "attributes_path",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the customers' attributes (age, income, ...) to this CSV.")
def generate_data(customers: int, seed: int, out_path: Path, attributes_path: Path | None
                  ) -> None:
    """Write a synthetic transactions CSV (for trying the product)."""
    from models.synthetic import generate_customers, generate_transactions, write_csv

    frame = generate_transactions(customers, seed=seed)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, out_path)
    click.echo(f"Wrote {len(frame)} transactions of {customers} customers to {out_path}.")
    if attributes_path is not None:
        attributes_path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(generate_customers(customers, seed=seed), attributes_path)
        click.echo(f"Wrote the attributes of {customers} customers to {attributes_path}.")


def _progress_printer():
    """A `progress(percent, message)` callback drawing a bar on stderr (a line per step
    when stderr is not a terminal)."""
    stream = sys.stderr
    interactive = stream.isatty()

    def progress(percent: float, message: str) -> None:
        percent = max(0.0, min(100.0, float(percent)))
        if interactive:
            filled = int(percent // 5)
            stream.write(f"\r[{'#' * filled}{'.' * (20 - filled)}] {percent:5.1f}% "
                         f"{message[:60]:<60}")
            if percent >= 100:
                stream.write("\n")
        else:
            stream.write(f"{percent:5.1f}% {message}\n")
        stream.flush()

    return progress


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["transactions", "customers"]),
              default="transactions", show_default=True)
@click.option("--target", help="Target column (customer tables).")
@click.option("--mapping", help='Column mapping as JSON, e.g. \'{"customer_id": "Client"}\'.')
@click.option("--horizon", type=click.IntRange(min=1), default=180, show_default=True,
              help="CLV and churn horizon in days.")
@click.option("--attributes", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A customer table whose columns join the features (transactions only).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Directory for report.json and customers.parquet.")
def analyze(source: Path, kind: str, target: str | None, mapping: str | None, horizon: int,
            attributes: Path | None, out_dir: Path) -> None:
    """Run the whole analytics pipeline on one CSV, offline."""
    column_mapping = None
    if mapping:
        try:
            column_mapping = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--mapping") from None
        if not isinstance(column_mapping, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--mapping")
    from models.pipeline import analyze as analyze_source

    try:
        report, customers = analyze_source(source, kind=kind, target=target,
                                           mapping=column_mapping, horizon=horizon,
                                           attributes=attributes,
                                           progress=_progress_printer())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    customers.to_parquet(out_dir / "customers.parquet")
    click.echo(f"Wrote {out_dir / 'report.json'} and {out_dir / 'customers.parquet'} "
               f"({len(customers)} customers).")

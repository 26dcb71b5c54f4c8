"""Peak memory and time of ingesting a large transactions CSV (not a test).

Writes a ~1 GB file of synthetic transactions into a temporary directory (or uses
``--csv``), ingests it in a fresh subprocess with ``models.ingest.read_transactions``
and prints the child's peak RSS and wall time; the numbers go to
``bench/ingest_results.json`` under ``--label`` (default ``latest``; other labels
already in the file are kept, so a change can be measured before and after). Run:
``make bench-ingest`` or ``.venv/bin/python bench/ingest_memory.py --megabytes 1024``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("ingest_results.json")
CHILD = """
import sys, time, resource
from models.ingest import read_transactions
start = time.perf_counter()
result = read_transactions(sys.argv[1], now="2030-01-01")
seconds = time.perf_counter() - start
print(result.report.rows_total, result.report.rows_accepted, round(seconds, 2),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_csv(path: Path, megabytes: int) -> int:
    """A transactions CSV of about ``megabytes`` MB: one synthetic block repeated with
    shifted customer ids (generating every row would take longer than ingesting it)."""
    from models.synthetic import generate_transactions

    block = generate_transactions(20_000, seed=0)
    block["date"] = block["date"].dt.strftime("%Y-%m-%d %H:%M:%S")
    header, body = block.to_csv(index=False).split("\n", 1)
    body_bytes = body.encode()
    copies = max(1, megabytes * 1024 * 1024 // len(body_bytes))
    with path.open("wb") as out:
        out.write(header.encode() + b"\n")
        for copy in range(copies):
            # Distinct customers per copy, so the file is not one customer base repeated.
            out.write(body_bytes.replace(b"C0", f"C{copy:03d}".encode()))
    return path.stat().st_size


def measure(path: Path) -> dict:
    start = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                           capture_output=True, text=True)
    wall = time.perf_counter() - start
    rows, accepted, seconds, max_rss_kb = child.stdout.split()[-4:]
    return {"rows": int(rows), "rows_accepted": int(accepted), "ingest_seconds": float(seconds),
            "wall_seconds": round(wall, 2), "peak_rss_mb": round(int(max_rss_kb) / 1024),
            "children_peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--csv", type=Path, help="ingest this file instead of generating one")
    parser.add_argument("--label", default="latest", help="key of this run in the results file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = args.csv or Path(directory) / "transactions.csv"
        if args.csv is None:
            write_csv(path, args.megabytes)
        size_mb = round(path.stat().st_size / 1024**2)
        result = {"file_mb": size_mb, **measure(path)}
    print(json.dumps(result, indent=2))
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[args.label] = result
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

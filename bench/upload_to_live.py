"""Upload-to-live benchmark: a CSV posted to the REST API until its run is live and explained.

For each size a fresh stack starts on loopback (bench/livestack.py: Redis, a fresh
database, `valuelens worker` with one task process, the production web server), a
generated transactions CSV (written by its own process, not timed) is uploaded with a
Bearer token, and the job is polled until it finishes. Recorded: the upload request, the
time to `succeeded`, each step's start and end (from the job rows, plus the poll's view),
the worker tree's peak RSS (sampled every 0.2 s) and the web server's RSS. Prints a table
and writes bench/upload_results.json.

    python bench/upload_to_live.py                   # 50,000 and 500,000 customers
    python bench/upload_to_live.py --sizes 50000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from livestack import RssSampler, Stack, upload  # noqa: E402

DEFAULT_SIZES = (50_000, 500_000)
# Transactions (about 8 per customer) → targets for the whole upload-to-live time.
TARGETS = {50_000: {"total_s": 10}, 500_000: {"total_s": 90, "worker_peak_rss_mb": 3072}}
POLL_S = 0.1
JOB_TIMEOUT_S = 900
MB = 1024 * 1024


def generate(customers: int, path: Path, seed: int) -> None:
    from models.synthetic import generate_transactions, write_csv

    write_csv(generate_transactions(customers, seed=seed), path)


def write_transactions(customers: int, path: Path, seed: int) -> None:
    """The CSV, written by a child process so its memory is not this one's."""
    subprocess.run([sys.executable, __file__, "--seed", str(seed), "--generate",
                    str(customers), str(path)], check=True, timeout=1200)


def poll_job(session, url: str, job_id: str, started: float) -> tuple[dict, dict]:
    """Poll the job until it finishes; also when each step was first seen running/done."""
    seen: dict[str, dict] = {}
    deadline = started + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = session.get(f"{url}/api/v1/jobs/{job_id}", timeout=30).json()
        now = round(time.monotonic() - started, 2)
        for step in job.get("steps", []):
            marks = seen.setdefault(step["kind"], {})
            if step["status"] != "queued":
                marks.setdefault("running_seen_s", now)
            if step["status"] in ("succeeded", "failed", "cancelled"):
                marks.setdefault("done_seen_s", now)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job, seen
        time.sleep(POLL_S)
    raise TimeoutError(f"job {job_id} did not finish within {JOB_TIMEOUT_S} s")


def step_rows(database_url: str, job_id: str) -> dict[str, dict]:
    """Each step's own started/finished times (the API shows status, not timings)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        parent = conn.execute(text("select created_at from jobs where id = :id"),
                              {"id": job_id}).one()
        rows = conn.execute(text("select kind, started_at, finished_at from jobs "
                                 "where parent_id = :id"), {"id": job_id}).all()
    engine.dispose()

    def moment(value):
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    created = moment(parent[0])
    steps = {}
    for kind, start, end in rows:
        start, end = moment(start), moment(end)
        steps[kind] = {
            "started_s": round((start - created).total_seconds(), 2) if start else None,
            "finished_s": round((end - created).total_seconds(), 2) if end else None,
            "took_s": round((end - start).total_seconds(), 2) if start and end else None,
        }
    return steps


def measure(customers: int, csv: Path, scratch: Path) -> dict:
    with Stack(scratch / f"stack-{customers}") as stack:
        api = stack.api()
        web_idle = stack.web_rss()
        with RssSampler(stack.worker.pid) as worker_peak, RssSampler(stack.web.pid) as web_peak:
            worker_idle = stack.worker_rss()
            started = time.monotonic()
            ids = upload(api, stack.url, csv)
            upload_s = round(time.monotonic() - started, 2)
            job, seen = poll_job(api, stack.url, ids["job_id"], started)
            total_s = round(time.monotonic() - started, 2)
        if job["status"] != "succeeded":
            raise RuntimeError(f"job {job['status']}: {job.get('error')}")
        runs = api.get(f"{stack.url}/api/v1/runs", timeout=30).json()
        listed = api.get(f"{stack.url}/api/v1/customers?limit=1", timeout=60).json()
        dataset = api.get(f"{stack.url}/api/v1/datasets/{ids['dataset_id']}", timeout=30).json()
        steps = step_rows(stack.env.get("DATABASE_URL") or
                          f"sqlite:///{stack.data_dir / 'valuelens.db'}", ids["job_id"])
        for kind, marks in seen.items():
            steps.setdefault(kind, {}).update(marks)
        return {
            "customers": int(listed["total"]),
            "transactions": dataset.get("rows"),
            "csv_mb": round(csv.stat().st_size / MB, 1),
            "upload_request_s": upload_s,
            "total_s": total_s,
            "steps": steps,
            "live_runs": sum(1 for run in runs.get("runs", []) if run.get("status") == "live"),
            "worker_idle_rss_mb": round(worker_idle / MB),
            "worker_peak_rss_mb": round(worker_peak.peak / MB),
            "web_idle_rss_mb": round(web_idle / MB),
            "web_peak_rss_mb": round(web_peak.peak / MB),
        }


def print_table(runs: list[dict]) -> None:
    print(f"\n{'customers':>9} {'CSV MB':>7} {'upload':>7} {'total':>7} {'target':>7} "
          f"{'worker peak':>11} {'web peak':>8}  steps (s)")
    for run in runs:
        steps = ", ".join(f"{k} {v.get('took_s') or 0:.1f}" for k, v in run["steps"].items())
        target = run["targets"].get("total_s")
        print(f"{run['customers']:>9,} {run['csv_mb']:>7.0f} {run['upload_request_s']:>6.1f}s "
              f"{run['total_s']:>6.1f}s {target:>6}s {run['worker_peak_rss_mb']:>8} MB "
              f"{run['web_peak_rss_mb']:>5} MB  {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "upload_results.json")
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(int(args.generate[0]), Path(args.generate[1]), args.seed)
        return

    runs = []
    with tempfile.TemporaryDirectory(prefix="valuelens-upload-") as scratch:
        for size in args.sizes:
            csv = Path(scratch) / f"transactions-{size}.csv"
            write_transactions(size, csv, args.seed)
            run = measure(size, csv, Path(scratch))
            run["targets"] = TARGETS.get(size, {})
            runs.append(run)
            print(f"{run['customers']:,} customers: {run['total_s']:.1f}s upload to live, "
                  f"worker peak {run['worker_peak_rss_mb']} MB", flush=True)
            csv.unlink()
    print_table(runs)
    result = {"machine": {"cpus": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]},
              "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()

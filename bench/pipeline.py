"""Pipeline benchmark: the whole offline analysis on generated data of two sizes.

Each size runs in a fresh process (so peak RSS belongs to that run alone): first a
process writes the transactions CSV and the matching customer table (not timed), then
another reads and validates both, builds features, RFM, segments, backtests and fits
CLV and churn, scores and explains every customer with its champion. The customer
attributes make the tree model a real contender, so it is trained and backtested at
full size; the champions are recorded with the timings. Prints wall time per stage and
peak RSS, and writes bench/results.json with the machine's 1-minute load average before
and after each run (the machine is shared: compare runs taken back to back).

    python bench/pipeline.py                 # both sizes
    python bench/pipeline.py --sizes 50000   # one size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (50_000, 500_000)
TARGETS = {50_000: {"total_s": 20}, 500_000: {"total_s": 180, "peak_rss_mb": 6144}}


def _attributes_path(transactions: Path) -> Path:
    return transactions.with_name(transactions.stem + "-customers.csv")


def generate(customers: int, path: Path, seed: int) -> None:
    from models.synthetic import generate_customers, generate_transactions, write_csv

    write_csv(generate_transactions(customers, seed=seed), path)
    write_csv(generate_customers(customers, seed=seed), _attributes_path(path))


def run_once(path: Path) -> dict:
    """The measured run (in its own process)."""
    from models.pipeline import analyze

    started = time.perf_counter()
    report, customers = analyze(path, attributes=_attributes_path(path))
    total = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "customers": int(len(customers)),
        "transactions": int(report["validation"]["rows_accepted"]),
        "total_s": round(total, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "stages": {name: round(seconds, 2) for name, seconds in report["timings"].items()},
        "clv_champion": report["models"]["clv"]["champion"],
        "churn_champion": report["models"]["churn"]["champion"],
    }


def _child(*args: str) -> str:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.generate:
        generate(int(args.generate[0]), Path(args.generate[1]), args.seed)
        return
    if args.measure:
        print(json.dumps(run_once(Path(args.measure))))
        return

    runs = []
    with tempfile.TemporaryDirectory(prefix="valuelens-bench-") as scratch:
        for size in args.sizes:
            csv = Path(scratch) / f"transactions-{size}.csv"
            _child("--seed", str(args.seed), "--generate", str(size), str(csv))
            load_before = round(os.getloadavg()[0], 2)
            run = json.loads(_child("--measure", str(csv)).strip().splitlines()[-1])
            run["load_average"] = [load_before, round(os.getloadavg()[0], 2)]
            run["targets"] = TARGETS.get(size, {})
            runs.append(run)
            stages = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in run["stages"].items())
            print(f"{run['customers']:>9,} customers {run['transactions']:>10,} transactions: "
                  f"{run['total_s']:.1f}s total, peak RSS {run['peak_rss_mb']:.0f} MB ({stages}), "
                  f"load {run['load_average'][0]:.1f} -> {run['load_average'][1]:.1f}")
            csv.unlink()
            _attributes_path(csv).unlink()
    args.out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()

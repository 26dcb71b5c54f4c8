"""Web load benchmark: signed-in sessions against the production server, idle and busy.

A stack starts on loopback (bench/livestack.py: `valuelens web` under gunicorn with its
default workers and threads, one task process); a tenant of 500,000 customers (about
4,000,000 transactions) is loaded through the upload API first. Then N sessions log in
through the real /login form and each sends one request of the mix in
bench/dash_requests.py (REST calls, page shells, the Dash page router and the pages'
callbacks with payloads built from /_dash-dependencies, including the customers grid's
server-side paging) followed by a think time, for a bounded time and count: once with
the stack idle and once while another 4,000,000-transaction upload is processed.
Prints p50/p95 per request kind and writes bench/web_results.json.

    python bench/web_load.py                          # 500,000 customers, 20 sessions
    python bench/web_load.py --customers 50000 --idle-seconds 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dash_requests import PAGES, CallbackMap, Mix, login  # noqa: E402
from livestack import RssSampler, Stack, upload  # noqa: E402
from upload_to_live import poll_job, write_transactions  # noqa: E402

CALLBACK_P95_TARGET_MS = 150
MAX_BUSY_SECONDS = 300
MB = 1024 * 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def session_loop(stack: Stack, user: tuple[str, str], mix: Mix, stop: threading.Event,
                 deadline: float, max_requests: int, think: float, out: list) -> None:
    """One signed-in user: request, think, repeat, until stopped, timed out or done."""
    http = requests.Session()
    try:
        login(http, stack.url, *user)
    except (RuntimeError, requests.RequestException) as exc:
        out.append(("login", 0.0, False, str(exc)[:80]))
        return
    for _ in range(max_requests):
        if stop.is_set() or time.monotonic() >= deadline:
            break
        kind, method, path, body = mix.next()
        started = time.perf_counter()
        try:
            answer = http.request(method, stack.url + path, json=body, timeout=60)
            status = answer.status_code
            # 204 is Dash's "nothing to update" (PreventUpdate): a valid answer.
            ok = status in (200, 204)
        except requests.RequestException:
            status, ok = 0, False
        out.append((kind, (time.perf_counter() - started) * 1000, ok, status))
        stop.wait(think)


def run_phase(stack: Stack, context: dict, sessions: int, seconds: float, think: float,
              stop_when=None) -> dict:
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    results: list = []
    threads = []
    for number in range(sessions):
        mix = Mix(context["callbacks"], context["segments"], context["personas"],
                  context["ids"], context["total"], random.Random(number))
        thread = threading.Thread(target=session_loop, daemon=True, args=(
            stack, context["users"][number], mix, stop, deadline, int(seconds / think) + 1,
            think, results))
        threads.append(thread)
    started = time.monotonic()
    with RssSampler(stack.web.pid) as web_peak:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 60:
            if stop_when is not None and stop_when():
                stop.set()
            time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=65)
    return summarise(results, time.monotonic() - started, web_peak.peak)


def summarise(results: list, seconds: float, web_peak: int) -> dict:
    kinds: dict[str, dict] = {}
    for kind in sorted({r[0] for r in results}):
        times = [r[1] for r in results if r[0] == kind]
        errors = sorted({r[3] for r in results if r[0] == kind and not r[2]})
        kinds[kind] = {"n": len(times), "errors": sum(1 for r in results if r[0] == kind and not r[2]),
                       "error_statuses": errors, "p50_ms": round(percentile(times, 0.5), 1),
                       "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1)}
    return {"seconds": round(seconds, 1), "requests": len(results),
            "requests_per_s": round(len(results) / max(seconds, 1e-9), 1),
            "web_peak_rss_mb": round(web_peak / MB), "kinds": kinds}


def context_for(stack: Stack) -> dict:
    api = stack.api()
    first = api.get(f"{stack.url}/api/v1/customers?limit=1000&sort=customer_id", timeout=120).json()
    rows = first["customers"]
    http = requests.Session()
    login(http, stack.url, stack.email, stack.password)
    deps = http.get(f"{stack.url}/_dash-dependencies", timeout=60).json()
    return {"callbacks": CallbackMap(deps), "total": first["total"],
            "segments": sorted({r["rfm_segment"] for r in rows if r.get("rfm_segment")}),
            "personas": sorted({r["persona"] for r in rows if r.get("persona")}),
            "ids": [str(r["customer_id"]) for r in rows]}


def warm_up(stack: Stack, context: dict, rounds: int = 4) -> None:
    """Every request kind a few times, so each web worker has loaded the run and imported
    what the pages use before anything is measured (a cold worker is a start-up cost)."""
    http = requests.Session()
    login(http, stack.url, stack.email, stack.password)
    mix = Mix(context["callbacks"], context["segments"], context["personas"], context["ids"],
              context["total"], random.Random(99))
    for _ in range(rounds):
        for build, _weight in mix.choices:
            for _ in range(len(PAGES) if build == mix.page_content else 1):
                _kind, method, path, body = build()
                http.request(method, stack.url + path, json=body, timeout=120)


def load_tenant(stack: Stack, csv: Path) -> dict:
    api = stack.api()
    started = time.monotonic()
    ids = upload(api, stack.url, csv)
    job, _ = poll_job(api, stack.url, ids["job_id"], started)
    if job["status"] != "succeeded":
        raise RuntimeError(f"loading the tenant failed: {job.get('error')}")
    return {"upload_to_live_s": round(time.monotonic() - started, 1)}


def print_phase(name: str, phase: dict) -> None:
    print(f"\n{name}: {phase['requests']} requests in {phase['seconds']} s "
          f"({phase['requests_per_s']}/s), web RSS peak {phase['web_peak_rss_mb']} MB")
    print(f"  {'request':<28} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, row in phase["kinds"].items():
        flag = " > target" if kind.startswith("cb ") and row["p95_ms"] > CALLBACK_P95_TARGET_MS else ""
        print(f"  {kind:<28} {row['n']:>5} {row['errors']:>4} {row['p50_ms']:>8.0f} "
              f"{row['p95_ms']:>8.0f} {row['max_ms']:>8.0f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--no-busy", action="store_true", help="skip the phase under upload")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE / "web_results.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="valuelens-web-") as scratch:
        csv = Path(scratch) / "transactions.csv"
        write_transactions(args.customers, csv, args.seed)
        with Stack(Path(scratch) / "stack") as stack:
            loaded = load_tenant(stack, csv)
            print(f"tenant loaded: {args.customers:,} customers live after "
                  f"{loaded['upload_to_live_s']} s", flush=True)
            context = context_for(stack)
            context["users"] = stack.add_users(args.sessions)
            warm_up(stack, context)
            phases = {"idle": run_phase(stack, context, args.sessions, args.idle_seconds,
                                        args.think)}
            print_phase("idle", phases["idle"])
            if not args.no_busy:
                job = upload(stack.api(), stack.url, csv)["job_id"]
                status = {}

                def finished() -> bool:
                    status.update(stack.api().get(f"{stack.url}/api/v1/jobs/{job}",
                                                  timeout=30).json())
                    return status["status"] in ("succeeded", "failed", "cancelled")

                phases["during_upload"] = run_phase(stack, context, args.sessions,
                                                    MAX_BUSY_SECONDS, args.think, finished)
                phases["during_upload"]["upload_status"] = status.get("status")
                print_phase("during a 4M-transaction upload", phases["during_upload"])
    result = {"machine": {"cpus": os.cpu_count(),
                          "load_avg": [round(x, 2) for x in os.getloadavg()]},
              "customers": args.customers, "sessions": args.sessions, "think_s": args.think,
              "callback_p95_target_ms": CALLBACK_P95_TARGET_MS, "tenant": loaded,
              "phases": phases}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()

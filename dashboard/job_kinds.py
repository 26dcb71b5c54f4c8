"""Every kind of background job, with the role it needs and its parameter validator.

The web process validates and enqueues jobs by kind without importing any task module;
each worker task module implements `jobs.<kind>` for one kind listed here. A validator
takes the raw parameters and returns the clean ones, or raises `ValueError` with a
message for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_DEMO_CUSTOMERS = 500_000
DEFAULT_DEMO_CUSTOMERS = 2_000
MAX_SELF_TEST_SECONDS = 3600

Validator = Callable[[dict | None], dict]


@dataclass(frozen=True)
class JobKind:
    name: str
    validate: Validator
    # Whether a client may start it through POST /api/v1/jobs; the others are started by
    # their own endpoints (uploads, retraining) or by the platform.
    submittable: bool = False
    # The broker queue its tasks go to; None is the default queue every worker consumes.
    queue: str | None = None
    # A chain's steps, in order; each gets its own row (`Job.parent_id`) with progress.
    steps: tuple[str, ...] = ()


def _whole(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        limit = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ValueError(f"{name} must be a whole number {limit}")
    return value


def _only(raw: dict | None, kind: str, allowed: set[str]) -> dict:
    raw = dict(raw or {})
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValueError(f"unknown {kind} parameter(s): {', '.join(unknown)}")
    return raw


def demo_params(raw: dict | None) -> dict:
    """A demo job: `customers` synthetic customers from `seed`."""
    raw = _only(raw, "demo", {"customers", "seed"})
    return {
        "customers": _whole(raw.get("customers", DEFAULT_DEMO_CUSTOMERS), "customers", 1,
                            MAX_DEMO_CUSTOMERS),
        "seed": _whole(raw.get("seed", 0), "seed", 0),
    }


def self_test_params(raw: dict | None) -> dict:
    """A diagnostic countdown of `seconds`, failing at the end when `fail` is true."""
    raw = _only(raw, "self_test", {"seconds", "fail"})
    seconds = raw.get("seconds", 5)
    fail = raw.get("fail", False)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
        0 <= seconds <= MAX_SELF_TEST_SECONDS
    ):
        raise ValueError(f"seconds must be a number from 0 to {MAX_SELF_TEST_SECONDS}")
    if not isinstance(fail, bool):
        raise ValueError("fail must be true or false")
    return {"seconds": seconds, "fail": fail}


def no_params(raw: dict | None) -> dict:
    return _only(raw, "this job", set())


def dataset_params(raw: dict | None) -> dict:
    """A chain over one stored dataset version: `dataset_id`."""
    raw = _only(raw, "dataset", {"dataset_id"})
    if not isinstance(raw.get("dataset_id"), str) or not raw["dataset_id"]:
        raise ValueError("dataset_id must name a dataset")
    return raw


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: JobKind) -> JobKind:
    JOB_KINDS[kind.name] = kind
    return kind


ANALYSIS = ("train", "score", "explain")

for _kind in (
    JobKind("demo", demo_params, submittable=True, steps=("generate", "ingest", *ANALYSIS)),
    JobKind("self_test", self_test_params, submittable=True),
    # An upload: the new dataset version analysed end to end.
    JobKind("pipeline", dataset_params, steps=("ingest", *ANALYSIS)),
    # An admin's retrain on the live dataset.
    JobKind("retrain", dataset_params, steps=ANALYSIS),
    # The live dataset scored again after a promotion or roll-back.
    JobKind("rescore", dataset_params, steps=("score", "explain")),
):
    register_job_kind(_kind)

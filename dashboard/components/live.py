"""What an analytics page needs to draw: the tenant's live run, its currency, and which
analytics pages a run of a given kind can fill. The tenant comes from the signed-in user
through `current_store()`, never from a callback input."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_

from dashboard.runs import AGGREGATES_FILE, RunData, live_run, live_run_data, read_json
from dashboard.schema import Run
from dashboard.store import current_store

# The analytics pages by what a run of each kind can fill: a customer table has no
# purchase history, so no CLV, churn or campaign value, but a target whose drivers show.
ANALYTICS_PAGES = {
    "transactions": ["/", "/segments", "/value", "/churn", "/campaigns"],
    "customers": ["/", "/segments", "/drivers"],
}


def pages_for(kind: str | None) -> list[str]:
    """The analytics page paths worth linking for a live run of `kind` (the transaction
    pages before the first run, where each page shows how to start)."""
    return list(ANALYTICS_PAGES.get(kind or "transactions", ANALYTICS_PAGES["transactions"]))


def linked(path: str, kind: str | None) -> bool:
    """Whether the navbar links `path` while a run of `kind` is live: an analytics page
    only when such a run fills it, any other page always."""
    analytics = {page for pages in ANALYTICS_PAGES.values() for page in pages}
    return path not in analytics or path in pages_for(kind)


def live_kind() -> str | None:
    """The kind of the signed-in user's tenant's live run, or None before the first one."""
    run = live_run(current_store())
    return run.kind if run is not None and run.status == "live" else None


@dataclass
class PageData:
    data: RunData
    currency: str
    tenant_name: str

    @property
    def horizon(self) -> int:
        return int(self.data.horizon_days)

    @property
    def kind(self) -> str:
        return self.data.kind


def page_data() -> PageData | None:
    """The live run of the signed-in user's tenant, or None before the first one."""
    store = current_store()
    data = live_run_data(store)
    if data is None:
        return None
    tenant = store.tenant
    return PageData(data=data, currency=tenant.currency or "USD", tenant_name=tenant.name)


RUN_CACHE_SIZE = 32


def run_cached(build):
    """Cache what `build(page)` returns per tenant, run and currency: a page's figures are
    built once per run in each web process, not on every visit (a new run is a new key).
    None is not kept: a build that waits for something still to come (the explanations
    of a run that has just gone live) answers None and is asked again next time."""
    cache: dict[tuple, object] = {}

    @functools.wraps(build)
    def cached(page: PageData):
        key = (page.data.tenant_id, page.data.run_id, page.currency)
        if key not in cache:
            result = build(page)
            if result is None:
                return None
            if len(cache) >= RUN_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = result
        return cache[key]

    return cached


def previous_kpis() -> dict | None:
    """The KPI values of the run that was live before the current one, if it kept them."""
    store = current_store()
    current = store.tenant.live_run_id
    if not current:
        return None
    runs, _ = store.list(Run, where=[and_(Run.status == "superseded", Run.id != current,
                                          Run.live_at.is_not(None))],
                         order_by=(Run.live_at.desc(),), limit=1)
    if not runs:
        return None
    aggregates = read_json(store, runs[0], AGGREGATES_FILE) or {}
    return aggregates.get("kpis")

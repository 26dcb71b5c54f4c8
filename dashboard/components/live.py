"""What an analytics page needs to draw: the tenant's live run, its currency, and which
analytics pages a run of a given kind can fill. The tenant comes from the signed-in user
through `current_store()`, never from a callback input."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_

from dashboard.runs import AGGREGATES_FILE, RunData, live_run_data, read_json
from dashboard.schema import Run
from dashboard.store import current_store

# The analytics pages by what a run of each kind can fill: a customer table has no
# purchase history, so no CLV, churn or campaign value.
ANALYTICS_PAGES = {
    "transactions": ["/", "/segments", "/value", "/churn", "/campaigns"],
    "customers": ["/", "/segments"],
}


def pages_for(kind: str | None) -> list[str]:
    """The analytics page paths worth linking for a live run of `kind` (all of them before
    the first run, where each page shows how to start)."""
    return list(ANALYTICS_PAGES.get(kind or "transactions", ANALYTICS_PAGES["transactions"]))


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
    built once per run in each web process, not on every visit (a new run is a new key)."""
    cache: dict[tuple, object] = {}

    @functools.wraps(build)
    def cached(page: PageData):
        key = (page.data.tenant_id, page.data.run_id, page.currency)
        if key not in cache:
            if len(cache) >= RUN_CACHE_SIZE:
                cache.pop(next(iter(cache)))
            cache[key] = build(page)
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

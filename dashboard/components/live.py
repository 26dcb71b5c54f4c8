"""What an analytics page needs to draw: the tenant's live run, its currency, and which
analytics pages a run of a given kind can fill. The tenant comes from the signed-in user
through `current_store()`, never from a callback input."""

from __future__ import annotations

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

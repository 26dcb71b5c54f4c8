"""The requests a signed-in browser sends, built from the server's own callback map.

A Dash callback request names its outputs, inputs and states exactly as the callback was
declared, so payloads are assembled from `/_dash-dependencies` (what the browser reads
too) with the values a page would hold; only the values are chosen here. Each builder
returns (kind, method, path, json body or None).
"""

from __future__ import annotations

import random
import re

PAGES = ("/", "/segments", "/value", "/churn", "/customers", "/campaigns", "/data", "/models")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
GRID_SORTS = ("clv", "churn_probability", "p_alive", "customer_id", "rfm_segment", None)


def login(session, url: str, email: str, password: str) -> None:
    """Sign in through the real form, with the form's CSRF token."""
    page = session.get(f"{url}/login", timeout=30)
    token = CSRF_FIELD.search(page.text)
    if not token:
        raise RuntimeError(f"no CSRF token on /login (status {page.status_code})")
    answer = session.post(f"{url}/login", data={"csrf_token": token.group(1), "email": email,
                                                "password": password},
                          allow_redirects=False, timeout=30)
    if answer.status_code != 302 or "login" in answer.headers.get("Location", ""):
        raise RuntimeError(f"login refused (status {answer.status_code})")


def _spec(item: dict) -> tuple[str, str]:
    return item["id"], item["property"]


class CallbackMap:
    """The app's callbacks by output, and the payload for calling one with given values."""

    def __init__(self, dependencies: list[dict]) -> None:
        self.by_output = {dep["output"]: dep for dep in dependencies}

    def find(self, fragment: str) -> dict:
        for output, dep in self.by_output.items():
            if fragment in output:
                return dep
        raise KeyError(f"no callback writes {fragment!r}")

    def payload(self, fragment: str, values: dict, changed: str | None = None) -> dict:
        dep = self.find(fragment)
        inputs = [dict(id=i, property=p, value=values.get(f"{i}.{p}"))
                  for i, p in map(_spec, dep["inputs"])]
        state = [dict(id=i, property=p, value=values.get(f"{i}.{p}"))
                 for i, p in map(_spec, dep.get("state", []))]
        outputs = [{"id": o.split(".")[0], "property": o.split(".")[1].split("@")[0]}
                   for o in dep["output"].strip(".").split("...") if o]
        body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                "inputs": inputs, "state": state,
                "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"]}
        return body


class Mix:
    """The weighted request mix of one session: API calls and dashboard requests."""

    def __init__(self, callbacks: CallbackMap, segments: list[str], personas: list[str],
                 customer_ids: list[str], total: int, rng: random.Random) -> None:
        self.cb, self.rng = callbacks, rng
        self.segments, self.personas, self.ids = segments, personas, customer_ids
        self.total = max(total, 1)
        self.choices = [
            (self.api_customers_filtered, 2), (self.api_customers_sorted, 2),
            (self.api_customer, 2), (self.api_models, 1), (self.api_jobs, 1),
            (self.page_shell, 2), (self.page_content, 6), (self.grid_rows, 4),
            (self.churn_threshold, 1), (self.campaign_plan, 1), (self.campaign_groups, 1),
            (self.job_notices, 2), (self.jobs_refresh, 1), (self.models_refresh, 1),
        ]

    def next(self):
        funcs, weights = zip(*self.choices, strict=True)
        return self.rng.choices(funcs, weights)[0]()

    def _offset(self) -> int:
        # Mostly the first pages, sometimes deep in the list, as people page.
        return self.rng.choice([0, 0, 50, 100, self.rng.randrange(0, self.total, 50)])

    # -- REST API -------------------------------------------------------------------
    def api_customers_filtered(self):
        seg = self.rng.choice(self.segments) if self.segments else ""
        sort = self.rng.choice(["-clv", "-churn_probability", "customer_id"])
        return ("api customers filter+sort", "GET",
                f"/api/v1/customers?segment={seg}&min_churn=0.2&sort={sort}&limit=50", None)

    def api_customers_sorted(self):
        sort = self.rng.choice(["-clv", "churn_probability", "-total_spend", "days_since_last"])
        return ("api customers sort+page", "GET",
                f"/api/v1/customers?sort={sort}&limit=50&offset={self._offset()}", None)

    def api_customer(self):
        return ("api one customer", "GET", f"/api/v1/customers/{self.rng.choice(self.ids)}", None)

    def api_models(self):
        return ("api models", "GET", "/api/v1/models", None)

    def api_jobs(self):
        return ("api jobs", "GET", "/api/v1/jobs", None)

    # -- dashboard ------------------------------------------------------------------
    def page_shell(self):
        return ("page shell", "GET", self.rng.choice(PAGES), None)

    def page_content(self):
        """Dash pages' router: renders the page's layout for the location."""
        page = self.rng.choice(PAGES)
        body = self.cb.payload("_pages_content.children", {
            "_pages_location.pathname": page, "_pages_location.search": "",
            "_pages_location.hash": "", "_pages_location.href": page})
        return (f"cb page {page}", "POST", "/_dash-update-component", body)

    def grid_rows(self):
        start = self._offset() // 100 * 100
        sort = self.rng.choice(GRID_SORTS)
        request = {"startRow": start, "endRow": start + 100, "filterModel": {},
                   "sortModel": [{"colId": sort, "sort": self.rng.choice(["asc", "desc"])}]
                   if sort else []}
        if self.rng.random() < 0.3 and self.segments:
            request["filterModel"] = {"rfm_segment": {"filterType": "text", "type": "equals",
                                                  "filter": self.rng.choice(self.segments)}}
        body = self.cb.payload("customers-grid.getRowsResponse",
                               {"customers-grid.getRowsRequest": request})
        return ("cb customers grid rows", "POST", "/_dash-update-component", body)

    def churn_threshold(self):
        body = self.cb.payload("churn-threshold-result.children",
                               {"churn-threshold.value": self.rng.choice([0.3, 0.5, 0.7])})
        return ("cb churn threshold", "POST", "/_dash-update-component", body)

    def _campaign_values(self) -> dict:
        return {"campaign-grouping.value": self.rng.choice(["rfm_segment", "persona"]),
                "campaign-groups.value": None, "campaign-cost.value": 2,
                "campaign-uplift.value": 10, "campaign-margin.value": 30}

    def campaign_plan(self):
        body = self.cb.payload("campaign-totals.children", self._campaign_values())
        return ("cb campaign plan", "POST", "/_dash-update-component", body)

    def campaign_groups(self):
        body = self.cb.payload("campaign-groups.options", self._campaign_values())
        return ("cb campaign groups", "POST", "/_dash-update-component", body)

    def job_notices(self):
        body = self.cb.payload("job-notices.children", {"job-notice-poll.n_intervals": 3})
        return ("cb job notices poll", "POST", "/_dash-update-component", body)

    def jobs_refresh(self):
        body = self.cb.payload("jobs-table.children", {"jobs-refresh.n_intervals": 3})
        return ("cb overview jobs refresh", "POST", "/_dash-update-component", body)

    def models_refresh(self):
        body = self.cb.payload("model-jobs.children", {"models-refresh.n_intervals": 3})
        return ("cb models refresh", "POST", "/_dash-update-component", body)

"""Customers API over the live run: a filtered, sorted, paged list; one customer with
scores and SHAP explanation; the same list as a streamed, formula-safe CSV export.

Filters: `segment` (RFM segment), `persona`, `min_churn`, `min_clv`, `q` (part of the
customer id); `sort` is a score or feature name with an optional leading `-`.
"""

from __future__ import annotations

from flask import Response, jsonify, request, stream_with_context
from werkzeug.exceptions import BadRequest

from dashboard.api import DEFAULT_LIMIT, MAX_LIMIT, answer_errors, bp, int_arg
from dashboard.customers import (
    BadQuery,
    customer_detail,
    customers_to_records,
    export_csv,
    filter_customers,
    query_customers,
)
from dashboard.runs import live_run_data
from dashboard.store import NotFound, current_store


def _number(name: str) -> float | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None


def _filters() -> dict:
    return {"segment": request.args.get("segment") or None,
            "persona": request.args.get("persona") or None,
            "min_churn": _number("min_churn"), "min_clv": _number("min_clv"),
            "q": request.args.get("q") or None}


def _live():
    data = live_run_data(current_store())
    if data is None:
        raise NotFound("there are no scored customers yet; upload data first")
    return data


@bp.get("/customers")
def list_customers():
    data = _live()
    page, total = query_customers(data, **_filters(), sort=request.args.get("sort") or None,
                                  limit=int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
                                  offset=int_arg("offset", 0, 0))
    return jsonify({"customers": customers_to_records(page), "total": total,
                    "run_id": data.run_id})


@bp.get("/customers/<customer_id>")
def get_customer(customer_id: str):
    store = current_store()
    data = live_run_data(store)
    if data is None:
        raise NotFound(f"customer {customer_id!r} not found")
    return jsonify(customer_detail(store, data, customer_id))


@bp.get("/exports/customers.csv")
def export_customers():
    frame = filter_customers(_live(), **_filters())
    response = Response(stream_with_context(export_csv(frame)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="customers.csv"'
    return response


answer_errors(400, BadQuery)

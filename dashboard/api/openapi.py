"""The OpenAPI 3 document of /api/v1, served at /api/v1/openapi.json.

Written out here, next to the views, and checked against Flask's URL map by a test:
every /api/v1 route and method must be documented, with its path parameters.
"""

from __future__ import annotations

from flask import jsonify

from dashboard.api import DEFAULT_LIMIT, MAX_LIMIT, bp

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}


def _query(name: str, description: str, kind: str = "string") -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": kind}}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


PAGING = [
    _query("limit", f"Rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})", "integer"),
    _query("offset", "Rows to skip", "integer"),
    _query("sort", "Field to sort by; a leading '-' sorts descending"),
]
CUSTOMER_FILTERS = [
    _query("segment", "RFM segment, e.g. Champions"),
    _query("persona", "k-means persona name"),
    _query("min_churn", "Lowest churn probability (0-1)", "number"),
    _query("min_clv", "Lowest predicted value", "number"),
    _query("q", "Part of the customer id"),
]


def _op(summary: str, *, params=(), ok: str = "200", body: dict | None = None,
        errors=("401", "404")) -> dict:
    responses = {ok: {"description": "Success", "content": {"application/json": {"schema": OBJECT}}}}
    if ok == "204":
        responses[ok] = {"description": "Deleted"}
    for status in errors:
        responses[status] = {"description": "Error",
                             "content": {"application/json": {"schema": ERROR}}}
    operation = {"summary": summary, "parameters": list(params), "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return operation


UPLOAD_FORM = {"multipart/form-data": {"schema": {"type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "kind": {"type": "string", "enum": ["transactions", "customers"]},
        "mapping": {"type": "string", "description": "JSON object: field name -> column"},
        "mode": {"type": "string", "enum": ["replace", "append"]},
        "target": {"type": "string", "description": "Customer tables: column to predict"},
    }}}}
JOB_BODY = {"application/json": {"schema": {"type": "object", "required": ["kind"],
    "properties": {"kind": {"type": "string", "enum": ["demo", "self_test"]},
                   "params": {"type": "object"}}}}}

PATHS = {
    "/api/v1/jobs": {
        "get": _op("List jobs", params=[*PAGING, _query("status", "Job status"),
                                       _query("kind", "Job kind")], errors=("400", "401")),
        "post": _op("Start a demo or self-test job", ok="202", body=JOB_BODY,
                    errors=("400", "401", "403", "503")),
    },
    "/api/v1/jobs/{job_id}": {"get": _op("A job with its steps", params=[_path("job_id")])},
    "/api/v1/jobs/{job_id}/cancel": {
        "post": _op("Cancel a job", params=[_path("job_id")], errors=("401", "403", "404", "409")),
    },
    "/api/v1/datasets": {
        "get": _op("List dataset versions", params=PAGING, errors=("400", "401")),
        "post": _op("Upload a file; starts ingest, train, score and explain", ok="202",
                    body=UPLOAD_FORM, errors=("400", "401", "403", "413", "503")),
    },
    "/api/v1/datasets/preview": {
        "post": _op("Detected encoding, delimiter, mapping and first rows of a file",
                    body=UPLOAD_FORM, errors=("400", "401", "403", "413")),
    },
    "/api/v1/datasets/{dataset_id}": {
        "get": _op("A dataset version with its validation report", params=[_path("dataset_id")]),
        "delete": _op("Delete a dataset version (admin)", params=[_path("dataset_id")],
                      ok="204", errors=("401", "403", "404", "409")),
    },
    "/api/v1/models": {
        "get": _op("List model versions", params=[*PAGING, _query("kind", "clv, churn, "
                   "segmentation or regression"), _query("status", "champion, candidate or "
                   "archived")], errors=("400", "401")),
    },
    "/api/v1/models/{version_id}": {
        "get": _op("A model version with its metrics", params=[_path("version_id")]),
    },
    "/api/v1/models/retrain": {
        "post": _op("Retrain on the live dataset (admin)", ok="202",
                    errors=("401", "403", "409", "503")),
    },
    "/api/v1/models/{version_id}/promote": {
        "post": _op("Make a version champion; an archived one rolls back (admin)",
                    params=[_path("version_id")], errors=("401", "403", "404")),
    },
    "/api/v1/runs": {"get": _op("List runs", params=PAGING, errors=("400", "401"))},
    "/api/v1/runs/{run_id}": {"get": _op("A run", params=[_path("run_id")])},
    "/api/v1/customers": {
        "get": _op("Customers of the live run", params=[*CUSTOMER_FILTERS, *PAGING],
                   errors=("400", "401", "404")),
    },
    "/api/v1/customers/{customer_id}": {
        "get": _op("One customer: scores, features and SHAP explanations",
                   params=[_path("customer_id")]),
    },
    "/api/v1/exports/customers.csv": {
        "get": _op("The filtered customers as CSV (formula-safe)", params=CUSTOMER_FILTERS,
                   errors=("400", "401", "404")),
    },
    "/api/v1/me": {"get": _op("The signed-in user: email, role and tenant", errors=("401",))},
    "/api/v1/openapi.json": {"get": _op("This document", errors=("401",))},
}
PATHS["/api/v1/exports/customers.csv"]["get"]["responses"]["200"] = {
    "description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "ValueLens API", "version": "1",
             "description": "Send `Authorization: Bearer <token>` or the session cookie. Ids "
                            "are opaque strings; another tenant's id answers 404."},
    "components": {
        "schemas": {"Error": {"type": "object", "required": ["error"],
                              "properties": {"error": {"type": "string"}}}},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}],
    "paths": PATHS,
}


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)

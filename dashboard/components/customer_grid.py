"""The customers grid: AG Grid's infinite row model asking the server for one block of
rows at a time, so half a million customers never travel to the browser at once.

`grid_query` turns the grid's request (rows wanted, sort model, filter model) into the
arguments of `dashboard.customers.query_customers`; the filters the service does not
know are ignored rather than guessed.
"""

from __future__ import annotations

import json

import dash_ag_grid as dag

from dashboard.components.formatting import currency_prefix

BLOCK_SIZE = 100
COLUMNS = (
    {"field": "customer_id", "headerName": "Customer", "filter": "agTextColumnFilter",
     "filterParams": {"filterOptions": ["contains"], "maxNumConditions": 1},
     "cellRenderer": "CustomerLink", "minWidth": 140, "pinned": "left"},
    {"field": "rfm_segment", "headerName": "Segment", "filter": "agTextColumnFilter",
     "filterParams": {"filterOptions": ["equals"], "maxNumConditions": 1}, "minWidth": 150},
    {"field": "persona", "headerName": "Persona", "filter": "agTextColumnFilter",
     "filterParams": {"filterOptions": ["equals"], "maxNumConditions": 1}, "minWidth": 150},
    {"field": "clv", "headerName": "Predicted value", "filter": "agNumberColumnFilter",
     "filterParams": {"filterOptions": ["greaterThanOrEqual"], "maxNumConditions": 1},
     "type": "rightAligned", "valueFormatter": {"function": "d3.format(',.0f')(params.value)"}},
    {"field": "churn_probability", "headerName": "Churn risk", "filter": "agNumberColumnFilter",
     "filterParams": {"filterOptions": ["greaterThanOrEqual"], "maxNumConditions": 1},
     "type": "rightAligned", "valueFormatter": {"function": "d3.format('.0%')(params.value)"}},
    {"field": "p_alive", "headerName": "Still active", "sortable": True, "filter": False,
     "type": "rightAligned", "valueFormatter": {"function": "d3.format('.0%')(params.value)"}},
    {"field": "expected_purchases", "headerName": "Expected purchases", "filter": False,
     "type": "rightAligned", "valueFormatter": {"function": "d3.format(',.1f')(params.value)"}},
)
SORTABLE = {"customer_id", "rfm_segment", "persona", "clv", "churn_probability", "p_alive",
            "expected_purchases"}
# grid filter column → (query_customers argument, how to read the value)
FILTERS = {"customer_id": ("q", str), "rfm_segment": ("segment", str), "persona": ("persona", str),
           "clv": ("min_clv", float), "churn_probability": ("min_churn", float)}


def money_formatter(currency: str) -> dict:
    """The predicted value in the tenant's currency, "$1,234"; an empty cell stays empty."""
    prefix = json.dumps(currency_prefix(currency), ensure_ascii=False)
    return {"function": f"params.value == null ? '' : {prefix} + d3.format(',.0f')(params.value)"}


def customers_grid(currency: str, grid_id: str = "customers-grid") -> dag.AgGrid:
    columns = [dict(column, valueFormatter=money_formatter(currency))
               if column["field"] == "clv" else column for column in COLUMNS]
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        defaultColDef={"sortable": True, "resizable": True, "flex": 1, "minWidth": 110,
                       "floatingFilter": False},
        rowModelType="infinite",
        dashGridOptions={"cacheBlockSize": BLOCK_SIZE, "maxBlocksInCache": 20,
                         "infiniteInitialRowCount": BLOCK_SIZE, "rowBuffer": 0,
                         "pagination": True, "paginationPageSize": 50,
                         "paginationPageSizeSelector": False},
        className="vl-grid",
        # AG Grid's own default height is 400 px; the grid should use the screen instead.
        style={"height": "max(24rem, calc(100vh - 16rem))", "width": "100%"},
    )


def grid_query(request: dict | None) -> dict:
    """Keyword arguments for `query_customers` from the grid's getRowsRequest."""
    request = request or {}
    start = max(int(request.get("startRow") or 0), 0)
    end = max(int(request.get("endRow") or start + BLOCK_SIZE), start + 1)
    query: dict = {"offset": start, "limit": min(end - start, 1000)}
    for entry in request.get("sortModel") or []:
        column = entry.get("colId")
        if column in SORTABLE:
            query["sort"] = ("-" if entry.get("sort") == "desc" else "") + column
            break
    for column, condition in (request.get("filterModel") or {}).items():
        if column not in FILTERS or not isinstance(condition, dict):
            continue
        name, parse = FILTERS[column]
        raw = condition.get("filter")
        if raw is None or raw == "":
            continue
        try:
            query[name] = parse(raw)
        except (TypeError, ValueError):
            continue
    return query


def grid_rows(frame, total: int) -> dict:
    """The getRowsResponse for one block: plain JSON values, customer ids as text."""
    columns = [column["field"] for column in COLUMNS if column["field"] in frame.columns]
    block = frame[columns].astype(object).where(frame[columns].notna(), None)
    return {"rowData": block.to_dict("records"), "rowCount": int(total)}

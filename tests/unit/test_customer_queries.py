"""Customer list queries answer exactly as a full sort of the filtered table would: the
cached per-run orders must keep ties, missing values and categories where pandas puts them."""

import numpy as np
import pandas as pd
import pytest

from dashboard.customers import _index, query_customers


class Run:
    run_id = "run"

    def __init__(self, frame):
        self.customers = frame


@pytest.fixture(scope="module")
def run():
    rng = np.random.default_rng(3)
    n = 500
    clv = rng.choice([1.0, 2.0, 3.5, np.nan], n)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in rng.permutation(n)],
        "rfm_segment": pd.Categorical(rng.choice(["Champions", "At risk", "Lost"], n),
                                      categories=["Lost", "At risk", "Champions"]),
        "persona": pd.Series(rng.choice(["b", "a", None], n), dtype="str"),
        "clv": clv,
        "churn_probability": rng.random(n).round(1),
        "frequency": rng.integers(0, 4, n),
    })
    return Run(frame)


def expected(frame, sort, mask=None):
    rows = frame if mask is None else frame[mask]
    field = sort.removeprefix("-")
    return rows.sort_values([field, "customer_id"], ascending=[not sort.startswith("-"), True],
                            kind="stable", na_position="last")


@pytest.mark.parametrize("sort", ["clv", "-clv", "rfm_segment", "-rfm_segment", "persona",
                                  "-persona", "customer_id", "-customer_id", "-frequency"])
@pytest.mark.parametrize("offset", [0, 37, 480])
def test_sorted_pages_match_a_full_sort(run, sort, offset):
    page, total = query_customers(run, sort=sort, limit=25, offset=offset)
    want = expected(run.customers, sort).iloc[offset:offset + 25]
    assert total == len(run.customers)
    assert list(page["customer_id"]) == list(want["customer_id"])


def test_filters_apply_before_sorting_and_paging(run):
    frame = run.customers
    page, total = query_customers(run, segment="Lost", min_churn=0.5, q="c01", sort="-clv",
                                  limit=10, offset=3)
    mask = ((frame["rfm_segment"] == "Lost") & (frame["churn_probability"] >= 0.5)
            & frame["customer_id"].str.lower().str.contains("c01", regex=False))
    want = expected(frame, "-clv", mask.to_numpy())
    assert total == int(mask.sum())
    assert list(page["customer_id"]) == list(want["customer_id"].iloc[3:13])


def test_rows_are_found_by_id_and_unknown_ids_by_none(run):
    index = _index(run)
    wanted = run.customers["customer_id"].iloc[42]
    assert index.position(wanted) == [42]
    assert index.rows.iloc[[42]]["customer_id"].iloc[0] == wanted
    assert index.position("no such customer") == []

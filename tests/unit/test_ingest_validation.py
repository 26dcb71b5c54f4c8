"""Every kind of problem the transaction reader reports, and whole-file rejection."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from models.ingest import IngestError, Problem, ValidationReport, read_transactions

NOW = pd.Timestamp("2024-01-01")
HEADER = "InvoiceNo,CustomerID,InvoiceDate,Amount"


def good_rows(n, with_order=True):
    rng = np.random.default_rng(7)
    days = rng.integers(0, 700, n)
    cents = rng.integers(100, 100_000, n)
    return [
        [f"O{i}", f"C{i % 37}", str(np.datetime64("2011-01-01") + int(d)), f"{c / 100:.2f}"]
        for i, (d, c) in enumerate(zip(days, cents, strict=True))
    ]


def to_bytes(rows, header=HEADER):
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def with_bad(n, bad, field, value):
    """``n`` rows where the 1-based data rows in ``bad`` have ``value`` in ``field``."""
    rows = good_rows(n)
    for row in bad:
        rows[row - 1][field] = value
    return rows


def problem(report, kind):
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.problems
    return found[0]


def test_report_is_json_safe_and_exports_problem_records():
    result = read_transactions(to_bytes(with_bad(50, [4], 2, "soon")), now=NOW)
    out = json.loads(json.dumps(result.report.to_dict()))
    assert isinstance(result.report, ValidationReport)
    assert isinstance(result.report.problems[0], Problem)
    assert out["problems"][0] == {"kind": "unparseable_date", "column": "InvoiceDate",
                                  "count": 1, "rows": [4],
                                  "message": "1 row has no date or a date that could not be read."}
    assert out["kind"] == "transactions" and out["rows_total"] == 50


def test_missing_required_column_rejects_the_file():
    data = b"CustomerID,InvoiceDate,Description\nC1,2011-01-01,mug\n"
    with pytest.raises(IngestError) as caught:
        read_transactions(data, now=NOW)
    error = caught.value
    assert isinstance(error, ValueError)
    assert "required column 'amount' was not found" in str(error)
    assert "'Description'" in str(error)
    assert error.report.rejected and error.report.rows_accepted == 0
    assert problem(error.report, "missing_column").column == "amount"


def test_rejection_survives_pickling_with_its_report():
    with pytest.raises(IngestError) as caught:
        read_transactions(b"CustomerID,Amount\nC1,3\n", now=NOW)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value)
    assert copy.report.to_dict() == caught.value.report.to_dict()


def test_headerless_file_without_a_date_column_is_rejected():
    with pytest.raises(IngestError) as caught:
        read_transactions(b"1,2,3.5\n4,5,6.5\n", now=NOW)
    assert "required column 'date'" in str(caught.value)


@pytest.mark.parametrize("data, words", [
    (b"", "the file is empty"),
    (b"\n\n  \n", "the file is empty"),
    (HEADER.encode() + b"\n", "no data rows"),
])
def test_empty_file_is_rejected(data, words):
    with pytest.raises(IngestError) as caught:
        read_transactions(data, now=NOW)
    assert words in str(caught.value)
    assert problem(caught.value.report, "empty_file").count == 0


def test_unparseable_dates_are_dropped_counted_and_located():
    result = read_transactions(to_bytes(with_bad(200, [5, 17, 60], 2, "2011-13-45")), now=NOW)
    found = problem(result.report, "unparseable_date")
    assert (found.column, found.count, found.rows) == ("InvoiceDate", 3, [5, 17, 60])
    assert "3 rows have no date" in found.message
    assert result.report.rows_accepted == 197 and result.report.rows_rejected == 3
    assert "O4" not in set(result.frame["order_id"])


def test_missing_date_counts_as_unparseable():
    result = read_transactions(to_bytes(with_bad(100, [9], 2, "")), now=NOW)
    assert problem(result.report, "unparseable_date").rows == [9]


def test_unparseable_amounts_are_dropped_counted_and_located():
    result = read_transactions(to_bytes(with_bad(100, [2, 3], 3, "twelve")), now=NOW)
    found = problem(result.report, "unparseable_amount")
    assert (found.column, found.count, found.rows) == ("Amount", 2, [2, 3])
    assert len(result.frame) == 98


def test_unparseable_quantity_and_unit_price_are_reported_per_column():
    rows = [[f"O{i}", "C1", "2011-01-01", "2", "1.5"] for i in range(100)]
    rows[4][3] = "two"
    rows[9][4] = "n/a"
    rows[10][4] = "?"
    result = read_transactions(to_bytes(rows, "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice"),
                               now=NOW)
    assert result.report.count("unparseable_amount", "Quantity") == 1
    assert result.report.count("unparseable_amount", "UnitPrice") == 2
    assert [p.rows for p in result.report.problems] == [[5], [10, 11]]
    assert len(result.frame) == 97 and (result.frame["amount"] == 3.0).all()


def test_missing_customer_ids_are_left_out_without_rejecting_the_file():
    bad = list(range(1, 201, 4))
    result = read_transactions(to_bytes(with_bad(200, bad, 1, "")), now=NOW)
    found = problem(result.report, "missing_customer_id")
    assert (found.column, found.count, found.rows) == ("CustomerID", 50, bad[:5])
    assert len(result.frame) == 150 and result.frame["customer_id"].notna().all()
    assert any("25.0% of rows have no customer id" in w for w in result.report.warnings)


def test_no_usable_row_at_all_is_rejected():
    with pytest.raises(IngestError) as caught:
        read_transactions(to_bytes(with_bad(10, range(1, 11), 1, " ")), now=NOW)
    assert "no row has a customer id" in str(caught.value)


def test_future_dates_are_counted_as_unparseable():
    result = read_transactions(to_bytes(with_bad(100, [7], 2, "2024-01-02")), now=NOW)
    found = problem(result.report, "future_date")
    assert (found.count, found.rows) == (1, [7])
    assert "after 2024-01-01" in found.message
    assert result.frame["date"].max() <= NOW


def test_future_is_judged_against_the_current_time_by_default():
    result = read_transactions(to_bytes(with_bad(100, [3], 2, "2199-01-01")))
    assert problem(result.report, "future_date").rows == [3]


def test_dates_before_1970_are_counted_as_unparseable():
    result = read_transactions(to_bytes(with_bad(100, [1, 100], 2, "1969-12-31")), now=NOW)
    found = problem(result.report, "date_before_1970")
    assert (found.count, found.rows) == (2, [1, 100])
    assert result.frame["date"].min() >= pd.Timestamp("1970-01-01")


def test_exact_duplicates_are_dropped_when_there_is_an_order_id():
    rows = good_rows(100)
    rows[10] = list(rows[3])
    rows[50] = list(rows[3])
    rows[60] = list(rows[59])
    rows[70] = [*rows[3][:3], "0.01"]
    result = read_transactions(to_bytes(rows), now=NOW)
    found = problem(result.report, "duplicate_row")
    assert (found.count, found.rows) == (3, [11, 51, 61])
    assert "dropped" in found.message
    assert len(result.frame) == 97


def test_exact_duplicates_are_kept_and_reported_without_an_order_id():
    rows = [r[1:] for r in good_rows(100)]
    rows[20] = list(rows[5])
    result = read_transactions(to_bytes(rows, "CustomerID,InvoiceDate,Amount"), now=NOW)
    found = problem(result.report, "duplicate_row")
    assert (found.count, found.rows) == (1, [21])
    assert "kept" in found.message
    assert len(result.frame) == 100


def test_negative_amounts_are_kept_and_reported_as_returns():
    result = read_transactions(to_bytes(with_bad(100, [8, 9], 3, "-19.99")), now=NOW)
    found = problem(result.report, "return")
    assert (found.column, found.count, found.rows) == ("Amount", 2, [8, 9])
    assert "Negative amounts are returns" in found.message
    assert len(result.frame) == 100 and (result.frame["amount"] < 0).sum() == 2


def test_rows_with_a_wrong_number_of_fields_are_counted_as_unparseable():
    data = to_bytes(good_rows(50)).replace(b"\nO4,", b"\nO4,extra,", 1)
    result = read_transactions(data, now=NOW)
    found = problem(result.report, "wrong_field_count")
    assert (found.count, found.rows) == (1, [5])
    assert len(result.frame) == 49
    assert result.frame["order_id"].tolist()[4] == "O5"


def test_at_most_five_example_rows_are_listed():
    bad = [2, 4, 6, 8, 10, 12, 14]
    found = problem(read_transactions(to_bytes(with_bad(1000, bad, 3, "x")), now=NOW).report,
                    "unparseable_amount")
    assert found.count == 7 and found.rows == bad[:5]


def test_too_many_unparseable_rows_reject_the_whole_file_with_a_plain_reason():
    bad_dates = list(range(3, 1000, 14))[:70]
    rows = with_bad(1000, bad_dates, 2, "not a date")
    for row in (500, 501, 502):
        rows[row - 1][3] = "abc"
    with pytest.raises(IngestError) as caught:
        read_transactions(to_bytes(rows), now=NOW)
    message = str(caught.value)
    first = ", ".join(map(str, bad_dates[:5]))
    assert message.startswith(
        "Rejected: 7.3% of rows (73 of 1,000) could not be parsed, above the 5.0% limit.")
    assert f"unparseable_date in column 'InvoiceDate': 70 rows, first at rows {first}" in message
    assert "unparseable_amount in column 'Amount': 3 rows, first at rows 500, 501, 502" in message
    report = caught.value.report
    assert report.rejected and report.reason == message
    assert (report.rows_accepted, report.rows_rejected) == (0, 1000)
    assert problem(report, "too_many_invalid").count == 73


def test_future_and_pre_1970_rows_count_towards_rejection():
    rows = with_bad(100, [1, 2, 3], 2, "2030-01-01")
    for row in (4, 5, 6):
        rows[row - 1][2] = "1950-06-01"
    with pytest.raises(IngestError, match="6.0% of rows"):
        read_transactions(to_bytes(rows), now=NOW)


def test_duplicates_and_returns_never_cause_rejection():
    rows = [list(r) for _ in range(10) for r in good_rows(10)]
    for row in rows[:50]:
        row[3] = "-" + row[3]
    result = read_transactions(to_bytes(rows), now=NOW)
    assert len(result.frame) == 20
    assert result.report.count("duplicate_row") == 80
    assert result.report.count("return") == 10


@pytest.mark.parametrize("share, rejected", [(0.05, False), (0.01, True), (0.02, False)])
def test_rejection_threshold_is_configurable(share, rejected):
    data = to_bytes(with_bad(100, [10, 20], 3, "?"))
    if rejected:
        with pytest.raises(IngestError, match=r"above the 1\.0% limit"):
            read_transactions(data, max_invalid_share=share, now=NOW)
    else:
        result = read_transactions(data, max_invalid_share=share, now=NOW)
        assert result.report.rows_accepted == 98


def test_customers_whose_every_row_is_left_out_are_counted_and_named():
    csv = (b"customer_id,date,amount\nA,2020-01-01,5\nB,2020-13-45,7\nA,2020-01-02,x\n"
           b"C,2020-01-03,3\nB,,2\nD,2020-01-04,oops\n")
    result = read_transactions(csv, max_invalid_share=0.9, now=NOW)
    found = problem(result.report, "customer_left_out")
    assert (found.column, found.count, found.rows) == ("customer_id", 2, [2, 5, 6])
    assert "2 customers" in found.message and "B, D" in found.message
    assert set(result.frame["customer_id"]) == {"A", "C"}

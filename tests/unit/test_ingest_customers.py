"""Reading a customer table: one row per customer with typed attributes."""

import json

import numpy as np
import pandas as pd
import pytest

from models.ingest import IngestError, read_customers

HEADER = "user_id,age,annual_income,purchase_amount,loyalty_score,region,purchase_frequency"
REGIONS = ("North", "South", "East", "West")


def customer_rows(n):
    rng = np.random.default_rng(3)
    return [
        [f"{i + 1}", str(rng.integers(18, 80)), str(rng.integers(20_000, 150_000)),
         f"{rng.uniform(10, 2000):.2f}", f"{rng.uniform(0, 10):.1f}", REGIONS[i % 4],
         str(rng.integers(1, 30))]
        for i in range(n)
    ]


def to_bytes(rows, header=HEADER, delimiter=","):
    lines = ([header] if header else []) + [delimiter.join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def problem(report, kind):
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.problems
    return found[0]


def test_customer_table_happy_path_types_every_column():
    rows = customer_rows(40)
    result = read_customers(to_bytes(rows))
    frame = result.frame
    assert list(frame.columns) == ["customer_id", *HEADER.split(",")[1:]]
    assert frame["customer_id"].tolist() == [r[0] for r in rows]
    assert pd.api.types.is_string_dtype(frame["customer_id"])
    for name in ("age", "annual_income", "purchase_amount", "loyalty_score",
                 "purchase_frequency"):
        assert frame[name].dtype == np.float64
    assert pd.api.types.is_string_dtype(frame["region"])
    assert frame["purchase_amount"].tolist() == [float(r[3]) for r in rows]
    assert frame["region"].tolist() == [r[5] for r in rows]
    report = result.report
    assert (report.kind, report.rows_accepted, report.problems) == ("customers", 40, [])
    assert report.mapping == {"customer_id": "user_id"}
    json.dumps(report.to_dict())


@pytest.mark.parametrize("name", ["customer_id", "CustomerID", "Client ID", "id"])
def test_id_column_is_found_by_its_usual_names(name):
    result = read_customers(to_bytes(customer_rows(3), HEADER.replace("user_id", name)))
    assert result.report.mapping == {"customer_id": name}
    assert result.frame["customer_id"].tolist() == ["1", "2", "3"]


def test_id_column_from_the_mapping():
    header = "account,age,region"
    rows = [["A1", "30", "North"], ["A2", "40", "South"]]
    result = read_customers(to_bytes(rows, header), mapping={"customer_id": "account"})
    assert result.frame["customer_id"].tolist() == ["A1", "A2"]
    assert list(result.frame.columns) == ["customer_id", "age", "region"]


def test_table_without_an_id_column_is_rejected():
    with pytest.raises(IngestError) as caught:
        read_customers(to_bytes([["30", "North"]], "age,region"))
    assert "no customer id column" in str(caught.value)
    assert problem(caught.value.report, "missing_column").count == 0


def test_mapping_to_an_unknown_column_is_rejected():
    with pytest.raises(IngestError, match="'account'.*no such column"):
        read_customers(to_bytes(customer_rows(3)), mapping={"customer_id": "account"})


def test_headerless_table_uses_the_first_column_as_id():
    rows = [["7", "30", "1.5"], ["8", "40", "2.5"]]
    result = read_customers(to_bytes(rows, header=None))
    assert result.report.header is False
    assert list(result.frame.columns) == ["customer_id", "1", "2"]
    assert result.frame["2"].tolist() == [1.5, 2.5]


def test_rows_without_an_id_are_invalid():
    rows = customer_rows(100)
    rows[4][0] = ""
    rows[30][0] = "  "
    result = read_customers(to_bytes(rows))
    found = problem(result.report, "missing_customer_id")
    assert (found.column, found.count, found.rows) == ("user_id", 2, [5, 31])
    assert result.report.rows_accepted == 98


def test_too_many_rows_without_an_id_reject_the_table():
    rows = customer_rows(100)
    for row in rows[:6]:
        row[0] = ""
    with pytest.raises(IngestError) as caught:
        read_customers(to_bytes(rows))
    assert str(caught.value).startswith("Rejected: 6.0% of rows (6 of 100) could not be parsed")
    assert "missing_customer_id in column 'user_id': 6 rows, first at rows 1, 2, 3, 4, 5" in str(
        caught.value)
    assert read_customers(to_bytes(rows), max_invalid_share=0.1).report.rows_accepted == 94


def test_duplicate_ids_keep_the_first_row_and_are_reported():
    rows = customer_rows(50)
    rows[9] = ["3", "99", "1", "1", "1", "West", "1"]
    rows[19] = ["3", "98", "1", "1", "1", "West", "1"]
    rows[29] = ["12", "97", "1", "1", "1", "West", "1"]
    result = read_customers(to_bytes(rows))
    found = problem(result.report, "duplicate_customer")
    assert (found.column, found.count, found.rows) == ("user_id", 3, [10, 20, 30])
    frame = result.frame.set_index("customer_id")
    assert frame.index.is_unique and len(frame) == 47
    assert frame.loc["3", "age"] == float(rows[2][1])


def test_a_few_non_numbers_in_a_numeric_column_are_invalid_rows():
    rows = customer_rows(100)
    rows[7][2] = "lots"
    result = read_customers(to_bytes(rows))
    found = problem(result.report, "unparseable_number")
    assert (found.column, found.count, found.rows) == ("annual_income", 1, [8])
    assert result.frame["annual_income"].dtype == np.float64
    assert len(result.frame) == 99


def test_mostly_text_column_stays_text_and_empty_values_are_missing():
    rows = customer_rows(10)
    for i, row in enumerate(rows):
        row[5] = ["1", "2", "gold", ""][i % 4]
    frame = read_customers(to_bytes(rows)).frame
    assert pd.api.types.is_string_dtype(frame["region"])
    assert frame["region"].tolist()[:3] == ["1", "2", "gold"]
    assert frame["region"].isna().sum() == 2


def test_semicolon_table_with_decimal_commas():
    rows = [["u1", "30", "1.234,50"], ["u2", "41", "99,9"]]
    frame = read_customers(to_bytes(rows, "user_id;age;income", ";"), ).frame
    assert frame["income"].tolist() == [1234.5, 99.9]

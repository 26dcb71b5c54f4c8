"""Reading transaction files in the encodings, layouts and formats real exports use."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from models.ingest import IngestError, read_transactions

NOW = "2024-01-01"
ROWS = [("C1", "2011-12-09", "12.50"), ("C2", "2011-12-10", "3.00"), ("C1", "2011-12-11", "7.25")]


def csv_bytes(header, rows, delimiter=",", encoding="utf-8"):
    lines = ([delimiter.join(header)] if header else []) + [delimiter.join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def read(data, **kwargs):
    kwargs.setdefault("now", NOW)
    return read_transactions(data, **kwargs)


def test_canonical_frame_has_the_agreed_columns_and_dtypes():
    result = read(csv_bytes(["customer_id", "date", "amount"], ROWS))
    frame = result.frame
    assert list(frame.columns) == ["customer_id", "date", "amount"]
    assert pd.api.types.is_string_dtype(frame["customer_id"])
    assert frame["date"].dtype == np.dtype("datetime64[ns]")
    assert frame["amount"].dtype == np.float64
    assert frame["customer_id"].tolist() == ["C1", "C2", "C1"]
    assert frame["amount"].tolist() == [12.5, 3.0, 7.25]
    assert result.report.rows_accepted == 3 and result.report.rows_rejected == 0
    json.dumps(result.report.to_dict())


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(delimiter):
    result = read(csv_bytes(["customer_id", "date", "amount"], ROWS, delimiter))
    assert result.report.delimiter == delimiter
    assert result.frame["amount"].tolist() == [12.5, 3.0, 7.25]


@pytest.mark.parametrize("data", [
    b"customer_id;date;amount\nC1;2011-12-09;12,50;\nC2;2011-12-10;3,00;\n",
    b"customer_id;date;amount;\nC1;2011-12-09;12,50\nC2;2011-12-10;3,00\n",
])
def test_a_trailing_delimiter_on_the_header_or_the_data_rows_is_tolerated(data):
    result = read(data)
    assert result.report.delimiter == ";" and result.report.problems == []
    assert result.frame["amount"].tolist() == [12.5, 3.0]


def test_semicolon_wins_over_decimal_commas_that_split_rows_evenly():
    result = read(b"C1;1,5;2011-12-09\nC2;2,5;2011-12-10\n")
    assert result.report.delimiter == ";"
    assert result.frame["amount"].tolist() == [1.5, 2.5]


def test_whitespace_separated_columns_with_runs_of_spaces():
    data = b"  customer_id   date        amount\n C1  2011-12-09\t 12.50  \n C2 2011-12-10  3.00\n"
    result = read(data)
    assert result.report.delimiter == "whitespace"
    assert result.frame["customer_id"].tolist() == ["C1", "C2"]
    assert result.frame["amount"].tolist() == [12.5, 3.0]


def test_utf8_bom_is_removed_before_the_header_is_matched():
    data = b"\xef\xbb\xbf" + csv_bytes(["CustomerID", "date", "amount"], ROWS)
    result = read(data)
    assert result.report.encoding == "utf-8-sig"
    assert result.report.mapping["customer_id"] == "CustomerID"
    assert not result.report.warnings


def test_utf16_with_bom_is_read():
    data = csv_bytes(["customer_id", "date", "amount"], [("Zoë", "2011-12-09", "1")],
                     "\t", encoding="utf-16")
    result = read(data)
    assert result.report.encoding == "utf-16"
    assert result.frame["customer_id"].tolist() == ["Zoë"]


def test_file_that_is_not_utf8_is_read_as_windows_1252_and_says_so():
    data = csv_bytes(["customer_id", "date", "amount", "region"],
                     [("René", "2011-12-09", "1", "Île-de-France"), ("C2", "2011-12-09", "2", "Zürich")],
                     encoding="cp1252")
    result = read(data)
    assert result.report.encoding == "cp1252"
    assert result.frame["customer_id"].tolist() == ["René", "C2"]
    assert result.frame["region"].tolist() == ["Île-de-France", "Zürich"]
    assert any("Windows-1252" in w for w in result.report.warnings)


def test_bytes_undefined_in_windows_1252_fall_back_to_latin1():
    data = b"customer_id,date,amount\nA\x81\xe9,2011-12-09,1\n"
    result = read(data)
    assert result.report.encoding == "cp1252"
    assert result.frame["customer_id"].tolist() == ["A\x81é"]
    assert any("Latin-1" in w for w in result.report.warnings)


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "file"])
def test_source_may_be_a_path_bytes_or_a_binary_file(tmp_path, kind):
    data = csv_bytes(["customer_id", "date", "amount"], ROWS)
    target = tmp_path / "upload.csv"
    target.write_bytes(data)
    source = {"path": target, "str": str(target), "bytes": data, "file": io.BytesIO(data)}[kind]
    assert read(source).frame["amount"].sum() == pytest.approx(22.75)


def test_quoted_fields_may_hold_delimiters_quotes_and_line_breaks():
    data = (b'customer_id,date,amount,note\n"C1","2011-12-09","1.5","a, ""b""\nc"\n'
            b'C2,2011-12-10,2.5,plain\n')
    result = read(data)
    assert result.frame["customer_id"].tolist() == ["C1", "C2"]
    assert result.frame["amount"].tolist() == [1.5, 2.5]
    assert result.report.problems == []


def test_online_retail_columns_amount_is_quantity_times_unit_price():
    data = (
        b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        b"536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
        b"536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
        b"C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom\n"
        b"536370,22728,ALARM CLOCK BAKELIKE PINK,24,12/13/2010 8:45,3.75,12583.0,France\n"
    )
    result = read(data)
    frame = result.frame
    assert result.report.mapping == {
        "customer_id": "CustomerID", "date": "InvoiceDate", "quantity": "Quantity",
        "unit_price": "UnitPrice", "order_id": "InvoiceNo", "region": "Country"}
    assert frame["amount"].tolist() == pytest.approx([6 * 2.55, 6 * 3.39, -27.5, 24 * 3.75])
    assert frame["customer_id"].tolist() == ["17850", "17850", "14527", "12583"]
    assert frame["date"].iloc[3] == pd.Timestamp("2010-12-13 08:45")
    assert frame["order_id"].tolist() == ["536365", "536365", "C536379", "536370"]
    assert frame["region"].iloc[3] == "France"
    assert "category" not in frame
    assert any("Quantity × UnitPrice" in w for w in result.report.warnings)


@pytest.mark.parametrize("header", [
    ["customer_id", "date", "dollar_value"],
    ["user_id", "order_date", "revenue"],
    ["User ID", "Order Date", "Total"],
    ["client_id", "transaction_date", "sales"],
    ["user_id", "order_date", "price"],
])
def test_common_header_names_are_matched(header):
    result = read(csv_bytes(header, ROWS))
    assert result.report.mapping == dict(zip(["customer_id", "date", "amount"], header, strict=True))
    assert result.frame["amount"].tolist() == [12.5, 3.0, 7.25]


def test_optional_columns_are_kept_as_strings_and_others_dropped():
    header = ["Transaction ID", "customer_id", "date", "amount", "Product Category",
              "Sales Channel", "State", "note"]
    rows = [("T1", "C1", "2011-12-09", "5", "books", "web", "CA", "x"),
            ("T2", "C2", "2011-12-09", "6", " music ", "", "NY", "y")]
    frame = read(csv_bytes(header, rows)).frame
    assert list(frame.columns) == ["customer_id", "date", "amount", "order_id", "category",
                                   "channel", "region"]
    assert frame["category"].tolist() == ["books", "music"]
    assert frame["channel"].isna().tolist() == [False, True]
    assert pd.api.types.is_string_dtype(frame["order_id"])


def test_decimal_comma_with_semicolon_delimiter():
    rows = [("C1", "09.12.2011", "12,50"), ("C2", "10.12.2011", "1.234,5"),
            ("C3", "11.12.2011", "7")]
    result = read(csv_bytes(["Kunde", "date", "amount"], rows, ";"),
                  mapping={"customer_id": "Kunde"})
    assert result.frame["amount"].tolist() == [12.5, 1234.5, 7.0]
    assert result.frame["date"].tolist() == [pd.Timestamp(d) for d in
                                             ("2011-12-09", "2011-12-10", "2011-12-11")]


def test_currency_symbols_thousands_separators_and_bracketed_negatives():
    data = (b'customer_id,date,amount\nC1,2011-12-09,"$1,234.50"\nC2,2011-12-09,\xe2\x82\xac 12.00\n'
            b"C3,2011-12-09,(3.50)\nC4,2011-12-09,USD 8\n")
    result = read(data)
    assert result.frame["amount"].tolist() == [1234.5, 12.0, -3.5, 8.0]


@pytest.mark.parametrize("text, expected", [
    ("2011-12-09", "2011-12-09"),
    ("2011-12-09 12:50:00", "2011-12-09 12:50:00"),
    ("2011-12-09 12:50", "2011-12-09 12:50:00"),
    ("2011-12-09T12:50:07.250", "2011-12-09 12:50:07"),
    ("2011-12-09T12:50:00+01:00", "2011-12-09 11:50:00"),
    ("20111209", "2011-12-09"),
    ("2011/12/09", "2011-12-09"),
    ("12/9/2011 8:26 PM", "2011-12-09 20:26:00"),
])
def test_date_formats(text, expected):
    frame = read(csv_bytes(["customer_id", "date", "amount"], [("C1", text, "1")])).frame
    assert frame["date"].iloc[0] == pd.Timestamp(expected)


def test_mixed_date_only_and_date_time_values_in_one_column():
    rows = [("C1", "2011-12-09 12:50:00", "1")] * 300 + [("C2", "2011-12-10", "1")]
    frame = read(csv_bytes(["customer_id", "date", "amount"], rows)).frame
    assert len(frame) == 301
    assert frame["date"].iloc[-1] == pd.Timestamp("2011-12-10")


def test_day_first_when_a_first_field_is_above_12():
    rows = [("C1", "01/02/2011", "1"), ("C2", "13/02/2011", "1")]
    result = read(csv_bytes(["customer_id", "date", "amount"], rows))
    assert result.frame["date"].tolist() == [pd.Timestamp("2011-02-01"), pd.Timestamp("2011-02-13")]
    assert result.report.date_format.startswith("%d/%m/%Y")
    assert not result.report.warnings


def test_day_first_decided_by_a_value_deep_in_a_long_file():
    rows = [("C1", "01/02/2011", "1")] * 20_000
    rows[12_345] = ("C2", "25/12/2011", "1")
    frame = read(csv_bytes(["customer_id", "date", "amount"], rows)).frame
    assert frame["date"].iloc[0] == pd.Timestamp("2011-02-01")
    assert frame["date"].iloc[12_345] == pd.Timestamp("2011-12-25")


def test_month_first_when_a_second_field_is_above_12():
    rows = [("C1", "01/02/2011", "1"), ("C2", "02/13/2011", "1")]
    result = read(csv_bytes(["customer_id", "date", "amount"], rows))
    assert result.frame["date"].tolist() == [pd.Timestamp("2011-01-02"), pd.Timestamp("2011-02-13")]
    assert not result.report.warnings


def test_undecidable_day_month_order_reads_month_first_and_warns():
    rows = [("C1", "01/02/2011", "1"), ("C2", "03/04/2011", "1")]
    result = read(csv_bytes(["customer_id", "date", "amount"], rows))
    assert result.frame["date"].iloc[0] == pd.Timestamp("2011-01-02")
    assert any("day or the month" in w for w in result.report.warnings)


def test_headerless_file_is_mapped_by_content_and_the_mapping_reported():
    rows = [("C1", "7", "20111209", "2", "12.50"), ("C2", "8", "20111210", "1", "3.00")]
    result = read(csv_bytes(None, rows))
    report = result.report
    assert report.header is False
    assert report.mapping == {"customer_id": "0", "date": "2", "amount": "4"}
    assert any("no header" in w for w in report.warnings)
    assert result.frame["amount"].tolist() == [12.5, 3.0]


def test_headerless_detection_compares_first_row_with_the_rest():
    with_header = read(csv_bytes(["buyer", "when", "paid"], ROWS),
                       mapping={"customer_id": "buyer", "date": "when", "amount": "paid"})
    assert with_header.report.header is True and with_header.report.rows_total == 3
    without = read(csv_bytes(None, ROWS))
    assert without.report.header is False and without.report.rows_total == 3


@pytest.mark.parametrize("source", ["net", 3, "3"])
def test_mapping_override_by_name_or_position_wins(source):
    header = ["customer_id", "date", "amount", "net"]
    rows = [("C1", "2011-12-09", "10", "8.5"), ("C2", "2011-12-09", "20", "17")]
    result = read(csv_bytes(header, rows), mapping={"amount": source})
    assert result.report.mapping["amount"] == "net"
    assert result.frame["amount"].tolist() == [8.5, 17.0]


def test_mapping_override_to_quantity_and_unit_price_replaces_a_found_amount():
    header = ["customer_id", "date", "amount", "units", "each"]
    rows = [("C1", "2011-12-09", "99", "3", "1.5")]
    result = read(csv_bytes(header, rows), mapping={"quantity": "units", "unit_price": "each"})
    assert "amount" not in result.report.mapping
    assert result.frame["amount"].tolist() == [4.5]


def test_mapping_override_on_a_headerless_file_uses_positions():
    rows = [("7", "C1", "2011-12-09", "1.5"), ("8", "C2", "2011-12-10", "2.5")]
    result = read(csv_bytes(None, rows), mapping={"customer_id": 1})
    assert result.frame["customer_id"].tolist() == ["C1", "C2"]
    assert result.report.mapping == {"customer_id": "1", "date": "2", "amount": "3"}


@pytest.mark.parametrize("mapping, words", [
    ({"amount": "Revenue"}, ["'Revenue'", "amount", "no such column"]),
    ({"amount": 7}, ["'7'", "amount", "no such column"]),
    ({"spend": "amount"}, ["unknown field 'spend'"]),
])
def test_mapping_naming_a_column_that_does_not_exist_is_an_error(mapping, words):
    with pytest.raises(IngestError) as caught:
        read(csv_bytes(["customer_id", "date", "amount"], ROWS), mapping=mapping)
    message = str(caught.value)
    assert message.startswith("Rejected:")
    for word in words:
        assert word in message
    assert caught.value.report.problems[-1].kind == "missing_column"

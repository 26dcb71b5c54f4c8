"""Ingest is never silently wrong: every broken part of a file is refused or counted."""

import gzip
import io

import numpy as np
import pandas as pd
import pytest

import models.ingest.rows as rows_module
from models.ingest import IngestError, read_customers, read_transactions
from models.pipeline import UnusableHistory, analyze

NOW = "2024-06-01"
HEADER = "customer_id,date,amount"


def lines(n=1000, customers=50):
    return [HEADER] + [f"C{i % customers},2023-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 90 + 1}.50"
                       for i in range(n)]


def to_bytes(text_lines, encoding="utf-8"):
    return ("\n".join(text_lines) + "\n").encode(encoding)


def read(data, **kwargs):
    kwargs.setdefault("now", NOW)
    return read_transactions(data, **kwargs)


def problem(report, kind):
    return next(p for p in report.problems if p.kind == kind)


# Quoting ----------------------------------------------------------------------------------

def test_an_unbalanced_quote_counts_every_row_it_swallowed_and_names_where_it_opened():
    text = lines(1000)
    text[600] = text[600].replace(",", ',"', 1)  # data row 600 opens a quote, never closed
    with pytest.raises(IngestError) as caught:
        read(to_bytes(text))
    report = caught.value.report
    assert report.rows_total == 1000
    quote = problem(report, "unbalanced_quote")
    assert quote.count == 401 and quote.rows == [600]
    assert "opens in row 600" in quote.message
    assert report.count("too_many_invalid") == 401


def test_a_quote_that_swallows_a_few_rows_is_recovered_and_reported():
    text = lines(1000)
    text[990] = text[990].replace(",", ',"', 1)
    result = read(to_bytes(text))
    report = result.report
    assert report.rows_total == 1000
    assert report.rows_accepted == 989 and report.rows_rejected == 11
    assert problem(report, "unbalanced_quote").rows == [990]


def test_quoted_values_over_several_lines_are_still_read():
    data = b'customer_id,date,amount,note\nC1,2023-01-02,5,"two\nlines"\nC2,2023-01-03,6,x\n'
    result = read(data)
    assert result.report.problems == [] and result.frame["amount"].tolist() == [5.0, 6.0]


def test_a_quote_too_long_for_the_parser_is_refused_with_its_row_not_the_library_text(
        monkeypatch):
    monkeypatch.setattr(rows_module, "_BLOCK_BYTES", 16 * 1024)
    text = lines(5000)
    text[101] = text[101].replace(",", ',"', 1)
    with pytest.raises(IngestError) as caught:
        read(to_bytes(text))
    message = str(caught.value)
    assert "opens in row 101 (line 102 of the file)" in message
    assert "straddl" not in message and "block" not in message
    assert caught.value.report.problems[-1].kind == "unbalanced_quote"


# Amounts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, kind", [("1e300", "amount_out_of_range"),
                                         ("2e9", "amount_out_of_range"),
                                         ("-5e12", "amount_out_of_range"),
                                         ("inf", "unparseable_amount"),
                                         ("NaN", "unparseable_amount")])
def test_non_finite_and_absurd_amounts_are_unusable_rows(value, kind):
    text = lines(200)
    text[5] = f"C1,2023-02-03,{value}"
    result = read(to_bytes(text))
    assert problem(result.report, kind).rows == [5]
    assert result.report.rows_accepted == 199
    assert np.isfinite(result.frame["amount"]).all()
    assert result.frame["amount"].abs().max() <= 1e9


def test_the_amount_bound_is_configurable():
    text = lines(200)
    text[5] = "C1,2023-02-03,5000"
    result = read(to_bytes(text), max_amount=1000)
    assert problem(result.report, "amount_out_of_range").count == 1
    assert "1,000" in problem(result.report, "amount_out_of_range").message


def test_quantity_times_price_that_overflows_is_unusable():
    data = b"customer,date,quantity,unitprice\nA,2023-01-02,1e200,1e200\nB,2023-01-03,2,3\n"
    result = read(data, max_invalid_share=0.5)
    assert problem(result.report, "amount_out_of_range").rows == [1]
    assert result.frame["amount"].tolist() == [6.0]


def test_a_file_of_returns_only_is_refused():
    text = [HEADER] + [f"C{i},2023-01-{i + 1:02d},-{i + 1}.00" for i in range(20)]
    with pytest.raises(IngestError, match="positive amount"):
        read(to_bytes(text))


# Short histories --------------------------------------------------------------------------

def test_a_history_of_days_is_refused_with_a_plain_reason_instead_of_blank_clv():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "customer_id": [f"C{i}" for i in rng.integers(0, 300, 2000)],
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10, 2000),
                                                             unit="D"),
        "amount": rng.gamma(2, 20, 2000).round(2),
    })
    with pytest.raises(UnusableHistory) as caught:
        analyze(frame.to_csv(index=False).encode(), horizon=180)
    assert "covers 10 days" in str(caught.value)
    assert "at least 70 days" in str(caught.value)


# Compressed, binary and mis-encoded files -------------------------------------------------

def test_gzip_is_recognised_by_its_magic_bytes_and_read_like_the_plain_file(tmp_path):
    plain = to_bytes(lines(300))
    path = tmp_path / "sales.csv.gz"
    path.write_bytes(gzip.compress(plain))
    expected = read(plain).frame
    pd.testing.assert_frame_equal(read(path).frame, expected)
    pd.testing.assert_frame_equal(read(gzip.compress(plain)).frame, expected)


def test_concatenated_gzip_members_are_one_file():
    head, tail = to_bytes(lines(300)[:150]), to_bytes(lines(300)[150:])
    result = read(gzip.compress(head) + gzip.compress(tail))
    assert result.report.rows_total == 300


def test_a_gzip_bomb_stops_at_the_unpacked_size_bound():
    bomb = gzip.compress(to_bytes(lines(10)) + b"0" * 20_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(IngestError) as caught:
        read(bomb, max_unpacked_bytes=5_000_000)
    assert caught.value.report.problems[-1].kind == "too_large"
    assert "unpacks to more than 5 MB" in str(caught.value)


def test_a_truncated_gzip_file_gets_a_plain_message():
    packed = gzip.compress(to_bytes(lines(3000)))
    with pytest.raises(IngestError, match="incomplete"):
        read(packed[: len(packed) // 2])


def test_utf16_without_a_byte_order_mark_gets_a_plain_message():
    data = "\n".join(lines(20)).encode("utf-16-le")
    with pytest.raises(IngestError) as caught:
        read(data)
    assert "UTF-16 text without a byte-order mark" in str(caught.value)
    assert caught.value.report.problems[-1].kind == "not_text"


@pytest.mark.parametrize("data, words", [
    (bytes(range(256)) * 40, "binary data"),
    (b"PK\x03\x04" + bytes(200), "Excel workbook"),
    (b"%PDF-1.7\n" + bytes(200), "PDF"),
])
def test_binary_files_get_a_plain_message_not_junk_column_names(data, words):
    with pytest.raises(IngestError) as caught:
        read(data)
    assert words in str(caught.value)
    assert "was not found among" not in str(caught.value)


def test_one_bad_byte_in_a_utf8_file_loses_its_row_not_every_accent():
    text = [HEADER] + [f"Zoë{i % 30},2023-01-{i % 28 + 1:02d},{i + 1}" for i in range(200)]
    data = bytearray(to_bytes(text))
    data[data.index(b"Zo\xc3\xab7,") + 2] = 0xFF  # one damaged byte in row 8
    result = read(bytes(data))
    assert result.report.encoding == "utf-8"
    assert problem(result.report, "invalid_encoding").rows == [8]
    assert result.report.rows_accepted == 199
    assert result.frame["customer_id"].str.startswith("Zoë").all()


def test_a_windows_1252_file_is_still_read_as_such():
    text = [HEADER] + [f"René{i},2023-01-02,{i + 1}" for i in range(20)]
    result = read(to_bytes(text, "cp1252"))
    assert result.report.encoding == "cp1252"
    assert result.frame["customer_id"].str.startswith("René").all()


# Messages ---------------------------------------------------------------------------------

def test_control_characters_from_a_header_are_escaped_in_messages():
    with pytest.raises(IngestError) as caught:
        read(b"cust\x1b[31mid,date,amount\nA,2023-01-02,1\n")
    report = caught.value.report
    for text in (str(caught.value), report.reason, report.problems[-1].message):
        assert "\x1b" not in text
        assert "cust\\x1b[31mid" in text


def test_control_characters_in_ids_are_escaped_in_messages():
    data = (b"customer_id,date,amount\n\x1b]0;owned\x07,2023-01-02,x\n"
            + b"".join(b"C%d,2023-01-02,1\n" % i for i in range(100)))
    report = read(data).report
    left_out = problem(report, "customer_left_out")
    assert "\x1b" not in left_out.message and "\x07" not in left_out.message
    assert "\\x1b]0;owned\\x07" in left_out.message


def test_customer_tables_share_the_guards():
    data = gzip.compress(b"id,age\n" + "".join(f"U{i},{20 + i}\n" for i in range(50)).encode())
    result = read_customers(io.BytesIO(data))
    assert len(result.frame) == 50
    with pytest.raises(IngestError, match="UTF-16"):
        read_customers("id,age\nU1,20\nU2,30\n".encode("utf-16-be"))

"""A file read in many small batches gives exactly what one batch gives: the same
frame and the same report, also when a later batch overturns a choice made on the
head of the file (day/month order, decimal comma, ``.0`` ids)."""

import numpy as np
import pandas as pd
import pytest

import models.ingest.rows as rows_module
from models.ingest import IngestError, read_customers, read_transactions

NOW = "2024-06-01"
SMALL_BLOCK = 16 * 1024


def read_in_batches(monkeypatch, reader, data, **kwargs):
    """The result of one batch and of many; fails unless they are the same."""
    whole = reader(data, **kwargs)
    monkeypatch.setattr(rows_module, "_BLOCK_BYTES", SMALL_BLOCK)
    batched = reader(data, **kwargs)
    assert len(data) > 20 * SMALL_BLOCK
    pd.testing.assert_frame_equal(batched.frame, whole.frame)
    assert batched.report.to_dict() == whole.report.to_dict()
    return batched


def transactions(monkeypatch, text_lines, encoding="utf-8", **kwargs):
    data = ("\n".join(text_lines) + "\n").encode(encoding)
    return read_in_batches(monkeypatch, read_transactions, data, now=NOW, **kwargs)


def test_every_problem_is_counted_with_its_rows_across_batches(monkeypatch):
    header = "order_id,customer_id,date,amount,note"
    rows = [f"O{i},C{i % 300},2023-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 90 + 1}.50,n{i}"
            for i in range(30_000)]
    rows[10] = "O10,C10,2023-01-01"  # too few fields
    rows[7_001] = rows[7_000]  # exact duplicate, dropped with an order id
    rows[9_000] = "O9000,C1,not a date,3.50,x"
    rows[12_345] = "O12345,,2023-02-02,3.50,x"  # guest purchase
    rows[15_000] = 'O15000,C5,2023-02-02,4.50,"two\nlines"'
    rows[18_000] = "O18000,C6,2023-02-02,-4.50,return"
    rows[21_000] = f"O21000,{'C' * 1_200},2023-02-02,4.50,x"
    rows[24_000] = "O24000,C7,2023-02-02,lots,x"
    rows[26_000] = "O26000,C8,2023-02-02,1e12,x"
    rows[28_000] = 'O28000,C9,2023-02-02,4.50,"runaway'
    rows[28_004] = 'O28004,C9,2023-02-02,4.50,closed"'
    result = transactions(monkeypatch, [header, *rows])
    counts = {p.kind: (p.count, p.rows) for p in result.report.problems}
    assert counts["wrong_field_count"] == (1, [11])
    assert counts["duplicate_row"] == (1, [7_002])
    assert counts["unparseable_date"] == (1, [9_001])
    assert counts["missing_customer_id"] == (1, [12_346])
    assert counts["value_too_long"] == (1, [21_001])
    assert counts["unparseable_amount"] == (1, [24_001])
    assert counts["amount_out_of_range"] == (1, [26_001])
    assert counts["unbalanced_quote"] == (5, [28_001])
    assert counts["return"][0] == 1
    assert result.report.rows_total == 30_000


def test_a_late_day_above_12_makes_every_date_day_first(monkeypatch):
    rows = [f"C{i % 50},{i % 12 + 1:02d}/{i % 3 + 1:02d}/2011,1.50" for i in range(20_000)]
    rows[15_000] = "C1,25/03/2011,1.50"
    result = transactions(monkeypatch, ["customer_id,date,amount", *rows])
    assert result.report.date_format.startswith("%d/%m/%Y")
    assert result.frame["date"].iloc[1] == pd.Timestamp("2011-02-02")
    assert result.frame["date"].iloc[15_000] == pd.Timestamp("2011-03-25")
    assert result.report.warnings == []


def test_undecided_dates_still_warn_when_no_batch_decides(monkeypatch):
    rows = [f"C{i % 50},{i % 12 + 1:02d}/{i % 3 + 1:02d}/2011,1.50" for i in range(20_000)]
    result = transactions(monkeypatch, ["customer_id,date,amount", *rows])
    assert result.frame["date"].iloc[1] == pd.Timestamp("2011-02-02")
    assert any("day or the month" in w for w in result.report.warnings)


def test_a_late_decimal_comma_rereads_the_points_before_it_as_thousands(monkeypatch):
    rows = [f"C{i % 50};2023-01-02;1.234" for i in range(20_000)]
    rows[16_000] = "C1;2023-01-02;12,50"
    result = transactions(monkeypatch, ["customer_id;date;amount", *rows])
    assert result.frame["amount"].iloc[0] == 1234.0
    assert result.frame["amount"].iloc[16_000] == 12.5


def test_a_late_id_that_is_not_a_float_keeps_every_id_as_written(monkeypatch):
    rows = [f"{17850 + i % 50}.0,2023-01-02,1.50" for i in range(20_000)]
    rows[17_000] = "A17,2023-01-02,1.50"
    result = transactions(monkeypatch, ["customer_id,date,amount", *rows])
    assert result.frame["customer_id"].iloc[0] == "17850.0"


def test_float_ids_lose_their_point_zero_in_every_batch(monkeypatch):
    rows = [f"{17850 + i % 50}.0,2023-01-02,1.50" for i in range(20_000)]
    result = transactions(monkeypatch, ["customer_id,date,amount", *rows])
    assert result.frame["customer_id"].iloc[-1] == str(17850 + 19_999 % 50)


def test_whitespace_aligned_windows_1252_files_read_the_same_in_batches(monkeypatch):
    rows = [f"  Zoë{i % 40}    2023-{i % 12 + 1:02d}-01     {i % 70 + 1}.25" for i in range(20_000)]
    result = transactions(monkeypatch, ["customer_id   date   amount", *rows], encoding="cp1252")
    assert result.report.encoding == "cp1252" and result.report.delimiter == "whitespace"
    assert result.frame["customer_id"].iloc[0] == "Zoë0"


def test_a_missing_column_is_refused_after_counting_every_row(monkeypatch):
    rows = [f"C{i % 50},2023-01-02,x" for i in range(20_000)]
    data = ("customer_id,date,note\n" + "\n".join(rows) + "\n").encode()
    monkeypatch.setattr(rows_module, "_BLOCK_BYTES", SMALL_BLOCK)
    with pytest.raises(IngestError) as caught:
        read_transactions(data)
    assert caught.value.report.rows_total == 20_000
    assert caught.value.report.problems[-1].kind == "missing_column"


def test_customer_tables_read_the_same_in_batches(monkeypatch):
    rows = [f"U{i},{20 + i % 50},{1000 + i}.5,r{i % 4}" for i in range(20_000)]
    rows[9_999] = "U3,31,12.5,r1"
    data = ("user_id,age,income,region\n" + "\n".join(rows) + "\n").encode()
    result = read_in_batches(monkeypatch, read_customers, data)
    assert result.report.count("duplicate_customer") == 1
    assert np.isclose(result.frame["income"].iloc[0], 1000.5)


def test_a_row_longer_than_a_step_reads_the_pass_again_without_repeating_rows(monkeypatch):
    rows = [f"O{i},C{i % 300},2023-{i % 12 + 1:02d}-01,{i % 90 + 1}.50,n{i}" for i in range(30_000)]
    rows[20_000] = 'O20000,C1,2023-02-02,4.50,"runaway'
    rows[23_000] = 'O23000,C1,2023-02-02,4.50,closed"'  # the quote holds ~100 KB of rows
    rows[25_000] = rows[24_999]  # an exact duplicate, found in the pass after the fallback
    data = ("order_id,customer_id,date,amount,note\n" + "\n".join(rows) + "\n").encode()
    whole = read_transactions(data, now=NOW, max_invalid_share=0.2)
    monkeypatch.setattr(rows_module, "_STEP_BYTES", SMALL_BLOCK)
    stepped = read_transactions(data, now=NOW, max_invalid_share=0.2)
    pd.testing.assert_frame_equal(stepped.frame, whole.frame)
    assert stepped.report.to_dict() == whole.report.to_dict()
    assert stepped.report.rows_total == 30_000
    assert stepped.report.count("unbalanced_quote") == 3_001
    assert stepped.report.count("duplicate_row") == 1
    assert stepped.frame["order_id"].is_unique

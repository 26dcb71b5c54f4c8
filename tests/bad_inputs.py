"""A corpus of broken uploads and what ingest must say about each.

``bad_inputs(directory)`` writes every file into ``directory`` and returns
``[(name, path, expectation)]``. An :class:`Expectation` says whether the file is
rejected whole (``accepted=False``: an ``IngestError`` whose report holds a problem of
``kind``) or read with the recovery named in the report (``accepted=True``: a problem
of ``kind`` or a warning containing ``words``). ``column``, when set, is the column the
problem must name; ``rows``, that the problem lists example rows; ``options`` are
keyword arguments for the reader (the gzip bomb uses a small unpacked-size bound so
the test does not unpack gigabytes). Unit tests read each file with
``models.ingest``; integration tests can upload the same files through the API.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

HEADER = "customer_id,date,amount"


@dataclass(frozen=True)
class Expectation:
    accepted: bool
    kind: str | None = None  # a problem kind in the report
    words: str = ""  # in the rejection reason, the problem's message or a warning
    column: str | None = None
    rows: bool = False
    options: dict = field(default_factory=dict)


def _rows(n: int, start: int = 0) -> list[str]:
    return [f"C{i % 40},2023-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 90 + 1}.50"
            for i in range(start, start + n)]


def _text(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def _with(lines: list[str], every: int, replace) -> list[str]:
    """``lines`` (header first) with every ``every``-th data row passed through ``replace``."""
    return [lines[0]] + [replace(line) if i % every == 0 else line
                         for i, line in enumerate(lines[1:], 1)]


def _field(line: str, position: int, value: str) -> str:
    parts = line.split(",")
    parts[position] = value
    return ",".join(parts)


def _files() -> dict[str, tuple[bytes, Expectation]]:
    good = [HEADER] + _rows(200)
    wide_header = ",".join([HEADER] + [f"extra_{i}" for i in range(9_997)])
    wide_row = ",".join(["C1", "2023-01-02", "5"] + ["x"] * 9_997)
    accented = [HEADER] + [f"Zoë{i % 30},2023-01-{i % 28 + 1:02d},{i + 1}" for i in range(200)]
    damaged = bytearray(_text(accented))
    damaged[damaged.index("Zoë7,".encode()) + 2] = 0xFF
    bomb = gzip.compress(_text(good) + b"0" * 40_000_000)
    return {
        "empty": (b"", Expectation(False, "empty_file", "empty")),
        "header_only": (_text([HEADER]), Expectation(False, "empty_file", "no data rows")),
        "binary": (bytes(range(256)) * 64, Expectation(False, "not_text", "binary data")),
        "spreadsheet": (b"PK\x03\x04" + bytes(500), Expectation(False, "not_text", "Excel")),
        "utf16_without_bom": ("\n".join(good).encode("utf-16-le"),
                              Expectation(False, "not_text", "UTF-16")),
        "gzip_bomb": (bomb, Expectation(False, "too_large", "unpacks to more than",
                                        options={"max_unpacked_bytes": 8_000_000})),
        "pipe_delimited": (_text([line.replace(",", "|") for line in good]),
                           Expectation(True, words="")),
        "missing_amount_column": (_text([line.rsplit(",", 1)[0] for line in good]),
                                  Expectation(False, "missing_column", "'amount'",
                                              column="amount")),
        "unparseable_dates": (_text(_with(good, 4, lambda s: _field(s, 1, "someday"))),
                              Expectation(False, "unparseable_date", "unparseable_date",
                                          column="date", rows=True)),
        "non_numeric_amounts": (_text(_with(good, 3, lambda s: _field(s, 2, "n/a"))),
                                Expectation(False, "unparseable_amount", "unparseable_amount",
                                            column="amount", rows=True)),
        "only_negative_amounts": (_text([HEADER] + [f"C{i},2023-01-{i % 28 + 1:02d},-{i + 1}"
                                                    for i in range(100)]),
                                  Expectation(False, "no_purchases", "positive amount",
                                              column="amount")),
        "duplicate_column_names": (_text(["customer_id,date,amount,amount"]
                                         + [line + ",9" for line in good[1:]]),
                                   Expectation(True, words="appear more than once")),
        "megabyte_field": (_text(good[:100] + [f"{'X' * 1_048_576},2023-01-02,5"] + good[100:]),
                           Expectation(True, "value_too_long", column="customer_id", rows=True)),
        "ragged_rows": (_text(_with(good, 50, lambda s: s + ",surplus,fields")),
                        Expectation(True, "wrong_field_count", rows=True)),
        "ragged_everywhere": (_text(_with(good, 3, lambda s: s + ",surplus")),
                              Expectation(False, "too_many_invalid", "wrong_field_count",
                                          rows=True)),
        "invalid_utf8": (bytes(damaged), Expectation(True, "invalid_encoding", rows=True)),
        "latin1_text": (_text([HEADER] + [f"René{i},2023-01-02,{i + 1}" for i in range(50)],
                              "latin-1"), Expectation(True, words="Windows-1252")),
        "ten_thousand_columns": (_text([wide_header, wide_row, wide_row]),
                                 Expectation(False, "too_many_columns", "more than 1,000 columns")),
        "future_dated_block": (_text(good + [f"C{i},2090-05-0{i % 9 + 1},5" for i in range(30)]),
                               Expectation(False, "future_date", "future_date", column="date",
                                           rows=True)),
        "dated_1900_block": (_text(good + [f"C{i},1900-01-0{i % 9 + 1},5" for i in range(4)]),
                             Expectation(True, "date_before_1970", column="date", rows=True)),
        "unbalanced_quote": (_text(good[:50] + ['C1,"2023-01-02,5'] + good[50:]),
                             Expectation(False, "unbalanced_quote", "opens in row 50",
                                         rows=True)),
        "formula_and_html_ids": (_text(good + ["=HYPERLINK(\"http://x\"),2023-01-02,5",
                                               "<script>alert(1)</script>,2023-01-02,5",
                                               "@SUM(A1),2023-01-03,7"]),
                                 Expectation(True, words="spreadsheet formula")),
    }


def bad_inputs(directory) -> list[tuple[str, Path, Expectation]]:
    """Write the corpus into ``directory``; ``[(name, path, expectation)]``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, (data, expectation) in _files().items():
        path = directory / (f"{name}.csv.gz" if name == "gzip_bomb" else f"{name}.csv")
        path.write_bytes(data)
        out.append((name, path, expectation))
    return out

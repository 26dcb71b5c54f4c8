"""Every broken upload of the corpus is refused with a message naming the problem, or
read with the recovery named in the validation report."""

import json

import pytest

from models.ingest import IngestError, read_transactions
from tests.bad_inputs import bad_inputs

NOW = "2024-06-01"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {name: (path, expectation)
            for name, path, expectation in bad_inputs(tmp_path_factory.mktemp("bad"))}


def test_the_corpus_covers_at_least_fifteen_kinds(corpus):
    assert len(corpus) >= 15


NAMES = ["empty", "header_only", "binary", "spreadsheet", "utf16_without_bom", "gzip_bomb",
         "pipe_delimited", "missing_amount_column", "unparseable_dates", "non_numeric_amounts",
         "only_negative_amounts", "duplicate_column_names", "megabyte_field", "ragged_rows",
         "ragged_everywhere", "invalid_utf8", "latin1_text", "ten_thousand_columns",
         "future_dated_block", "dated_1900_block", "unbalanced_quote", "formula_and_html_ids"]


def test_every_file_of_the_corpus_is_checked_here(corpus):
    assert sorted(corpus) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_broken_upload_is_refused_or_recovered_with_the_problem_named(corpus, name):
    path, expected = corpus[name]
    if expected.accepted:
        report = read_transactions(path, now=NOW, **expected.options).report
        text = " ".join([*report.warnings, *(p.message for p in report.problems)])
        assert report.rows_accepted > 0
    else:
        with pytest.raises(IngestError) as caught:
            read_transactions(path, now=NOW, **expected.options)
        report = caught.value.report
        text = " ".join([report.reason, *(p.message for p in report.problems)])
        assert report.rejected and report.rows_accepted == 0
    assert expected.words in text
    if expected.kind:
        problem = next(p for p in report.problems if p.kind == expected.kind)
        if expected.column:
            assert problem.column == expected.column
        if expected.rows:
            assert problem.rows, problem
    json.dumps(report.to_dict())
    assert "\x1b" not in text

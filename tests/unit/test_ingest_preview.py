"""The upload preview: what ingest would detect, from the head of the file only."""

import io
import json

import pytest

from models.ingest.preview import PREVIEW_BYTES, preview

HEADER = "customer_id;order_date;amount;channel\n"


def transactions(rows):
    return (HEADER + "".join(f"C{i};2024-01-{i % 28 + 1:02d};{i},50;web\n"
                             for i in range(rows))).encode()


class CountingReader(io.BytesIO):
    """A file object that remembers how many bytes were asked of it."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_preview_names_layout_mapping_and_first_rows():
    shown = preview(transactions(50), rows=3)
    assert shown["encoding"] == "utf-8"
    assert shown["delimiter"] == "semicolon"
    assert shown["header"] is True
    assert shown["columns"] == ["customer_id", "order_date", "amount", "channel"]
    assert shown["mapping"] == {"customer_id": "customer_id", "date": "order_date",
                                "amount": "amount", "channel": "channel"}
    assert shown["rows"] == [["C0", "2024-01-01", "0,50", "web"],
                             ["C1", "2024-01-02", "1,50", "web"],
                             ["C2", "2024-01-03", "2,50", "web"]]
    assert shown["problems"] == [] and shown["truncated"] is False
    assert json.loads(json.dumps(shown)) == shown


def test_preview_reads_only_the_head_of_a_large_file():
    data = transactions(200_000)
    assert len(data) > 3 * PREVIEW_BYTES
    upload = CountingReader(data)
    shown = preview(upload, rows=5)
    assert upload.bytes_read <= PREVIEW_BYTES + 1
    assert upload.tell() == 0
    assert shown["truncated"] is True
    assert len(shown["rows"]) == 5 and shown["mapping"]["date"] == "order_date"


def test_preview_of_a_path_gives_the_same_answer(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_bytes(transactions(10))
    assert preview(path) == preview(transactions(10))


def test_headerless_file_shows_positions_and_the_mapping_by_content():
    data = b"C1,2024-01-03,12.50\nC2,2024-01-04,3.25\nC1,2024-01-05,7.00\n"
    shown = preview(data)
    assert shown["header"] is False
    assert shown["columns"] == ["0", "1", "2"]
    assert shown["mapping"] == {"customer_id": "0", "date": "1", "amount": "2"}
    assert len(shown["rows"]) == 3


def test_missing_required_columns_are_problems_not_errors():
    shown = preview(b"name,city\nAnn,Oslo\n")
    assert len(shown["problems"]) == 3
    assert "'customer_id' was not found" in shown["problems"][0]
    assert "'date'" in shown["problems"][1] and "'amount'" in shown["problems"][2]
    assert shown["rows"] == [["Ann", "Oslo"]]


def test_a_mapping_overrides_the_proposal_and_fills_the_missing_column():
    shown = preview(b"buyer,when,paid\nA,2024-01-02,3\n",
                    mapping={"customer_id": "buyer", "date": "when", "amount": "paid"})
    assert shown["problems"] == []
    assert shown["mapping"] == {"customer_id": "buyer", "date": "when", "amount": "paid"}


def test_a_mapping_to_a_column_that_does_not_exist_is_a_problem():
    shown = preview(transactions(3), mapping={"date": "shipped"})
    assert len(shown["problems"]) == 1 and "'shipped'" in shown["problems"][0]


def test_customer_table_proposes_id_attributes_and_a_spend_target():
    data = (b"user_id,age,annual_income,purchase_amount,region\n"
            b"1,34,52000,310.5,North\n2,45,61000,120.0,South\n")
    shown = preview(data, kind="customers")
    assert shown["mapping"] == {"customer_id": "user_id", "age": "age",
                                "annual_income": "annual_income",
                                "purchase_amount": "purchase_amount", "region": "region"}
    assert shown["target"] == "purchase_amount"


def test_customer_table_without_a_numeric_spend_column_proposes_no_target():
    shown = preview(b"id,spend,city\n1,high,Oslo\n2,low,Rome\n", kind="customers")
    assert shown["target"] is None
    assert shown["mapping"]["customer_id"] == "id"


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"\n\n", "empty"),
                                         (b"customer_id,date,amount\n", "no data rows")])
def test_empty_files_are_problems(data, words):
    shown = preview(data)
    assert any(words in p for p in shown["problems"])


def test_unknown_kind_is_an_argument_error():
    with pytest.raises(ValueError, match="kind"):
        preview(b"a,b\n", kind="orders")


def test_gzip_upload_is_previewed_from_its_unpacked_head():
    import gzip

    shown = preview(gzip.compress(transactions(30_000)), rows=2)
    assert shown["mapping"]["date"] == "order_date"
    assert shown["rows"][0] == ["C0", "2024-01-01", "0,50", "web"]


def test_binary_upload_is_a_problem_with_a_plain_message():
    shown = preview(b"PK\x03\x04" + bytes(100))
    assert shown["columns"] == [] and "Excel workbook" in shown["problems"][0]

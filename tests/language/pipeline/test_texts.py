"""Loading the audited texts: every problem located (file:line, field, what is accepted), texts never quoted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance_mia.errors import DataError
from compliance_mia.language import texts as texts_module
from compliance_mia.language.texts import load_texts
from compliance_mia.policy.schema import DataSpec

SECRET = "patient Alice Example was admitted with a rare condition"


def _spec(tmp_path: Path, **extra) -> DataSpec:
    return DataSpec(
        members=tmp_path / "members.jsonl",
        non_members=tmp_path / "non_members.jsonl",
        id_column="id",
        text_column="text",
        categories=["health"],
        data_subjects=10,
        **extra,
    )


def _lines(path: Path, rows: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")


def _write(tmp_path: Path, members: list, non_members: list | None = None) -> None:
    _lines(tmp_path / "members.jsonl", members)
    _lines(tmp_path / "non_members.jsonl", non_members or [{"id": "n1", "text": "an unrelated passage"}])


def _error(tmp_path: Path, **extra) -> str:
    with pytest.raises(DataError) as info:
        load_texts(_spec(tmp_path, **extra))
    message = str(info.value)
    assert SECRET not in message  # a record is named by its ID, never by its text
    return message


def test_ids_are_kept_byte_for_byte_and_sets_are_ordered(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "007", "text": "a"}, {"id": 12, "text": "b"}, {"id": " x\u00e9 ", "text": "c"}])
    data = load_texts(_spec(tmp_path))
    assert data.members.ids == ["007", "12", " x\u00e9 "]
    assert data.ids == ["007", "12", " x\u00e9 ", "n1"]
    assert data.is_member.tolist() == [True, True, True, False]
    assert data.members.lines == [1, 2, 3]


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"text": SECRET}, "members.jsonl:2: id: field 'id' is missing (fields present: text)"),
        ({"id": "", "text": SECRET}, "members.jsonl:2: id: the ID is empty"),
        ({"id": 1.5, "text": SECRET}, "members.jsonl:2: id: the ID must be a string or a whole number, got float"),
        ({"id": "m2", "text": ["a"]}, "members.jsonl:2: text: record 'm2': the text must be a string, got list"),
        ({"id": "m2", "text": "   "}, "members.jsonl:2: text: record 'm2': the text is empty"),
        ({"id": "m1", "text": SECRET}, "members.jsonl:2: id: ID 'm1' appears twice in members (first at line 1)"),
        ("[1, 2]", "members.jsonl:2: each line must be one JSON object"),
        ('{"id": "m2", "text": ', "members.jsonl:2: not valid JSON"),
    ],
)
def test_bad_records_are_located(tmp_path: Path, row: object, expected: str) -> None:
    _write(tmp_path, [{"id": "m1", "text": SECRET + " one"}, row])
    assert expected in _error(tmp_path)


def test_the_same_text_in_members_and_non_members_is_refused_unless_allowed(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "m1", "text": SECRET}], [{"id": "n1", "text": "  " + SECRET.replace(" ", "\n  ")}])
    message = _error(tmp_path)
    assert "non_members.jsonl:1:" in message and "the same text (ignoring whitespace)" in message
    assert "'n1'" in message and "'m1'" in message and "data.allow_duplicate_records" in message
    data = load_texts(_spec(tmp_path, allow_duplicate_records=True))
    assert any("same text appears in more than one set (1 between members and non-members)" in w for w in data.warnings)


def test_an_id_in_both_sets_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "same", "text": "one"}], [{"id": "same", "text": "two"}])
    assert "non_members.jsonl:1: ID 'same' is in both members (members.jsonl:1 (ID 'same')) and non-members" in _error(
        tmp_path
    )


def test_csv_texts_with_quoted_line_breaks_keep_their_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text('id,text\n007,"first line\nsecond line"\n008,plain\n', encoding="utf-8")
    (tmp_path / "non_members.csv").write_text("id,text\nn1,other\nn2,\n", encoding="utf-8")
    spec = _spec(tmp_path).model_copy(
        update={"members": tmp_path / "members.csv", "non_members": tmp_path / "non_members.csv"}
    )
    with pytest.raises(DataError) as info:
        load_texts(spec)
    assert "non_members.csv:3: text: record 'n2': the text is empty" in str(info.value)
    (tmp_path / "non_members.csv").write_text("id,text\nn1,other\n", encoding="utf-8")
    data = load_texts(spec)
    assert data.members.ids == ["007", "008"] and data.members.lines == [2, 4]


def test_huge_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, [{"id": "m1", "text": "x" * 200}])
    monkeypatch.setattr(texts_module, "MAX_FILE_BYTES", 100)
    assert "members.jsonl: the file has" in _error(tmp_path)


def test_slice_columns_are_read_as_text(tmp_path: Path) -> None:
    _write(tmp_path, [{"id": "m1", "text": "a", "ward": 3}], [{"id": "n1", "text": "b", "ward": "east"}])
    data = load_texts(_spec(tmp_path, slice_columns=["ward"]))
    assert data.slices["ward"].tolist() == ["3", "east"]

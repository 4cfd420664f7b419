"""Feature values that cannot be numbers: inf/-inf, text in a numeric column. Located, never echoed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile import frame, spec, write_pair

from compliance_mia.data import load_audit_data
from compliance_mia.errors import DataError


@pytest.mark.parametrize("spelling", ["inf", "-inf", "Infinity", "-Infinity"])
def test_infinity_in_a_feature_is_refused_naming_file_column_and_line(tmp_path: Path, spelling: str) -> None:
    write_pair(tmp_path)
    text = (tmp_path / "n.csv").read_text(encoding="utf-8").splitlines()
    fields = text[7].split(",")
    fields[2] = spelling  # bmi of the 7th record, on line 8
    text[7] = ",".join(fields)
    (tmp_path / "n.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert str(info.value).startswith("n.csv:8: bmi: 1 infinite value(s) (inf or -inf), first at line 8")


def test_infinity_in_parquet_names_the_row(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[3, "age"] = -np.inf
    members.to_parquet(tmp_path / "m.parquet")
    frame(40, 1000).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path, "m.parquet", "n.parquet"), seed=0, need_population=False)
    assert str(info.value).startswith("m.parquet: age: 1 infinite value(s) (inf or -inf), first at row 4")


def test_text_in_a_numeric_column_is_located_and_not_echoed(tmp_path: Path) -> None:
    non_members = frame(40, 1000).astype({"age": object})
    non_members.loc[12, "age"] = "Jane Doe"
    write_pair(tmp_path, None, non_members)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    text = str(info.value)
    assert text.startswith("n.csv:14: age: 1 value(s) that are not numbers in a numeric column, first at line 14")
    assert "Jane" not in text


def test_text_in_a_mostly_numeric_members_column_is_located(tmp_path: Path) -> None:
    members = frame(40).astype({"bmi": object})
    members.loc[0, "bmi"] = "123-45-6789"
    write_pair(tmp_path, members)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert str(info.value).startswith("m.csv:2: bmi: 1 value(s) that are not numbers")
    assert "6789" not in str(info.value)


def test_text_features_stay_text(tmp_path: Path) -> None:
    members, non_members = frame(40), frame(40, 1000)
    members["site"] = np.where(members["age"] > 50, "north", "south")
    non_members["site"] = np.where(non_members["age"] > 50, "north", "south")
    write_pair(tmp_path, members, non_members)
    data = load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert "site" in data.feature_names


def test_lines_are_right_after_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    write_pair(tmp_path)
    lines = (tmp_path / "n.csv").read_text(encoding="utf-8").splitlines()
    header, records = lines[0], lines[1:]
    records[0] = records[0].replace("p1000", '"p1000\nsecond line"')  # one record over two lines
    fields = records[9].split(",")
    fields[1] = "inf"  # age of the 10th record
    records[9] = ",".join(fields)
    text = "\n".join([header, records[0], "", "", *records[1:]]) + "\n"  # two blank lines
    (tmp_path / "n.csv").write_text(text, encoding="utf-8")
    # header 1, record 0 on lines 2-3, blank 4-5, record 1 on line 6, ..., record 9 on line 14
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert str(info.value).startswith("n.csv:14: age: 1 infinite value(s) (inf or -inf), first at line 14")

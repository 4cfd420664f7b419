"""Extension-less data files (DVC/git-annex caches) are read by content, or as data.format says."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import frame, spec

from compliance_mia.data import detect_format, load_audit_data, read_table
from compliance_mia.errors import DataError


def test_extensionless_parquet_and_csv_are_detected_by_content(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    frame(40).to_parquet(cache / "3f2a9c0d41b7e6")
    frame(40, 1000).to_csv(cache / "91bd07e2aa", index=False)
    (tmp_path / "members").symlink_to(cache / "3f2a9c0d41b7e6")
    (tmp_path / "non_members").symlink_to(cache / "91bd07e2aa")
    assert detect_format(tmp_path / "members") == "parquet"
    assert detect_format(tmp_path / "non_members") == "csv"
    data = load_audit_data(spec(tmp_path, "members", "non_members"), seed=0, need_population=False)
    assert len(data.members) == 40 and len(data.non_members) == 40
    assert data.non_members.line_of(0) == 2  # CSV by content still has line numbers


def test_extensionless_tsv_is_detected(tmp_path: Path) -> None:
    frame(30).to_csv(tmp_path / "blob", sep="\t", index=False)
    assert detect_format(tmp_path / "blob") == "tsv"
    assert list(read_table(tmp_path / "blob").columns) == ["id", "age", "bmi", "dx"]


def test_declared_format_wins_over_the_extension(tmp_path: Path) -> None:
    frame(40).to_parquet(tmp_path / "m.dat")
    frame(40, 1000).to_parquet(tmp_path / "n.dat")
    data = load_audit_data(spec(tmp_path, "m.dat", "n.dat", format="parquet"), seed=0, need_population=False)
    assert data.members.ids[0] == "p0"


def test_binary_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"PK\x03\x04\x00\x00secret")
    with pytest.raises(DataError, match="blob: the file is neither Parquet"):
        read_table(tmp_path / "blob")


def test_declared_format_that_does_not_fit_is_a_located_error(tmp_path: Path) -> None:
    frame(40).to_csv(tmp_path / "m", index=False)
    with pytest.raises(DataError, match=r"^m: cannot read as parquet"):
        read_table(tmp_path / "m", "parquet")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match="empty: cannot read as csv: the file is empty"):
        read_table(tmp_path / "empty")
    with pytest.raises(DataError, match="nothing: file not found"):
        read_table(tmp_path / "nothing")


def test_ragged_csv_is_located_without_values(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("id,x\np1,1\np2,2,Secret,Extra\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "r.csv")
    assert "line 3" in str(info.value) and "Secret" not in str(info.value)


def test_a_column_named_twice_is_refused_not_renamed(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,age,dx,age\np1,1,a,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"^d.csv:1: columns 2 and 4 of the header have the same name \('age'\)"):
        read_table(tmp_path / "d.csv")


def test_a_byte_order_mark_does_not_hide_the_id_column(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes("\ufeffid,age\n0012,1\n".encode())
    assert read_table(tmp_path / "b.csv", id_column="id")["id"].tolist() == ["0012"]

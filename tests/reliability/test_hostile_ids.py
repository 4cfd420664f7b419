"""Record IDs are text, byte for byte as in the input (leading zeros, spaces, digits-only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile import frame, spec, write_pair

from compliance_mia.data import load_audit_data, read_table
from compliance_mia.errors import DataError
from compliance_mia.policy.schema import PredictionsSpec
from compliance_mia.targets.predictions import PredictionsTarget


def _zero_padded(n: int, start: int) -> pd.DataFrame:
    records = frame(n, start)
    records["id"] = [f"{i:06d}" for i in range(start, start + n)]
    return records


def test_leading_zeros_survive_csv(tmp_path: Path) -> None:
    members, non_members = _zero_padded(40, 0), _zero_padded(40, 123)
    write_pair(tmp_path, members, non_members)
    data = load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert data.members.ids[0] == "000000"
    assert "000123" in set(data.non_members.ids)
    assert all(isinstance(i, str) for i in data.audit.ids)
    assert list(data.members.ids) == list(members["id"])


def test_spaces_and_numeric_looking_ids_are_kept_verbatim(tmp_path: Path) -> None:
    members = frame(40)
    odd = [" 7", "7 ", "1e3", "0x10", "1.0", "NA", "nan", "-0", "+1", "007", "None", "null", "TRUE"]
    members.loc[: len(odd) - 1, "id"] = odd
    write_pair(tmp_path, members)
    data = load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert list(data.members.ids[: len(odd)]) == odd


def test_tsv_ids_are_kept_verbatim(tmp_path: Path) -> None:
    members, non_members = _zero_padded(40, 0), _zero_padded(40, 500)
    members.to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    non_members.to_csv(tmp_path / "n.tsv", sep="\t", index=False)
    data = load_audit_data(spec(tmp_path, "m.tsv", "n.tsv"), seed=0, need_population=False)
    assert data.non_members.ids[0] == "000500"


def test_parquet_string_ids_kept_and_integer_ids_written_in_decimal(tmp_path: Path) -> None:
    members = _zero_padded(40, 0)
    non_members = frame(40, 1000)
    non_members["id"] = np.arange(1000, 1040, dtype=np.int64)
    members.to_parquet(tmp_path / "m.parquet")
    non_members.to_parquet(tmp_path / "n.parquet")
    data = load_audit_data(spec(tmp_path, "m.parquet", "n.parquet"), seed=0, need_population=False)
    assert data.members.ids[5] == "000005"
    assert data.non_members.ids[0] == "1000"


def test_parquet_float_ids_are_refused(tmp_path: Path) -> None:
    members = frame(40)
    members["id"] = np.arange(40, dtype=float)
    members.to_parquet(tmp_path / "m.parquet")
    frame(40, 1000).to_parquet(tmp_path / "n.parquet")
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path, "m.parquet", "n.parquet"), seed=0, need_population=False)
    assert "m.parquet" in str(info.value) and "id" in str(info.value) and "text or whole numbers" in str(info.value)


def test_empty_id_is_located_not_read_as_the_text_nan(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[6, "id"] = ""
    write_pair(tmp_path, members)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert str(info.value).startswith("m.csv:8: id: record ID is empty")


def test_zero_padded_ids_match_rows_of_a_predictions_file(tmp_path: Path) -> None:
    ids = [f"{i:06d}" for i in range(30)]
    pd.DataFrame({"id": ids, "p_a": 0.25, "p_b": 0.75}).to_csv(tmp_path / "pred.csv", index=False)
    target = PredictionsTarget(
        PredictionsSpec(file=tmp_path / "pred.csv", probability_columns=["p_a", "p_b"]),
        id_column="id",
        classes=["a", "b"],
    )
    out = target.raw_outputs(pd.DataFrame(index=range(2)), np.asarray(["000007", "000012"], dtype=object))
    assert out.probabilities.shape == (2, 2)
    with pytest.raises(DataError, match="ID '7'"):
        target.raw_outputs(pd.DataFrame(index=range(1)), np.asarray(["7"], dtype=object))


def test_read_table_keeps_id_column_as_python_strings(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,x\n000123,1\n 42 ,2\n", encoding="utf-8")
    ids = read_table(tmp_path / "t.csv", id_column="id")["id"].tolist()
    assert ids == ["000123", " 42 "]

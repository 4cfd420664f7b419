"""Labels the model cannot have learnt are refused before anything is queried (data.check_labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hostile import frame, spec, write_pair

from compliance_mia.data import check_labels, load_audit_data
from compliance_mia.errors import DataError


def _load(tmp_path: Path, members=None, non_members=None, **kw):
    write_pair(tmp_path, members, non_members)
    return load_audit_data(spec(tmp_path, **kw), seed=0, need_population=False)


def test_member_label_outside_the_model_classes_is_refused_with_file_line_column_and_classes(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[9, "dx"] = "zebra-secret"
    data = _load(tmp_path, members)
    with pytest.raises(DataError) as info:
        check_labels(data, np.asarray(["a", "b"]), label_column="dx")
    text = str(info.value)
    assert text.startswith("m.csv:11: dx: 1 members record(s) have a label that is not one of the model's classes")
    assert "'a', 'b'" in text
    assert "zebra-secret" not in text  # a data subject's label is never echoed


def test_model_trained_on_N_Y_audited_on_no_yes_is_refused(tmp_path: Path) -> None:
    members, non_members = frame(40), frame(40, 1000)
    members["dx"] = np.where(members["dx"] == "a", "no", "yes")
    non_members["dx"] = np.where(non_members["dx"] == "a", "no", "yes")
    data = _load(tmp_path, members, non_members)
    with pytest.raises(DataError) as info:
        check_labels(data, ["N", "Y"], label_column="dx")
    text = str(info.value)
    assert "m.csv:2: dx: 40 members record(s)" in text
    assert "n.csv:2: dx: 40 non-members record(s)" in text
    assert "'N', 'Y'" in text and "coded differently" in text


def test_numeric_classes_match_text_labels(tmp_path: Path) -> None:
    members, non_members = frame(40), frame(40, 1000)
    members["dx"] = (members["dx"] == "b").astype(int)
    non_members["dx"] = (non_members["dx"] == "b").astype(int)
    data = _load(tmp_path, members, non_members)
    checked = check_labels(data, np.asarray([0, 1]), label_column="dx")
    assert "every label is one of the model's classes" in checked.checks


def test_non_member_label_the_model_lacks_is_refused_by_default(tmp_path: Path) -> None:
    non_members = frame(40, 1000)
    non_members.loc[[3, 17], "dx"] = "c"
    data = _load(tmp_path, None, non_members)
    with pytest.raises(DataError) as info:
        check_labels(data, ["a", "b"], label_column="dx")
    assert str(info.value).startswith("n.csv:5: dx: 2 non-members record(s)")
    assert "data.drop_unknown_labels" in str(info.value)


def test_non_member_label_the_model_lacks_is_dropped_and_counted_when_the_policy_says_so(tmp_path: Path) -> None:
    non_members = frame(40, 1000)
    non_members.loc[[3, 17], "dx"] = "c"
    data = _load(tmp_path, None, non_members, drop_unknown_labels=True)
    checked = check_labels(data, ["a", "b"], label_column="dx", drop_unknown=True)
    assert len(checked.non_members) == 38 and len(checked.members) == 60
    assert "p1003" not in set(checked.non_members.ids)
    assert any("2 non-members record(s)" in w for w in checked.warnings)
    # lines still point at the file after records are left out
    assert checked.non_members.line_of(3) == 2 + 4


def test_dropping_never_applies_to_members(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[0, "dx"] = "c"
    data = _load(tmp_path, members, drop_unknown_labels=True)
    with pytest.raises(DataError, match="m.csv:2: dx: 1 members"):
        check_labels(data, ["a", "b"], label_column="dx", drop_unknown=True)


def test_parquet_label_problem_names_the_row(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[4, "dx"] = "q"
    members.to_parquet(tmp_path / "m.parquet")
    frame(40, 1000).to_parquet(tmp_path / "n.parquet")
    data = load_audit_data(spec(tmp_path, "m.parquet", "n.parquet"), seed=0, need_population=False)
    with pytest.raises(DataError) as info:
        check_labels(data, ["a", "b"], label_column="dx")
    assert "m.parquet: dx:" in str(info.value) and "row 5" in str(info.value)

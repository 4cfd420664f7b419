"""The same records in two sets under different IDs (identical feature rows) are found and counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile import frame, spec, write_pair

from compliance_mia.data import duplicate_records, load_audit_data
from compliance_mia.errors import DataError


def _copied(members: pd.DataFrame, rows: list[int], start: int = 1000) -> pd.DataFrame:
    non_members = frame(40, start)
    for k, row in enumerate(rows):
        non_members.loc[10 + k, ["age", "bmi", "dx"]] = members.loc[row, ["age", "bmi", "dx"]].to_numpy()
    return non_members


def test_same_records_under_new_ids_are_refused_with_both_locations(tmp_path: Path) -> None:
    members = frame(40)
    write_pair(tmp_path, members, _copied(members, [4, 5, 6]))
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    text = str(info.value)
    assert text.startswith("n.csv:12: records with identical feature values appear in more than one set")
    assert "3 between members and non-members" in text
    assert "members m.csv line 6" in text
    assert "data.allow_duplicate_records" in text
    assert str(members.loc[4, "age"]) not in text


def test_integer_and_float_spellings_of_the_same_values_match(tmp_path: Path) -> None:
    members = frame(40)
    members["age"] = members["age"].round().astype(int)
    non_members = _copied(members, [7])
    non_members["age"] = non_members["age"].astype(float)
    write_pair(tmp_path, members, non_members)
    with pytest.raises(DataError, match="1 between members and non-members"):
        load_audit_data(spec(tmp_path), seed=0, need_population=False)


def test_duplicates_with_population_are_counted_per_pair(tmp_path: Path) -> None:
    members = frame(40)
    write_pair(tmp_path, members)
    population = _copied(members, [1, 2], start=5000)
    population.to_csv(tmp_path / "p.csv", index=False)
    s = spec(tmp_path, population=tmp_path / "p.csv", allow_duplicate_records=True)
    data = load_audit_data(s, seed=0)
    warning = next(w for w in data.warnings if "identical feature values" in w)
    assert "2 between members and population" in warning
    assert any("allowed by data.allow_duplicate_records" in c for c in data.checks)


def _coarse(n: int, start: int) -> pd.DataFrame:
    gen = np.random.default_rng(start)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(start, start + n)],
            "age": gen.integers(18, 90, n),
            "sex": gen.choice(["f", "m"], n),
            "visits": gen.integers(0, 10, n),
            "dx": gen.choice(["a", "b"], n),
        }
    )


def test_coarse_features_whose_matches_chance_explains_only_warn(tmp_path: Path) -> None:
    write_pair(tmp_path, _coarse(200, 0), _coarse(200, 1000))
    data = load_audit_data(spec(tmp_path), seed=0, need_population=False)
    warning = next(w for w in data.warnings if "identical feature values" in w)
    assert "no more than chance explains" in warning and "expected by chance" in warning


def test_coarse_features_with_copied_records_beyond_chance_are_refused(tmp_path: Path) -> None:
    members, non_members = _coarse(200, 0), _coarse(200, 1000)
    copies = members.iloc[:60].copy()
    copies["id"] = [f"copy{i}" for i in range(60)]
    write_pair(tmp_path, members, pd.concat([non_members.iloc[:140], copies], ignore_index=True))
    with pytest.raises(DataError, match="more than chance explains"):
        load_audit_data(spec(tmp_path), seed=0, need_population=False)


def test_no_duplicates_is_stated_as_a_check(tmp_path: Path) -> None:
    write_pair(tmp_path)
    data = load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert duplicate_records(data.members, data.non_members) == []
    assert any("no record's feature values appear" in c for c in data.checks)

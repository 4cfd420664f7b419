"""Audit data checks: problems that would silently invalidate every figure are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance_mia.data import load_audit_data
from compliance_mia.errors import DataError
from compliance_mia.policy.schema import DataSpec


def _frame(n: int, start: int = 0) -> pd.DataFrame:
    gen = np.random.default_rng(start)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(start, start + n)],
            "age": gen.integers(18, 90, n),
            "dx": gen.choice(["a", "b"], n),
            "weight": gen.random(n),
        }
    )


def _spec(tmp_path: Path, **kw) -> DataSpec:
    base = {
        "members": tmp_path / "m.csv",
        "non_members": tmp_path / "n.csv",
        "id_column": "id",
        "label_column": "dx",
        "exclude_columns": ["weight"],
        "categories": ["health"],
        "data_subjects": 100,
    }
    base.update(kw)
    return DataSpec(**base)


def test_loads_features_and_sets_population_aside_reproducibly(tmp_path: Path) -> None:
    _frame(100).to_csv(tmp_path / "m.csv", index=False)
    _frame(100, start=1000).to_csv(tmp_path / "n.csv", index=False)
    spec = _spec(tmp_path)
    first = load_audit_data(spec, seed=1, population_fraction=0.5)
    again = load_audit_data(spec, seed=1, population_fraction=0.5)
    other = load_audit_data(spec, seed=2, population_fraction=0.5)
    assert first.feature_names == ["age"]
    assert len(first.population) == 50 and len(first.non_members) == 50
    assert set(first.population.ids).isdisjoint(first.non_members.ids)
    assert list(first.population.ids) == list(again.population.ids)
    assert list(first.population.ids) != list(other.population.ids)
    assert first.is_member.sum() == 100 and len(first.audit) == 150
    assert "set aside" in first.population_source


def test_record_in_members_and_non_members_is_refused(tmp_path: Path) -> None:
    _frame(100).to_csv(tmp_path / "m.csv", index=False)
    _frame(100, start=90).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError, match="10 record ID\\(s\\) appear in both members"):
        load_audit_data(_spec(tmp_path), seed=0)


def test_duplicate_id_is_located_by_line_and_column(tmp_path: Path) -> None:
    members = _frame(100)
    members.loc[41, "id"] = "p3"
    members.to_csv(tmp_path / "m.csv", index=False)
    _frame(100, start=1000).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError) as info:
        load_audit_data(_spec(tmp_path), seed=0)
    assert str(info.value).startswith("m.csv:43: id: record ID 'p3' appears more than once")


def test_missing_column_lists_what_the_file_has(tmp_path: Path) -> None:
    _frame(100).drop(columns=["dx"]).to_csv(tmp_path / "m.csv", index=False)
    _frame(100, start=1000).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError, match="m.csv:1: missing column\\(s\\) 'dx'; the file has 'id', 'age', 'weight'"):
        load_audit_data(_spec(tmp_path), seed=0)


def test_parquet_is_read(tmp_path: Path) -> None:
    _frame(60).to_parquet(tmp_path / "m.parquet")
    _frame(60, start=500).to_parquet(tmp_path / "n.parquet")
    _frame(60, start=900).to_parquet(tmp_path / "p.parquet")
    spec = _spec(
        tmp_path, members=tmp_path / "m.parquet", non_members=tmp_path / "n.parquet", population=tmp_path / "p.parquet"
    )
    data = load_audit_data(spec, seed=0)
    assert len(data.non_members) == 60 and len(data.population) == 60
    assert data.population_source == "population file p.parquet"


def test_unsupported_file_type(tmp_path: Path) -> None:
    (tmp_path / "m.xlsx").write_text("x")
    _frame(60).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError, match="unsupported file type '.xlsx'"):
        load_audit_data(_spec(tmp_path, members=tmp_path / "m.xlsx"), seed=0)


@pytest.mark.parametrize(
    "values",
    [
        ["1", "2", "x", None, "3.5", " 4 ", "inf", "-inf", "nan", "1e3", "0x10", ""],
        [1, "2", None, float("nan"), "yes"],
        ["a", "b", "a"],
        [None, None],
        [],
        ["9223372036854775808", "1"],
        [True, "1"],
        ["1,5", "2"],
    ],
)
def test_numbers_parses_each_distinct_value_as_pandas_does(values) -> None:
    """The data checks parse each distinct text value once; the answer must be pandas' own, value by value."""
    import numpy as np
    import pandas as pd

    from compliance_mia.data import _numbers

    series = pd.Series(values * 3, dtype=object)
    expected = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(_numbers(series), expected)

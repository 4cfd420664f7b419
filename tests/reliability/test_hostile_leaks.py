"""Error messages name files, lines and columns, never a data subject's values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile import frame, spec, write_pair
from sklearn.linear_model import LogisticRegression

from compliance_mia.data import load_audit_data
from compliance_mia.errors import DataError, TargetError
from compliance_mia.targets.sklearn import SklearnTarget
from compliance_mia.text import without_quoted


def test_headerless_csv_does_not_show_its_first_record_as_column_names(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[0, "id"] = "Alice-Smith-1970"
    members.to_csv(tmp_path / "m.csv", index=False, header=False)
    frame(40, 1000).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    text = str(info.value)
    assert text.startswith("m.csv:1: missing column(s) 'id', 'dx'")
    assert "header line missing" in text
    assert "Alice" not in text and str(members.loc[0, "age"]) not in text


def test_a_real_header_is_still_listed(tmp_path: Path) -> None:
    write_pair(tmp_path, frame(40).rename(columns={"dx": "diagnosis"}))
    with pytest.raises(DataError, match="the file has 'id', 'age', 'bmi', 'diagnosis'"):
        load_audit_data(spec(tmp_path), seed=0, need_population=False)


def test_unreadable_file_error_does_not_quote_contents(tmp_path: Path) -> None:
    (tmp_path / "m.parquet").write_bytes(b"PAR1" + b"Bob Secret " * 20)
    frame(40, 1000).to_csv(tmp_path / "n.csv", index=False)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path, "m.parquet"), seed=0, need_population=False)
    assert "m.parquet" in str(info.value) and "Bob" not in str(info.value)


def test_model_scoring_error_does_not_quote_the_value(tmp_path: Path) -> None:
    train = frame(40)
    model = LogisticRegression().fit(train[["age", "bmi"]], train["dx"])
    target = SklearnTarget(model)
    X = pd.DataFrame({"age": ["Carol Jones"] * 2, "bmi": [1.0, 2.0]})
    with pytest.raises(TargetError) as info:
        target.raw_outputs(X, np.asarray(["a", "b"], dtype=object))
    assert "Carol" not in str(info.value)


def test_without_quoted_keeps_the_shape_of_the_message() -> None:
    assert without_quoted("could not convert string to float: 'Dan'") == "could not convert string to float: '…'"
    assert without_quoted('bad value "x\u202ey" here') == "bad value '…' here"

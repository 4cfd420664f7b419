"""Malformed model outputs: a real API on 127.0.0.1 and predictions files. Refused, located, never used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance_mia.errors import DataError, TargetError
from compliance_mia.policy.schema import HttpTargetSpec, PredictionsSpec
from compliance_mia.targets.http import HttpTarget
from compliance_mia.targets.predictions import PredictionsTarget

X = pd.DataFrame({"age": [50.0, 60.0, 70.0], "bmi": [20.0, 25.0, 30.0]})
IDS = np.asarray(["p0", "p1", "p2"], dtype=object)


def _rows(row: list) -> callable:
    return lambda n: json.dumps({"predictions": [row] * n}, allow_nan=True)


def _target(url: str, **kw) -> HttpTarget:
    spec = HttpTargetSpec(
        url=url, request_template={"instances": "$records"}, probabilities_path="predictions", max_retries=0, **kw
    )
    return HttpTarget(spec, classes=["a", "b"])


GOOD = [0.25, 0.75]
BAD_ANSWERS = {
    "above-one": ([0.2, 1.8], "entry 0 of the batch does not sum to 1|outside \\[0, 1\\]"),
    "negative": ([-0.5, 1.5], "is outside \\[0, 1\\]"),
    "nan": ([float("nan"), 0.5], "is not a finite number"),
    "infinity": ([float("inf"), 0.0], "is not a finite number"),
    "not-summing": ([0.1, 0.2], "does not sum to 1"),
    "strings": (["0.25", "0.75"], "holds a string where a number is expected"),
    "booleans": ([True, False], "holds a boolean where a number is expected"),
    "nulls": ([None, 1.0], "holds a null where a number is expected"),
    "three-classes": ([0.2, 0.3, 0.5], "has 3 value\\(s\\) but model.classes has 2"),
    "scalar": (0.7, "entry 0 of the batch is a number"),
    "wrong-keys": ({"x": 0.5, "y": 0.5}, "keyed by x, y, not by model.classes"),
    "dict-strings": ({"a": "0.5", "b": "0.5"}, "holds a string"),
    "dict-out-of-range": ({"a": 2.0, "b": -1.0}, "outside \\[0, 1\\]"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_malformed_probabilities_are_refused_naming_the_url_and_path(json_api, case: str) -> None:
    row, expected = BAD_ANSWERS[case]
    api = json_api(_rows(row))
    target = _target(api.url)
    with pytest.raises(TargetError, match=expected) as info:
        target.raw_outputs(X, IDS)
    text = str(info.value)
    assert "/v1/predict" in text and "model.http.probabilities_path 'predictions'" in text
    target.close()


def test_well_formed_and_rounded_probabilities_are_accepted(json_api) -> None:
    api = json_api(_rows([0.33, 0.66]))  # rounded to 2 decimals: sums to 0.99
    target = _target(api.url)
    out = target.raw_outputs(X, IDS)
    np.testing.assert_allclose(out.probabilities, [[0.33, 0.66]] * 3)
    target.close()


def test_answer_that_is_not_json_is_a_target_error(json_api) -> None:
    api = json_api(lambda n: "<html>oops</html>")
    target = _target(api.url)
    with pytest.raises(TargetError, match="not JSON"):
        target.raw_outputs(X, IDS)
    target.close()


def _predictions(tmp_path: Path, **columns) -> Path:
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(5)], "p_a": 0.4, "p_b": 0.6, "loss": 0.5})
    for name, (row, value) in columns.items():
        frame[name] = frame[name].astype(object)
        frame.loc[row, name] = value
    path = tmp_path / "pred.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("p_a", 1.4, "p_a: probability is empty, not a number, or outside \\[0, 1\\]"),
        ("p_a", -0.1, "p_a: probability is empty"),
        ("p_a", "high", "p_a: probability is empty, not a number"),
        ("p_a", "inf", "p_a: probability is empty"),
        ("p_a", 0.9, "does not sum to 1"),
    ],
)
def test_predictions_file_probabilities_are_checked(tmp_path: Path, column: str, value, expected: str) -> None:
    path = _predictions(tmp_path, **{column: (3, value)})
    with pytest.raises(DataError, match=expected) as info:
        PredictionsTarget(PredictionsSpec(file=path, probability_columns=["p_a", "p_b"]), id_column="id",
                          classes=["a", "b"])
    assert str(info.value).startswith("pred.csv:5")
    assert "high" not in str(info.value)


@pytest.mark.parametrize("value", ["inf", "-1", "nan", "big", ""])
def test_predictions_file_loss_is_checked(tmp_path: Path, value: str) -> None:
    path = _predictions(tmp_path, loss=(1, value))
    with pytest.raises(DataError, match="pred.csv:3: loss: loss is empty, negative or not a finite number"):
        PredictionsTarget(PredictionsSpec(file=path, loss_column="loss"), id_column="id", classes=["a", "b"])


def test_json_nested_beyond_the_recursion_limit_is_a_target_error(json_api) -> None:
    api = json_api(lambda n: "[" * 200_000 + "]" * 200_000)
    target = _target(api.url)
    with pytest.raises(TargetError, match="nested too deeply"):
        target.raw_outputs(X, IDS)
    target.close()


def test_an_answer_with_too_few_rows_is_refused(json_api) -> None:
    api = json_api(lambda n: json.dumps({"predictions": [GOOD] * (n - 1)}))
    target = _target(api.url)
    with pytest.raises(TargetError, match="gave 2 item\\(s\\) for a batch of 3 record\\(s\\)"):
        target.raw_outputs(X, IDS)
    target.close()


@pytest.mark.parametrize("column", ["p_a", "loss"])
def test_predictions_parquet_with_text_outputs_is_refused(tmp_path: Path, column: str) -> None:
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(5)], "p_a": 0.4, "p_b": 0.6, "loss": 0.5})
    frame[column] = frame[column].astype(str)
    frame.to_parquet(tmp_path / "pred.parquet")
    spec = PredictionsSpec(file=tmp_path / "pred.parquet", probability_columns=["p_a", "p_b"], loss_column="loss")
    with pytest.raises(DataError, match=f"pred.parquet: {column}: the column holds .* values, not numbers"):
        PredictionsTarget(spec, id_column="id", classes=["a", "b"])

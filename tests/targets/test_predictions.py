"""Predictions-file target: outputs looked up by record ID, nothing new can be asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compliance_mia.errors import DataError, TargetError
from compliance_mia.exposure import Exposure, Signal
from compliance_mia.policy.schema import PredictionsSpec
from compliance_mia.runner import load_policy
from compliance_mia.targets import open_target
from compliance_mia.targets.predictions import PredictionsTarget

CLASSES = ["benign", "malignant"]
COLUMNS = ["p_benign", "p_malignant"]


def _spec(file, **kw) -> PredictionsSpec:
    return PredictionsSpec(file=file, probability_columns=kw.pop("probability_columns", COLUMNS),
                           label_column=kw.pop("label_column", "predicted"), **kw)


def test_lookup_by_id_in_any_order(demo) -> None:
    target = PredictionsTarget(_spec(demo.files["predictions"]), id_column="record_id",
                               classes=CLASSES)
    audit = demo.audit.sample(frac=1.0, random_state=1)  # shuffled: rows are found by ID
    raw = target.raw_outputs(audit[demo.features], audit["record_id"].to_numpy())
    np.testing.assert_allclose(raw.probabilities, demo.model.predict_proba(audit[demo.features]),
                               rtol=0, atol=1e-12)
    assert target.accepts_arbitrary_inputs is False
    assert target.estimator_template() is None
    assert target.estimator_name == "black box (predictions file predictions.csv)"


def test_planner_cannot_use_new_queries(demo) -> None:
    target = PredictionsTarget(_spec(demo.files["predictions"]), id_column="record_id",
                               classes=CLASSES)
    exposure = Exposure(outputs="label")
    signals = exposure.signals(2, arbitrary_queries=target.accepts_arbitrary_inputs)
    assert Signal.ARBITRARY_QUERIES not in signals and Signal.LABEL in signals


def test_missing_records_name_the_file_and_an_id(demo) -> None:
    target = PredictionsTarget(_spec(demo.files["predictions"]), id_column="record_id",
                               classes=CLASSES)
    ids = np.array(["P0000", "NOPE-1", "NOPE-2"])
    with pytest.raises(DataError) as info:
        target.raw_outputs(demo.audit[demo.features].iloc[:3], ids)
    message = str(info.value)
    assert "predictions.csv" in message and "2 of 3" in message and "'NOPE-1'" in message


def test_parquet_and_custom_id_column(demo, tmp_path) -> None:
    frame = pd.read_csv(demo.files["predictions"]).rename(columns={"record_id": "patient"})
    file = tmp_path / "outputs.parquet"
    frame.to_parquet(file)
    target = PredictionsTarget(_spec(file, id_column="patient"), id_column="record_id",
                               classes=CLASSES)
    X = demo.members[demo.features]
    raw = target.raw_outputs(X, demo.members["record_id"].to_numpy())
    np.testing.assert_array_equal(raw.probabilities, demo.model.predict_proba(X))


def test_column_problems_are_explained(demo, tmp_path) -> None:
    with pytest.raises(DataError, match=r"predictions.csv:1: missing column\(s\) 'p_other'"):
        spec = _spec(demo.files["predictions"], probability_columns=["p_benign", "p_other"])
        PredictionsTarget(spec, id_column="record_id", classes=CLASSES)
    with pytest.raises(TargetError, match="has 2 column"):
        PredictionsTarget(_spec(demo.files["predictions"]), id_column="record_id",
                          classes=["a", "b", "c"])
    with pytest.raises(TargetError, match="model.classes is needed"):
        PredictionsTarget(_spec(demo.files["predictions"]), id_column="record_id", classes=None)
    with pytest.raises(TargetError, match="names no output column"):
        PredictionsTarget(PredictionsSpec(file=demo.files["predictions"]), id_column="record_id",
                          classes=CLASSES)


def test_bad_rows_are_located(demo, tmp_path) -> None:
    frame = pd.read_csv(demo.files["predictions"])
    broken = frame.copy()
    broken.loc[4, "p_malignant"] = np.nan
    file = tmp_path / "broken.csv"
    broken.to_csv(file, index=False)
    with pytest.raises(DataError, match=r"broken.csv:6: p_malignant: probability is empty"):
        PredictionsTarget(_spec(file), id_column="record_id", classes=CLASSES)
    dup = pd.concat([frame, frame.iloc[[7]]], ignore_index=True)
    dup.to_csv(file, index=False)
    with pytest.raises(DataError, match=r"broken.csv:\d+: record_id: record ID 'P\d+' appears"):
        PredictionsTarget(_spec(file), id_column="record_id", classes=CLASSES)
    odd = frame.copy()
    odd.loc[2, "predicted"] = "unknown"
    odd.to_csv(file, index=False)
    with pytest.raises(DataError, match=r"broken.csv:4: predicted: predicted label"):
        PredictionsTarget(_spec(file), id_column="record_id", classes=CLASSES)


def test_label_only_file_infers_classes_with_a_warning(demo, tmp_path) -> None:
    frame = pd.read_csv(demo.files["predictions"])[["record_id", "predicted"]]
    file = tmp_path / "labels.csv"
    frame.to_csv(file, index=False)
    target = PredictionsTarget(PredictionsSpec(file=file, label_column="predicted"),
                               id_column="record_id", classes=None)
    assert target.classes.tolist() == CLASSES
    assert any("inferred" in w for w in target.assessment_warnings())
    raw = target.raw_outputs(demo.members[demo.features], demo.members["record_id"].to_numpy())
    assert raw.probabilities is None
    expected = demo.model.predict_proba(demo.members[demo.features]).argmax(axis=1)
    np.testing.assert_array_equal(raw.labels, expected)


def test_loss_column(demo, tmp_path) -> None:
    frame = pd.read_csv(demo.files["predictions"])
    truth = (frame["diagnosis"] == "malignant").astype(int).to_numpy()
    p_true = frame[COLUMNS].to_numpy()[np.arange(len(frame)), truth]
    frame["loss"] = -np.log(np.clip(p_true, 1e-12, 1))
    file = tmp_path / "loss.csv"
    frame.to_csv(file, index=False)
    target = PredictionsTarget(PredictionsSpec(file=file, loss_column="loss"),
                               id_column="record_id", classes=CLASSES)
    raw = target.raw_outputs(demo.members[demo.features], demo.members["record_id"].to_numpy())
    expected = frame.set_index("record_id").loc[demo.members["record_id"], "loss"].to_numpy()
    np.testing.assert_allclose(raw.loss, expected)
    assert raw.probabilities is None and raw.labels is None


def test_through_the_policy(demo, tmp_path, write_policy) -> None:
    model = {
        "format": "predictions",
        "classes": CLASSES,
        "predictions": {"file": str(demo.files["predictions"]), "probability_columns": COLUMNS,
                        "label_column": "predicted"},
    }
    target = open_target(load_policy(write_policy(tmp_path, model)))
    assert target.kind == "predictions" and not target.accepts_arbitrary_inputs

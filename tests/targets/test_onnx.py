"""ONNX target: models converted with skl2onnx in the test, run by onnxruntime."""

from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
onnx = pytest.importorskip("onnx")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from compliance_mia.errors import TargetError  # noqa: E402
from compliance_mia.runner import load_policy  # noqa: E402
from compliance_mia.targets import open_target  # noqa: E402
from compliance_mia.targets.onnx import OnnxTarget  # noqa: E402


def _save(model, sample, path, options=None):
    path.write_bytes(skl2onnx.to_onnx(model, sample, options=options).SerializeToString())
    return path


@pytest.fixture(scope="module")
def tensor_models(demo, tmp_path_factory):
    """The demo forest with ZipMap probabilities (skl2onnx default) and with a plain tensor."""
    out = tmp_path_factory.mktemp("onnx")
    sample = demo.members[demo.features].to_numpy(np.float32)[:1]
    zipmap = _save(demo.model, sample, out / "zipmap.onnx")
    plain = _save(demo.model, sample, out / "plain.onnx", {id(demo.model): {"zipmap": False}})
    return zipmap, plain


@pytest.mark.parametrize("variant", ["zipmap", "plain"])
def test_same_outputs_as_the_sklearn_model(demo, tensor_models, variant) -> None:
    path = tensor_models[0] if variant == "zipmap" else tensor_models[1]
    target = OnnxTarget(path)
    X = demo.audit[demo.features]
    raw = target.raw_outputs(X)
    expected = demo.model.predict_proba(X)
    np.testing.assert_allclose(raw.probabilities, expected, atol=1e-6)
    np.testing.assert_array_equal(raw.labels, expected.argmax(axis=1))
    assert target.classes.tolist() == ["benign", "malignant"]  # read from the graph
    assert target.estimator_template() is None  # a black box for reference models
    assert "TreeEnsembleClassifier" in target.estimator_name
    assert target.queries == len(X)


def test_one_input_per_column_with_strings(demo, tmp_path) -> None:
    """A mixed-type pipeline converted from a DataFrame: one named input per column."""
    frame = demo.members[demo.features[:4]].copy()
    frame["site"] = np.where(np.arange(len(frame)) % 3 == 0, "north", "south")
    y = demo.members["diagnosis"]
    numeric = demo.features[:4]
    model = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), numeric), ("cat", OneHotEncoder(), ["site"])]),
        LogisticRegression(max_iter=1000),
    ).fit(frame, y)
    sample = frame.iloc[:1].astype({c: np.float32 for c in numeric})
    target = OnnxTarget(_save(model, sample, tmp_path / "pipe.onnx"))
    assert target.input_names() == [*numeric, "site"]
    raw = target.raw_outputs(frame)
    np.testing.assert_allclose(raw.probabilities, model.predict_proba(frame), atol=1e-5)
    with pytest.raises(TargetError, match=r"one input per column.*'site'"):
        target.raw_outputs(frame.drop(columns="site"))


def test_wrong_number_of_features(demo, tensor_models) -> None:
    target = OnnxTarget(tensor_models[0])
    with pytest.raises(TargetError, match="expects 30 features"):
        target.raw_outputs(demo.members[demo.features[:10]])


def test_classes_from_policy_are_checked(demo, tensor_models) -> None:
    with pytest.raises(TargetError, match="does not match the classes stored"):
        OnnxTarget(tensor_models[0], classes=["malignant", "benign"])
    assert OnnxTarget(tensor_models[0], classes=["benign", "malignant"]).classes.tolist() == [
        "benign",
        "malignant",
    ]


def test_classes_from_metadata_or_the_policy_without_onnx(demo, tensor_models, tmp_path,
                                                          monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if only onnxruntime were installed
    with pytest.raises(TargetError, match="under model.classes"):
        OnnxTarget(tensor_models[1])
    assert OnnxTarget(tensor_models[1], classes=["benign", "malignant"]).classes.tolist() == [
        "benign",
        "malignant",
    ]
    monkeypatch.undo()
    model = onnx.load(str(tensor_models[1]))
    onnx.helper.set_model_props(model, {"classes": '["benign", "malignant"]'})
    tagged = tmp_path / "tagged.onnx"
    onnx.save(model, str(tagged))
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert OnnxTarget(tagged).classes.tolist() == ["benign", "malignant"]


def test_output_names_can_be_given(demo, tensor_models) -> None:
    names = {"probabilities_output": "probabilities", "label_output": "label"}
    target = OnnxTarget(tensor_models[1], **names)
    raw = target.raw_outputs(demo.members[demo.features].iloc[:10])
    assert raw.probabilities.shape == (10, 2)
    with pytest.raises(TargetError, match="'scores' is not an output.*label, probabilities"):
        OnnxTarget(tensor_models[1], probabilities_output="scores")


def test_missing_onnxruntime_is_a_clear_error(tensor_models, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(TargetError, match=r"pip install 'compliance-mia\[onnx\]'"):
        OnnxTarget(tensor_models[0])


def test_not_an_onnx_file(tmp_path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"definitely not protobuf")
    with pytest.raises(TargetError, match="not a loadable ONNX model"):
        OnnxTarget(bad)


def test_through_the_policy_with_a_surrogate(demo, tmp_path, write_policy) -> None:
    model = {
        "format": "onnx",
        "artifact": str(demo.files["onnx"]),
        "surrogate": {"class": "sklearn.ensemble.RandomForestClassifier",
                      "params": {"n_estimators": 5}},
    }
    target = open_target(load_policy(write_policy(tmp_path, model)))
    assert target.kind == "onnx" and target.estimator_template() is None
    surrogate = target.surrogate_estimator()
    assert type(surrogate).__name__ == "RandomForestClassifier" and surrogate.n_estimators == 5

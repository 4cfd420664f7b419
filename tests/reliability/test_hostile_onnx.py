"""An ONNX graph whose 'probabilities' are raw scores (exported without softmax) is refused, not used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from compliance_mia.errors import TargetError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

from compliance_mia.targets.onnx import OnnxTarget  # noqa: E402


def _graph(tmp_path: Path, *, softmax: bool) -> Path:
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])
    proba = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])
    if softmax:
        nodes = [helper.make_node("Softmax", ["X"], ["probabilities"], axis=1)]
    else:
        nodes = [helper.make_node("Identity", ["X"], ["probabilities"])]
    model = helper.make_model(
        helper.make_graph(nodes, "scores", [x], [proba]), opset_imports=[helper.make_opsetid("", 13)]
    )
    model.ir_version = 8
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    return path


X = pd.DataFrame({"a": [3.0, -1.0], "b": [0.5, 2.0]})


def test_scores_instead_of_probabilities_are_refused(tmp_path: Path) -> None:
    target = OnnxTarget(_graph(tmp_path, softmax=False), classes=["n", "y"])
    with pytest.raises(TargetError, match="model.onnx: output 'probabilities' for record 0 of the batch is outside"):
        target.raw_outputs(X, np.asarray(["r1", "r2"], dtype=object))


def test_softmax_outputs_are_accepted(tmp_path: Path) -> None:
    target = OnnxTarget(_graph(tmp_path, softmax=True), classes=["n", "y"])
    out = target.raw_outputs(X, np.asarray(["r1", "r2"], dtype=object))
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-6)

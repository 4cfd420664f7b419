"""ONNX models, run with onnxruntime.

A model exported to ONNX is a graph, not a Python object: loading it runs no
code from the file, but there is nothing to clone either, so the target is a
black box for reference models (name a surrogate in the policy for attacks
that need them).

Inputs are read from the model itself. Two layouts are supported, the two
skl2onnx produces: one tensor holding every feature in ``data.feature_columns``
order (``[records x features]``), or one input per column named like the
column (``[records x 1]`` each, as for a pipeline converted from a DataFrame
with mixed types). Each input is cast to the dtype the model declares.

Outputs: the probability output may be a ZipMap (one ``{class: probability}``
dict per record, skl2onnx's default) or a plain ``[records x classes]`` tensor
(skl2onnx's ``zipmap=False``); the label output is a tensor of class labels.
Both are found automatically, or named under ``model.onnx`` in the policy.

Classes, in output order, come from ``model.classes`` in the policy, else from
a ``classes`` entry in the model's metadata (a JSON list), else from the
classifier node's ``classlabels_*`` attribute (read with the ``onnx`` package).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from compliance_mia.errors import TargetError
from compliance_mia.targets.base import RawOutputs, Target, class_index, probability_problem
from compliance_mia.text import without_quoted

log = logging.getLogger(__name__)

__all__ = ["OnnxTarget"]

_DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}
_BATCH = 20_000  # rows per session.run: bounds memory on large audits


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise TargetError(
            "model.format 'onnx' needs onnxruntime, which is not installed; "
            "install it with: pip install 'compliance-mia[onnx]'"
        ) from None
    return onnxruntime


def _graph_info(path: Path) -> tuple[list[Any] | None, str | None, str | None]:
    """Class labels, main operator and producer read from the graph (needs the ``onnx`` package)."""
    try:
        import onnx
    except ImportError:
        return None, None, None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # unreadable by this onnx version: fall back to the policy
        return None, None, None
    labels: list[Any] | None = None
    main_op: str | None = None
    for node in model.graph.node:
        if node.op_type.endswith("Classifier") and main_op is None:
            main_op = node.op_type
        for attr in node.attribute:
            if labels is None and attr.name == "classlabels_int64s" and len(attr.ints):
                labels = [int(v) for v in attr.ints]
            elif labels is None and attr.name == "classlabels_strings" and len(attr.strings):
                labels = [v.decode("utf-8") for v in attr.strings]
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p) or None
    return labels, main_op, producer


def _metadata_classes(meta: dict[str, str]) -> list[Any] | None:
    raw = meta.get("classes")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = [part.strip() for part in raw.split(",") if part.strip()]
    return list(value) if isinstance(value, list) and value else None


class OnnxTarget(Target):
    """An ONNX classifier run in process by onnxruntime (a black box for reference models)."""

    kind = "onnx"

    def __init__(
        self,
        path: Path,
        *,
        classes: list | None = None,
        probabilities_output: str | None = None,
        label_output: str | None = None,
    ) -> None:
        super().__init__()
        ort = _onnxruntime()
        self.path = Path(path)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only; onnxruntime otherwise writes to stderr
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise TargetError(
                f"{self.path.name}: not a loadable ONNX model ({type(exc).__name__}: {exc})"
            ) from None
        self._inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        names = [o.name for o in outputs]
        self._proba_name = self._pick_output(outputs, probabilities_output, "probabilities_output")
        self._label_name = self._pick_output(outputs, label_output, "label_output")
        if self._proba_name is None and self._label_name is None:
            raise TargetError(
                f"{self.path.name}: cannot tell which output holds probabilities or labels "
                f"(outputs: {', '.join(names)}); name them under model.onnx.probabilities_output "
                "or model.onnx.label_output"
            )
        meta = self._session.get_modelmeta()
        graph_labels, self._main_op, producer = _graph_info(self.path)
        self._producer = producer or meta.producer_name or None
        found = _metadata_classes(dict(meta.custom_metadata_map)) or graph_labels
        if classes is not None:
            if found is not None and [str(c) for c in found] != [str(c) for c in classes]:
                raise TargetError(
                    f"model.classes in the policy ({', '.join(map(str, classes))}) does not match "
                    f"the classes stored in {self.path.name} ({', '.join(map(str, found))})"
                )
            found = list(classes)
        if found is None:
            raise TargetError(
                f"{self.path.name}: the class labels cannot be read from the model; list them, in "
                "the order of the model's probability outputs, under model.classes in the policy"
            )
        self._classes = np.asarray(found)
        log.debug(
            "onnx model %s: inputs %s, probability output %s, label output %s",
            self.path.name, [i.name for i in self._inputs], self._proba_name, self._label_name,
        )

    # ------------------------------------------------------------- discovery
    def _pick_output(self, outputs: list, wanted: str | None, field: str) -> str | None:
        names = [o.name for o in outputs]
        if wanted is not None:
            if wanted not in names:
                raise TargetError(
                    f"model.onnx.{field} '{wanted}' is not an output of {self.path.name}; "
                    f"its outputs are {', '.join(names)}"
                )
            return wanted
        for out in outputs:
            rank = len(out.shape) if out.shape is not None else None
            if field == "probabilities_output":
                if out.type.startswith("seq(map(") or (
                    out.type in ("tensor(float)", "tensor(double)") and rank == 2
                ):
                    return out.name
            elif out.type.startswith("tensor(") and rank == 1:
                return out.name
        return None

    # ------------------------------------------------------------ properties
    @property
    def classes(self) -> np.ndarray:
        return self._classes

    @property
    def estimator_name(self) -> str:
        parts = [p for p in (self._producer, self._main_op) if p]
        return "ONNX model" + (f" ({': '.join(parts)})" if parts else "")

    @property
    def feature_names(self) -> list[str] | None:
        """One input per feature column (skl2onnx's per-column export): their names, in graph order."""
        return self.input_names() if len(self._inputs) > 1 else None

    def input_names(self) -> list[str]:
        """Names of the model's inputs, in the model's order."""
        return [i.name for i in self._inputs]

    # --------------------------------------------------------------- queries
    def _feeds(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        columns = [str(c) for c in X.columns]
        if len(self._inputs) == 1 and not (X.shape[1] == 1 and self._inputs[0].name == columns[0]):
            spec = self._inputs[0]
            width = spec.shape[-1] if spec.shape else None
            if isinstance(width, int) and width != X.shape[1]:
                raise TargetError(
                    f"{self.path.name} expects {width} features in input '{spec.name}', but "
                    f"{X.shape[1]} feature column(s) were given; set data.feature_columns to the "
                    "model's inputs, in model order"
                )
            return {spec.name: self._cast(X, spec)}
        missing = [i.name for i in self._inputs if i.name not in columns]
        if missing:
            raise TargetError(
                f"{self.path.name} takes one input per column and the data has no column(s) "
                f"{', '.join(repr(m) for m in missing)}; the data's feature columns are "
                f"{', '.join(repr(c) for c in columns)}"
            )
        by_name = {str(c): c for c in X.columns}
        return {i.name: self._cast(X[[by_name[i.name]]], i) for i in self._inputs}

    def _cast(self, frame: pd.DataFrame, spec: Any) -> np.ndarray:
        dtype = _DTYPES.get(spec.type)
        if dtype is None:
            raise TargetError(
                f"{self.path.name}: input '{spec.name}' has unsupported type {spec.type}"
            )
        try:
            if dtype is object:
                return frame.astype(str).to_numpy(dtype=object)
            return frame.to_numpy(dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TargetError(
                f"{self.path.name}: column(s) {', '.join(map(str, frame.columns[:5]))} cannot be "
                f"converted to {spec.type} for input '{spec.name}' ({without_quoted(str(exc))})"
            ) from None

    def _probabilities(self, value: Any) -> np.ndarray:
        proba = self._probability_matrix(value)
        bad = probability_problem(proba)
        if bad is not None:
            row, why = bad
            raise TargetError(
                f"{self.path.name}: output '{self._proba_name}' for record {row} of the batch {why}; it must hold "
                "probabilities (finite, in [0, 1], summing to 1). A graph exported without its final softmax "
                "returns scores instead; export it with probabilities, or name the right output under model.onnx"
            )
        return proba

    def _probability_matrix(self, value: Any) -> np.ndarray:
        if isinstance(value, list):  # ZipMap: one {class: probability} dict per record
            position = {str(c): i for i, c in enumerate(self._classes.tolist())}
            out = np.zeros((len(value), len(position)), dtype=float)
            for row, mapping in enumerate(value):
                for key, prob in mapping.items():
                    col = position.get(str(key))
                    if col is None:
                        raise TargetError(
                            f"{self.path.name} returned a probability for class {key!r}, which is "
                            f"not in the classes {', '.join(map(str, self._classes.tolist()))}"
                        )
                    out[row, col] = prob
            return out
        proba = np.asarray(value, dtype=float)
        if proba.ndim != 2 or proba.shape[1] != len(self._classes):
            raise TargetError(
                f"{self.path.name}: probability output has shape {proba.shape}, expected one "
                f"column per class ({len(self._classes)})"
            )
        return proba

    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        wanted = [n for n in (self._proba_name, self._label_name) if n is not None]
        probas: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        for start in range(0, len(X), _BATCH):
            feeds = self._feeds(X.iloc[start : start + _BATCH])
            try:
                results = dict(zip(wanted, self._session.run(wanted, feeds), strict=True))
            except Exception as exc:
                raise TargetError(
                    f"{self.path.name}: onnxruntime could not score the records "
                    f"({type(exc).__name__}: {without_quoted(str(exc))})"
                ) from None
            if self._proba_name is not None:
                probas.append(self._probabilities(results[self._proba_name]))
            if self._label_name is not None:
                raw_labels = np.asarray(results[self._label_name]).reshape(-1)
                idx = class_index(self._classes, raw_labels)
                if (idx < 0).any():
                    raise TargetError(
                        f"{self.path.name} predicted a label that is not one of the classes "
                        f"{', '.join(map(str, self._classes.tolist()))}"
                    )
                labels.append(idx)
        proba = np.concatenate(probas) if probas else None
        label_idx = np.concatenate(labels) if labels else None
        if proba is None and label_idx is None:  # empty X
            proba = np.zeros((0, len(self._classes)))
        if label_idx is None and proba is not None:
            label_idx = proba.argmax(axis=1)
        return RawOutputs(probabilities=proba, labels=label_idx)

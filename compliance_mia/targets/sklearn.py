"""scikit-learn models from a file: skops (safe) or pickle/joblib (only when allowed).

skops loads a model by reconstructing known types instead of executing code
from the file. Types outside scikit-learn, numpy and scipy must be trusted
explicitly in the policy; anything the file asks for beyond that is refused
with the list of types, so the analyst can decide. Pickle and joblib run
arbitrary code on load and are refused unless the policy sets
``allow_unsafe_pickle``; when allowed, the assessment records a warning.
"""

from __future__ import annotations

import importlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from compliance_mia.errors import TargetError, UnsafeModelError
from compliance_mia.targets.base import RawOutputs, Target, class_index
from compliance_mia.text import without_quoted

if TYPE_CHECKING:  # scikit-learn and pandas cost a second to import: only a loaded model needs them
    import pandas as pd
    from sklearn.base import BaseEstimator

log = logging.getLogger(__name__)

#: packages whose estimator/data classes (never functions) are trusted without a policy entry
_TRUSTED_PACKAGES = frozenset({"sklearn", "numpy", "scipy", "xgboost", "lightgbm"})


def _is_trusted_class(name: str) -> bool:
    """True when ``name`` is a known-harmless class from an installed trusted package.

    Functions are never trusted automatically: a skops file can store a
    function (e.g. ``builtins.eval`` as a FunctionTransformer's ``func``) that
    the model would call on every prediction. Trusted without asking are
    classes of scikit-learn, XGBoost and LightGBM (estimators and their
    internal state such as a tree or an optimiser), NumPy dtypes, scalars and
    arrays (not memory-mapped files), and SciPy sparse matrices. They are
    looked up in the installed package, never taken from the file.
    """
    module_name, _, attr = name.rpartition(".")
    root = module_name.split(".")[0]
    if not module_name or root not in _TRUSTED_PACKAGES:
        return False
    try:
        module = importlib.import_module(module_name)
    except Exception:  # not installed, or not a module path
        return False
    obj = getattr(module, attr, None)
    if not isinstance(obj, type) or obj.__module__.split(".")[0] != root:
        return False
    if root in ("sklearn", "xgboost", "lightgbm"):
        return True
    if root == "numpy":
        array_like = issubclass(obj, (np.dtype, np.generic, np.ndarray))
        return array_like and not issubclass(obj, np.memmap)
    from scipy import sparse

    return issubclass(obj, (sparse.spmatrix, sparse.sparray))


def untrusted_types(path: Path, trusted: list[str] | None = None) -> list[str]:
    """Types in the skops file at ``path`` that would be refused (sorted).

    skops already trusts the scikit-learn estimators and NumPy/SciPy basics it
    knows; on top of that, classes from :data:`_TRUSTED_PACKAGES` and the
    names in ``trusted`` are accepted. Everything else is refused.
    """
    import skops.io as sio

    try:
        found = sio.get_untrusted_types(file=path)
    except Exception as exc:  # corrupt or not skops (a pickle renamed .skops lands here, unread)
        raise TargetError(
            f"{path.name}: not a readable skops file ({type(exc).__name__}: {exc})"
        ) from None
    extra = set(trusted or [])
    return sorted(t for t in found if t not in extra and not _is_trusted_class(t))


def load_skops(path: Path, trusted: list[str] | None = None) -> BaseEstimator:
    """Load a skops file, trusting only well-known classes plus the names in ``trusted``.

    Raises
    ------
    UnsafeModelError
        When the file holds types that are neither known-safe nor listed in
        ``trusted``; the message lists them so the analyst can decide.
    TargetError
        When the file is not a readable skops file.
    """
    import skops.io as sio

    refused = untrusted_types(path, trusted)
    if refused:
        raise UnsafeModelError(
            f"{path.name}: the model file contains type(s) that are not trusted: "
            f"{', '.join(refused)}. Loading them could run code when the model is used. If you "
            "know what they are and trust them, list them under model.trusted_types in the policy."
        )
    try:
        accepted = sio.get_untrusted_types(file=path)
        model = sio.load(path, trusted=list(accepted))
    except Exception as exc:
        raise TargetError(
            f"{path.name}: cannot load skops model ({type(exc).__name__}: {exc})"
        ) from None
    log.debug("loaded skops model %s (%s)", path.name, type(model).__name__)
    return model


def load_pickle(path: Path, *, allow_unsafe: bool = False) -> BaseEstimator:
    """Load a pickle/joblib file; this executes code from the file.

    ``allow_unsafe`` must carry the policy's ``model.allow_unsafe_pickle``
    consent: the schema already refuses a pickle format without it, and this
    check keeps a policy built in code from bypassing that.
    """
    if not allow_unsafe:
        raise UnsafeModelError(
            f"{path.name}: pickle/joblib files execute code when loaded and the policy does not "
            "allow it; save the model with skops, or set model.allow_unsafe_pickle: true if you "
            "trust the file"
        )
    import joblib

    log.warning("unpickling %s: executes code from the file (allowed by the policy)", path.name)
    try:
        return joblib.load(path)  # noqa: S301 - gated by allow_unsafe_pickle
    except Exception as exc:
        raise TargetError(
            f"{path.name}: cannot load pickled model ({type(exc).__name__}: {exc})"
        ) from None


def _check_declared_classes(declared: list | None, actual: np.ndarray) -> None:
    """Refuse a policy whose ``model.classes`` differ from the model's, in output order."""
    if declared is None:
        return
    said = [str(c) for c in declared]
    has = [str(c) for c in actual.tolist()]
    if said != has:
        raise TargetError(
            f"model.classes in the policy ({', '.join(said)}) does not match the "
            f"model's classes ({', '.join(has)}) in output order"
        )


class SklearnTarget(Target):
    """A fitted scikit-learn compatible classifier held in process.

    Works for any estimator with the scikit-learn classifier API: plain
    estimators, Pipelines (fed the DataFrame, so column names reach a
    ColumnTransformer), and XGBoost/LightGBM's sklearn wrappers when installed.
    """

    kind = "sklearn"

    def __init__(self, estimator: BaseEstimator, *, kind: str = "sklearn", unsafe: bool = False,
                 classes: list | None = None) -> None:
        from compliance_mia.estimators import single_threaded

        super().__init__()
        if not hasattr(estimator, "predict_proba") and not hasattr(estimator, "predict"):
            raise TargetError(f"{type(estimator).__name__} has neither predict_proba nor predict")
        self.estimator = single_threaded(estimator)  # bit-reproducible predictions
        self.kind = kind
        self._unsafe = unsafe
        model_classes = getattr(estimator, "classes_", None)
        if model_classes is None:
            raise TargetError(
                f"{type(estimator).__name__} is not a fitted classifier (it has no classes_); "
                "assess the trained model, not the untrained estimator"
            )
        self._classes = np.asarray(model_classes)
        _check_declared_classes(classes, self._classes)

    @property
    def classes(self) -> np.ndarray:
        return self._classes

    @property
    def estimator_name(self) -> str:
        est = self.estimator
        if hasattr(est, "steps"):
            return "Pipeline(" + " → ".join(type(step).__name__ for _, step in est.steps) + ")"
        return type(est).__name__

    @property
    def unsafe_load(self) -> bool:
        return self._unsafe

    @property
    def feature_names(self) -> list[str] | None:
        names = getattr(self.estimator, "feature_names_in_", None)  # Pipelines expose their first step's
        return [str(n) for n in names] if names is not None else None

    def estimator_template(self) -> BaseEstimator | None:
        from sklearn.base import clone

        try:
            return clone(self.estimator)
        except Exception:  # estimators that do not follow the sklearn API
            log.warning("cannot clone %s; reference models need a surrogate", self.estimator_name)
            return None

    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        est = self.estimator
        try:
            if hasattr(est, "predict_proba"):
                proba = np.asarray(est.predict_proba(X), dtype=float)
            else:
                proba = None
                pred = np.asarray(est.predict(X))
        except Exception as exc:  # wrong columns, dtypes the model was not trained on...
            raise TargetError(
                f"{self.estimator_name} cannot score the audit records "
                f"({type(exc).__name__}: {without_quoted(str(exc))}); check data.feature_columns are the model inputs"
            ) from None
        if proba is not None:
            if proba.ndim != 2 or proba.shape[1] != len(self._classes):
                raise TargetError(
                    f"{self.estimator_name}.predict_proba returned shape {proba.shape}, expected "
                    f"({len(X)}, {len(self._classes)}), one column per class"
                )
            return RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))
        idx = class_index(self._classes, pred)
        if (idx < 0).any():
            raise TargetError(
                f"{self.estimator_name}.predict returned a label that is not one of its classes_"
            )
        return RawOutputs(labels=idx)


# ======================================================== outline without loading
#: skops node loaders whose content is plain data (no code, no import of a class from the file)
_PLAIN_LOADERS = frozenset({"DictNode", "JsonNode", "ListNode", "TupleNode", "NdArrayNode", "SliceNode", "TypeNode"})


@dataclass(frozen=True)
class SkopsOutline:
    """What ``compliance-mia plan`` needs of a skops model, read from the file's schema only.

    ``classes`` and ``feature_names`` are built exactly as loading the model
    and asking it would give them (``classes_`` of the final estimator, the
    first step's ``feature_names_in_``); ``estimator_name`` as
    :attr:`SklearnTarget.estimator_name` writes it.
    """

    classes: np.ndarray
    feature_names: list[str] | None
    estimator_name: str


class _NotPlain(Exception):
    """The schema holds something the outline does not read; load the model instead."""


def skops_outline(path: Path) -> SkopsOutline | None:
    """The class list, feature names and estimator name of a skops file, without unpickling it.

    Loading a skops model imports scikit-learn, SciPy and skops' registry of
    trusted types (seconds), while ``plan`` needs only these three facts. They
    are read from the file's ``schema.json`` (and its ``.npy`` members, with
    ``allow_pickle=False``). Only the plainest files are read this way: every
    object must be a scikit-learn class and every other node plain data (no
    functions, methods, sparse matrices or classes from other packages), a
    Pipeline must be flat with estimator steps, and the classifier must hold
    ``classes_``. Anything else returns None, and the caller loads the model
    the usual way, with its checks and located errors.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
            _check_plain(schema)
            return _outline(schema, archive)
    except (_NotPlain, OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, json.JSONDecodeError):
        return None


def _check_plain(node: Any) -> None:
    """Raise :class:`_NotPlain` unless every node is plain data or a scikit-learn object."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        loader = item.get("__loader__")
        if loader is not None:
            module = str(item.get("__module__", ""))
            if loader in ("ObjectNode", "TreeNode"):
                if module.split(".")[0] != "sklearn":
                    raise _NotPlain(module)
            elif loader not in _PLAIN_LOADERS:
                raise _NotPlain(loader)
            elif loader == "TypeNode" and module not in ("builtins", "numpy"):
                raise _NotPlain(module)
        stack.extend(v for k, v in item.items() if k != "__loader__")


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    """The attribute dict of an ObjectNode (skops stores ``__dict__`` as a DictNode)."""
    if node.get("__loader__") != "ObjectNode":
        raise _NotPlain("not an object")
    state = node["content"]
    if state.get("__loader__") != "DictNode":
        raise _NotPlain("object state is not a dict")
    return state["content"]


def _json_value(node: dict[str, Any]) -> Any:
    if node.get("__loader__") != "JsonNode":
        raise _NotPlain("not a JSON value")
    return json.loads(node["content"])


def _array(node: dict[str, Any], archive: zipfile.ZipFile) -> np.ndarray:
    """An NdArrayNode as skops builds it: ``.npy`` arrays as stored, JSON arrays as 1-D object arrays."""
    kind = (node.get("__loader__"), node.get("__module__"), node.get("__class__"))
    if kind != ("NdArrayNode", "numpy", "ndarray"):
        raise _NotPlain("not an ndarray")
    if node["type"] == "numpy":
        with archive.open(node["file"]) as handle:
            return np.load(handle, allow_pickle=False)
    if node["type"] == "json":
        items = [_json_value(item) for item in node["content"]]
        shape = node["shape"]
        if shape.get("__loader__") != "TupleNode" or [_json_value(n) for n in shape["content"]] != [len(items)]:
            raise _NotPlain("not a 1-D array")
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out
    raise _NotPlain(str(node["type"]))


def _outline(schema: dict[str, Any], archive: zipfile.ZipFile) -> SkopsOutline:
    top = _attrs(schema)
    if schema.get("__class__") == "Pipeline" and schema.get("__module__") == "sklearn.pipeline":
        steps_node = top["steps"]
        if steps_node.get("__loader__") != "ListNode":
            raise _NotPlain("steps")
        steps = []
        for step in steps_node["content"]:
            if step.get("__loader__") != "TupleNode" or len(step["content"]) != 2:
                raise _NotPlain("step")
            estimator = step["content"][1]
            if estimator.get("__loader__") != "ObjectNode" or estimator.get("__class__") == "Pipeline":
                raise _NotPlain("a step that is not a plain estimator")  # passthrough, None, nested Pipeline
            steps.append(estimator)
        if not steps:
            raise _NotPlain("empty Pipeline")
        name = "Pipeline(" + " → ".join(str(step["__class__"]) for step in steps) + ")"
        first, last = _attrs(steps[0]), _attrs(steps[-1])
    else:
        name = str(schema["__class__"])
        first = last = top
    if "classes_" not in last:
        raise _NotPlain("no classes_")  # unfitted or not a classifier: loading says so, located
    classes = _array(last["classes_"], archive)
    names = first.get("feature_names_in_")
    feature_names = [str(n) for n in _array(names, archive)] if names is not None else None
    return SkopsOutline(classes=np.asarray(classes), feature_names=feature_names, estimator_name=name)


class OutlinedSkopsTarget(Target):
    """A skops model known only by its :class:`SkopsOutline`: enough to plan, never queried.

    ``compliance-mia plan`` needs the class list (what the exposure reveals,
    the label check), the feature order and the estimator's name; this target
    gives exactly what :class:`SklearnTarget` would give for them, and refuses
    any query.
    """

    kind = "skops"

    def __init__(self, outline: SkopsOutline, *, classes: list | None = None) -> None:
        super().__init__()
        self.outline = outline
        _check_declared_classes(classes, outline.classes)

    @property
    def classes(self) -> np.ndarray:
        return self.outline.classes

    @property
    def estimator_name(self) -> str:
        return self.outline.estimator_name

    @property
    def feature_names(self) -> list[str] | None:
        return self.outline.feature_names

    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        raise TargetError("the model was outlined for planning, not loaded; it cannot be queried")

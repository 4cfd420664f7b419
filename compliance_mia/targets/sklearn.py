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
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from compliance_mia.errors import TargetError, UnsafeModelError
from compliance_mia.estimators import single_threaded
from compliance_mia.targets.base import RawOutputs, Target, class_index
from compliance_mia.text import without_quoted

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


class SklearnTarget(Target):
    """A fitted scikit-learn compatible classifier held in process.

    Works for any estimator with the scikit-learn classifier API: plain
    estimators, Pipelines (fed the DataFrame, so column names reach a
    ColumnTransformer), and XGBoost/LightGBM's sklearn wrappers when installed.
    """

    kind = "sklearn"

    def __init__(self, estimator: BaseEstimator, *, kind: str = "sklearn", unsafe: bool = False,
                 classes: list | None = None) -> None:
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
        if classes is not None:
            declared = [str(c) for c in classes]
            actual = [str(c) for c in self._classes.tolist()]
            if declared != actual:
                raise TargetError(
                    f"model.classes in the policy ({', '.join(declared)}) does not match the "
                    f"model's classes ({', '.join(actual)}) in output order"
                )

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

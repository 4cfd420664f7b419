"""scikit-learn models from a file: skops (safe) or pickle/joblib (only when allowed).

skops loads a model by reconstructing known types instead of executing code
from the file. Types outside scikit-learn, numpy and scipy must be trusted
explicitly in the policy; anything the file asks for beyond that is refused
with the list of types, so the analyst can decide. Pickle and joblib run
arbitrary code on load and are refused unless the policy sets
``allow_unsafe_pickle``; when allowed, the assessment records a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from compliance_mia.errors import TargetError, UnsafeModelError
from compliance_mia.targets.base import RawOutputs, Target

log = logging.getLogger(__name__)

_SAFE_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.", "xgboost.", "lightgbm.")


def load_skops(path: Path, trusted: list[str] | None = None) -> BaseEstimator:
    """Load a skops file, trusting only well-known types plus ``trusted``."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # corrupt or non-skops file
        raise TargetError(f"{path.name}: not a readable skops file ({exc})") from None
    extra = set(trusted or [])
    refused = [t for t in untrusted if t not in extra and not t.startswith(_SAFE_PREFIXES)]
    if refused:
        raise UnsafeModelError(
            f"{path.name}: the model file contains type(s) that are not trusted: {', '.join(sorted(refused))}. "
            "If you trust them, list them under model.trusted_types in the policy."
        )
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise TargetError(f"{path.name}: cannot load skops model ({exc})") from None


def load_pickle(path: Path) -> BaseEstimator:
    """Load a pickle/joblib file. Executes code from the file: callers must have the policy's consent."""
    import joblib

    try:
        return joblib.load(path)  # noqa: S301 - gated by allow_unsafe_pickle
    except Exception as exc:
        raise TargetError(f"{path.name}: cannot load pickled model ({exc})") from None


class SklearnTarget(Target):
    """A fitted scikit-learn compatible classifier held in process."""

    kind = "sklearn"

    def __init__(self, estimator: BaseEstimator, *, kind: str = "sklearn", unsafe: bool = False,
                 classes: list | None = None) -> None:
        super().__init__()
        if not hasattr(estimator, "predict_proba") and not hasattr(estimator, "predict"):
            raise TargetError(f"{type(estimator).__name__} has neither predict_proba nor predict")
        self.estimator = estimator
        self.kind = kind
        self._unsafe = unsafe
        model_classes = getattr(estimator, "classes_", None)
        if model_classes is None:
            raise TargetError(f"{type(estimator).__name__} is not fitted (no classes_)")
        self._classes = np.asarray(model_classes)
        if classes is not None:
            declared = [str(c) for c in classes]
            actual = [str(c) for c in self._classes.tolist()]
            if declared != actual:
                raise TargetError(
                    f"model.classes in the policy ({', '.join(declared)}) does not match the model's classes "
                    f"({', '.join(actual)}) in output order"
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

    def estimator_template(self) -> BaseEstimator | None:
        try:
            return clone(self.estimator)
        except Exception:  # estimators that do not follow the sklearn API
            log.warning("cannot clone %s; reference models need a surrogate", self.estimator_name)
            return None

    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        est = self.estimator
        if hasattr(est, "predict_proba"):
            proba = np.asarray(est.predict_proba(X), dtype=float)
            return RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))
        pred = np.asarray(est.predict(X))
        idx = np.searchsorted(self._classes, pred)
        return RawOutputs(labels=idx)

"""Surrogate estimators: stand-ins for a model that cannot be cloned.

Attacks that calibrate with reference models need to train models "like the
target". When the target is a black box (an ONNX graph, an HTTP endpoint, a
file of predictions) there is nothing to clone, so the policy names a
surrogate (``model.surrogate``: class path and parameters) and the report
says the reference models are surrogates: their figures are only as good as
the surrogate's resemblance to the real model.

Naming a class in a policy imports its module. Only classes that follow the
scikit-learn estimator API (``fit``, ``predict_proba`` or ``predict``,
``get_params``) are accepted; anything else is refused with a clear message.
"""

from __future__ import annotations

import importlib
import inspect
import logging

from sklearn.base import BaseEstimator

from compliance_mia.errors import TargetError
from compliance_mia.policy.schema import EstimatorSpec

log = logging.getLogger(__name__)

__all__ = ["estimator_from_spec", "import_estimator_class"]


def import_estimator_class(class_path: str) -> type:
    """Import ``class_path`` (``package.module.Class``); check it is a scikit-learn estimator.

    Raises
    ------
    TargetError
        When the module or class cannot be imported, or the object is not a
        class with ``fit``, ``get_params`` and ``predict_proba``/``predict``.
    """
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise TargetError(
            f"'{class_path}' is not an import path like sklearn.ensemble.RandomForestClassifier"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetError(
            f"cannot import module '{module_name}' for estimator '{class_path}' ({exc}); "
            "is the package installed in this environment?"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise TargetError(f"module '{module_name}' has no class '{class_name}' ('{class_path}')")
    if not inspect.isclass(cls):
        raise TargetError(
            f"'{class_path}' is not a class; name an estimator class such as "
            "sklearn.ensemble.RandomForestClassifier"
        )
    missing = [name for name in ("fit", "get_params") if not callable(getattr(cls, name, None))]
    predicts = any(callable(getattr(cls, name, None)) for name in ("predict_proba", "predict"))
    if not predicts:
        missing.append("predict_proba or predict")
    if missing:
        raise TargetError(
            f"'{class_path}' does not follow the scikit-learn estimator API (missing "
            f"{', '.join(missing)}); a surrogate must be a classifier with fit, predict_proba "
            "and get_params"
        )
    return cls


def estimator_from_spec(spec: EstimatorSpec) -> BaseEstimator:
    """An unfitted estimator built from a policy's ``class`` + ``params``.

    Delegates to :func:`compliance_mia.reference.estimator_from_spec` when that
    module provides it, so reference models and surrogates are built the same
    way; otherwise imports the class itself with the checks of
    :func:`import_estimator_class`.
    """
    try:
        from compliance_mia import reference
    except ImportError:
        reference = None  # type: ignore[assignment]
    builder = getattr(reference, "estimator_from_spec", None) if reference is not None else None
    if builder is not None:
        return builder(spec)
    cls = import_estimator_class(spec.class_path)
    try:
        return cls(**spec.params)
    except TypeError as exc:
        accepted = ""
        try:
            names = inspect.signature(cls).parameters
            params = [p for p in names if p not in ("self", "args", "kwargs")]
            accepted = f"; accepted parameters: {', '.join(params)}"
        except (TypeError, ValueError):
            pass
        raise TargetError(
            f"cannot create {spec.class_path} with the given params ({exc}){accepted}"
        ) from None

"""Estimators named in a policy by import path: surrogates, reference-model overrides, recipes.

Naming a class in a policy imports its module, so only classes that follow
the scikit-learn estimator API (``fit``, ``get_params``, ``predict_proba`` or
``predict``) are accepted; anything else is refused with a message saying
what would be. This is the one place such classes are imported.
"""

from __future__ import annotations

import importlib
import inspect

from sklearn.base import BaseEstimator

from compliance_mia.errors import PolicyError
from compliance_mia.policy.schema import EstimatorSpec

__all__ = ["estimator_from_spec", "import_estimator_class", "single_threaded"]


def import_estimator_class(class_path: str) -> type:
    """Import ``class_path`` (``package.module.Class``) and check it is a scikit-learn estimator."""
    module_name, _, class_name = class_path.rpartition(".")
    if not module_name or not class_name:
        raise PolicyError(f"'{class_path}' is not an import path like sklearn.ensemble.RandomForestClassifier")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PolicyError(
            f"cannot import module '{module_name}' for estimator '{class_path}' ({exc}); "
            "is the package installed in this environment?"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise PolicyError(f"module '{module_name}' has no class '{class_name}' ('{class_path}')")
    if not inspect.isclass(cls):
        raise PolicyError(
            f"'{class_path}' is not a class; name an estimator class such as sklearn.ensemble.RandomForestClassifier"
        )
    missing = [name for name in ("fit", "get_params", "set_params") if not callable(getattr(cls, name, None))]
    if not any(callable(getattr(cls, name, None)) for name in ("predict_proba", "predict")):
        missing.append("predict_proba or predict")
    if missing:
        raise PolicyError(
            f"'{class_path}' does not follow the scikit-learn estimator API (missing {', '.join(missing)}); "
            "name a classifier with fit, predict_proba and get_params, e.g. sklearn.ensemble.RandomForestClassifier"
        )
    return cls


def estimator_from_spec(spec: EstimatorSpec) -> BaseEstimator:
    """An unfitted estimator from a policy's ``class`` and ``params``."""
    cls = import_estimator_class(spec.class_path)
    try:
        return cls(**spec.params)
    except TypeError as exc:
        accepted = ""
        try:
            names = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
            accepted = f"; accepted parameters: {', '.join(names)}"
        except (TypeError, ValueError):
            pass
        raise PolicyError(f"cannot create {spec.class_path}: invalid parameters ({exc}){accepted}") from None


def single_threaded(estimator: BaseEstimator) -> BaseEstimator:
    """Set every ``n_jobs`` of ``estimator`` (also inside Pipelines) to 1, in place; return it.

    Ensembles that predict with several threads (e.g. a random forest with
    ``n_jobs=-1``) add their members' outputs in thread-completion order, so
    probabilities differ in the last bits from run to run and near-ties break
    differently: an assessment would not give the same numbers twice. The
    assessment's own parallelism is across reference models, through joblib.
    """
    try:
        params = estimator.get_params(deep=True)
    except Exception:  # noqa: BLE001 - not every sklearn-like estimator implements get_params fully
        return estimator
    jobs = {k: 1 for k, v in params.items() if (k == "n_jobs" or k.endswith("__n_jobs")) and v not in (None, 1)}
    if jobs:
        estimator.set_params(**jobs)
    return estimator

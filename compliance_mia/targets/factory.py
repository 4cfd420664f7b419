"""Choose and open the adapter the policy names.

``model.format`` picks the adapter; each adapter's module is imported only
when needed, so optional dependencies (onnxruntime) are only required by the
policies that use them. The policy's surrogate estimator, if any, is attached
to every target (:meth:`Target.surrogate_estimator`).
"""

from __future__ import annotations

import logging

from compliance_mia.errors import TargetError, UnsafeModelError
from compliance_mia.policy.schema import Policy
from compliance_mia.targets.base import Target

log = logging.getLogger(__name__)


def open_target(policy: Policy) -> Target:
    """Open the model under assessment as the policy describes it.

    Raises
    ------
    TargetError
        The model cannot be loaded or reached as described (the message says
        which policy field to change).
    UnsafeModelError
        A pickle/joblib artifact without ``model.allow_unsafe_pickle``, or a
        skops file holding types nobody trusted.
    compliance_mia.errors.DataError
        A predictions file that cannot be read or lacks the named columns.
    """
    target = _open(policy)
    target.surrogate_spec = policy.model.surrogate
    log.info("model reached as %s: %s", target.kind, target.estimator_name)
    return target


def _open(policy: Policy) -> Target:
    spec = policy.model
    if spec.format == "skops":
        from compliance_mia.targets.sklearn import SklearnTarget, load_skops

        assert spec.artifact is not None
        model = load_skops(spec.artifact, spec.trusted_types)
        return SklearnTarget(model, kind="skops", classes=spec.classes)
    if spec.format in ("pickle", "joblib"):
        from compliance_mia.targets.sklearn import SklearnTarget, load_pickle

        assert spec.artifact is not None
        if not spec.allow_unsafe_pickle:  # the schema refuses this too; never rely on one check
            raise UnsafeModelError(
                f"model.format '{spec.format}' executes code from the file when loaded; save the "
                "model with skops, or set model.allow_unsafe_pickle: true if you trust the file"
            )
        model = load_pickle(spec.artifact, allow_unsafe=True)
        return SklearnTarget(model, kind=spec.format, unsafe=True, classes=spec.classes)
    if spec.format == "onnx":
        from compliance_mia.targets.onnx import OnnxTarget

        assert spec.artifact is not None
        names = spec.onnx
        return OnnxTarget(
            spec.artifact,
            classes=spec.classes,
            probabilities_output=names.probabilities_output if names else None,
            label_output=names.label_output if names else None,
        )
    if spec.format == "http":
        from compliance_mia.targets.http import HttpTarget

        assert spec.http is not None
        return HttpTarget(spec.http, classes=spec.classes)
    if spec.format == "predictions":
        from compliance_mia.targets.predictions import PredictionsTarget

        assert spec.predictions is not None
        return PredictionsTarget(
            spec.predictions, id_column=policy.data.id_column, classes=spec.classes
        )
    raise TargetError(f"model.format '{spec.format}' is not supported")

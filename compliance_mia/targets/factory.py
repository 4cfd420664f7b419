"""Choose and open the adapter the policy names."""

from __future__ import annotations

from compliance_mia.errors import TargetError
from compliance_mia.policy.schema import Policy
from compliance_mia.targets.base import Target


def open_target(policy: Policy) -> Target:
    """Open the model under assessment as the policy describes it."""
    spec = policy.model
    if spec.format == "skops":
        from compliance_mia.targets.sklearn import SklearnTarget, load_skops

        assert spec.artifact is not None
        return SklearnTarget(load_skops(spec.artifact, spec.trusted_types), kind="skops", classes=spec.classes)
    if spec.format in ("pickle", "joblib"):
        from compliance_mia.targets.sklearn import SklearnTarget, load_pickle

        assert spec.artifact is not None
        return SklearnTarget(load_pickle(spec.artifact), kind=spec.format, unsafe=True, classes=spec.classes)
    raise TargetError(f"model.format '{spec.format}' is not supported by this installation yet")

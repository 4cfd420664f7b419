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

from compliance_mia.estimators import estimator_from_spec, import_estimator_class

__all__ = ["estimator_from_spec", "import_estimator_class"]

"""Surrogate estimators for black-box targets: only scikit-learn style classes are built."""

from __future__ import annotations

import pytest
from sklearn.ensemble import RandomForestClassifier

from compliance_mia.errors import ComplianceMiaError
from compliance_mia.policy.schema import EstimatorSpec
from compliance_mia.targets.surrogate import estimator_from_spec, import_estimator_class


def spec(path: str, **params) -> EstimatorSpec:
    return EstimatorSpec.model_validate({"class": path, "params": params})


def test_builds_an_unfitted_estimator_with_params() -> None:
    est = estimator_from_spec(spec("sklearn.ensemble.RandomForestClassifier", n_estimators=7))
    assert isinstance(est, RandomForestClassifier) and est.n_estimators == 7
    assert not hasattr(est, "classes_")


@pytest.mark.parametrize(
    "path, message",
    [
        ("os.system", "not a class|no class|does not follow"),
        ("collections.OrderedDict", "scikit-learn"),
        ("no_such_package_xyz.Model", "cannot import"),
        ("sklearn.ensemble.NoSuchForest", "no class"),
    ],
)
def test_refuses_what_is_not_an_estimator(path, message) -> None:
    with pytest.raises(ComplianceMiaError, match=message):
        estimator_from_spec(spec(path))
    with pytest.raises(ComplianceMiaError, match=message):
        import_estimator_class(path)


def test_bad_parameters_are_explained() -> None:
    with pytest.raises(ComplianceMiaError, match="n_trees"):
        estimator_from_spec(spec("sklearn.ensemble.RandomForestClassifier", n_trees=3))

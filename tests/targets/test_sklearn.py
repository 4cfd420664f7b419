"""scikit-learn artifacts: skops with an explicit trust list; pickle only with consent."""

from __future__ import annotations

import builtins
import pathlib
import warnings
import zipfile

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from compliance_mia.errors import PolicyError, TargetError, UnsafeModelError
from compliance_mia.policy.schema import ModelSpec
from compliance_mia.runner import load_policy
from compliance_mia.targets import open_target
from compliance_mia.targets.sklearn import SklearnTarget, load_pickle, load_skops, untrusted_types


class Detonator:
    """Unpickling this calls ``Path.touch(marker)``: code from the file runs on load."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


class Shift(BaseEstimator, TransformerMixin):
    """A custom transformer: a type skops does not know, so it must be trusted explicitly."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) + 1.0


@pytest.fixture
def data(demo):
    return demo.members[demo.features], demo.members["diagnosis"]


def test_malicious_pickle_is_refused_and_never_runs(tmp_path, demo, write_policy) -> None:
    marker = tmp_path / "pwned"
    bomb = tmp_path / "model.joblib"
    joblib.dump(Detonator(marker), bomb)

    path = write_policy(tmp_path, {"format": "joblib", "artifact": str(bomb)})
    with pytest.raises(PolicyError, match="allow_unsafe_pickle"):
        load_policy(path)
    # a policy assembled in code without validation is refused by the adapter too
    skops_model = {"format": "skops", "artifact": str(bomb)}
    policy = load_policy(write_policy(tmp_path, skops_model, name="p2.yaml"))
    unchecked = ModelSpec.model_construct(
        format="joblib", artifact=bomb, allow_unsafe_pickle=False, classes=None, surrogate=None,
        trusted_types=[], onnx=None, http=None, predictions=None,
    )
    sneaky = policy.model_copy(update={"model": unchecked})
    with pytest.raises(UnsafeModelError, match="executes code"):
        open_target(sneaky)
    with pytest.raises(UnsafeModelError):
        load_pickle(bomb)
    # the same bytes named as a skops file are not unpickled either
    renamed = tmp_path / "model.skops"
    renamed.write_bytes(bomb.read_bytes())
    with pytest.raises(TargetError, match="not a readable skops file"):
        renamed_model = {"format": "skops", "artifact": str(renamed)}
        open_target(load_policy(write_policy(tmp_path, renamed_model, name="p3.yaml")))
    assert not marker.exists()

    # Proof the file really is hostile: with consent, loading it runs its code.
    with pytest.raises(TargetError):  # Path.touch returns None, which is not a classifier
        SklearnTarget(load_pickle(bomb, allow_unsafe=True))
    assert marker.exists()


def test_trusted_pickle_loads_and_is_flagged_unsafe(tmp_path, demo, data, write_policy) -> None:
    X, _ = data
    path = write_policy(tmp_path, {"format": "joblib", "artifact": str(demo.files["joblib"]),
                                   "allow_unsafe_pickle": True})
    target = open_target(load_policy(path))
    assert target.unsafe_load and target.kind == "joblib"
    assert target.estimator_name == "RandomForestClassifier"
    np.testing.assert_array_equal(target.raw_outputs(X).probabilities, demo.model.predict_proba(X))


def test_skops_refuses_untrusted_types_with_their_names(tmp_path, data) -> None:
    X, y = data
    steps = [Shift(), FunctionTransformer(np.log1p), LogisticRegression(max_iter=500)]
    model = make_pipeline(*steps).fit(X, y)
    model.steps[1][1].func = builtins.eval  # a function the model would call on every prediction
    file = tmp_path / "model.skops"
    sio.dump(model, file)
    shift = f"{Shift.__module__}.Shift"
    with pytest.raises(UnsafeModelError) as info:
        load_skops(file)
    message = str(info.value)
    assert "builtins.eval" in message and shift in message and "model.trusted_types" in message
    # trusting one of them is not enough
    with pytest.raises(UnsafeModelError, match="builtins.eval"):
        load_skops(file, [shift])
    assert untrusted_types(file, [shift, "builtins.eval"]) == []
    loaded = load_skops(file, [shift, "builtins.eval"])
    assert loaded.steps[1][1].func is builtins.eval


@pytest.mark.parametrize(
    "estimator",
    [
        RandomForestClassifier(n_estimators=3, random_state=0),
        HistGradientBoostingClassifier(max_iter=5, random_state=0),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0),
        make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500)),
    ],
    ids=["forest", "hist-gbm", "mlp", "pipeline"],
)
def test_common_models_load_without_a_trust_list(tmp_path, data, estimator) -> None:
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny MLP is enough here
        model = estimator.fit(X, y)
    file = tmp_path / "model.skops"
    sio.dump(model, file, compression=zipfile.ZIP_DEFLATED)
    target = SklearnTarget(load_skops(file), kind="skops")
    np.testing.assert_allclose(target.raw_outputs(X).probabilities, model.predict_proba(X))
    template = target.estimator_template()
    assert template is not None and not hasattr(template, "classes_")


def test_pipeline_name_classes_and_template(data) -> None:
    X, y = data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    target = SklearnTarget(model)
    assert target.estimator_name == "Pipeline(StandardScaler → LogisticRegression)"
    assert target.classes.tolist() == ["benign", "malignant"]
    with pytest.raises(TargetError, match="does not match the model's classes"):
        SklearnTarget(model, classes=["malignant", "benign"])
    with pytest.raises(TargetError, match="not a fitted classifier"):
        SklearnTarget(LogisticRegression())


def test_label_only_estimator(data) -> None:
    X, y = data
    model = RidgeClassifier().fit(X, y)
    raw = SklearnTarget(model).raw_outputs(X)
    assert raw.probabilities is None
    np.testing.assert_array_equal(model.classes_[raw.labels], model.predict(X))


def test_wrong_columns_are_a_target_error(demo) -> None:
    target = SklearnTarget(demo.model)
    with pytest.raises(TargetError, match="feature_columns"):
        target.raw_outputs(demo.members[demo.features[:5]])


@pytest.mark.parametrize(
    "package, cls", [("xgboost", "XGBClassifier"), ("lightgbm", "LGBMClassifier")]
)
def test_gradient_boosting_libraries_when_installed(data, package, cls) -> None:
    module = pytest.importorskip(package)
    X, y = data
    y01 = (y == "malignant").astype(int)
    model = getattr(module, cls)(n_estimators=5).fit(X, y01)
    target = SklearnTarget(model)
    np.testing.assert_allclose(target.raw_outputs(X).probabilities, model.predict_proba(X))
    assert target.estimator_template() is not None


def test_multithreaded_ensembles_predict_single_threaded_so_runs_are_reproducible() -> None:
    """A forest with n_jobs=-1 adds its trees in thread-completion order: results differ in the last bits."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from compliance_mia.targets.sklearn import SklearnTarget

    X, y = make_classification(n_samples=200, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("forest", RandomForestClassifier(n_estimators=5, n_jobs=-1))])
    target = SklearnTarget(pipe.fit(X, y))
    assert target.estimator.get_params()["forest__n_jobs"] == 1

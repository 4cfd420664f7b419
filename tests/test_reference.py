"""Reference models: balanced membership, determinism on every backend, content-hashed cache."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from compliance_mia.data import RecordSet
from compliance_mia.errors import PolicyError
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import EstimatorSpec
from compliance_mia.reference import (
    ExposedReferences,
    ReferenceCache,
    ReferenceModelError,
    aligned_probabilities,
    build_reference_set,
    default_cache_dir,
    estimator_from_spec,
    membership_matrix,
    seeded,
)

SEED = 11


def _records(n: int, start: int, role: str, *, three_classes: bool = False) -> RecordSet:
    gen = np.random.default_rng(start)
    X = pd.DataFrame(
        {
            "age": gen.integers(18, 90, n),
            "income": gen.normal(40, 12, n).round(2),
            "region": gen.choice(["north", "south", "east", "west"], n),
        }
    )
    score = (X["age"] - 50) / 20 + (X["income"] - 40) / 12 + gen.normal(0, 1, n)
    if three_classes:
        y = np.where(score > 1.2, "high", np.where(score > -0.5, "mid", "low")).astype(object)
    else:
        y = np.where(score > 0, "yes", "no").astype(object)
    ids = np.array([f"{role[0]}{start}-{i}" for i in range(n)])
    return RecordSet(role=role, ids=ids, X=X, y=y, slices=pd.DataFrame(index=range(n)))


def _pipeline() -> Pipeline:
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])], remainder="passthrough"
    )
    return Pipeline([("encode", encode), ("forest", RandomForestClassifier(n_estimators=10))])


@pytest.fixture(scope="module")
def records():
    return _records(120, 1, "audit"), _records(200, 2, "population")


def _build(records, *, mode="offline", count=4, backend="sequential", n_jobs=1, seed=SEED, **kw):
    audit, population = records
    return build_reference_set(
        estimator=kw.pop("estimator", _pipeline()),
        surrogate=False,
        mode=mode,
        count=count,
        audit=audit,
        population=population,
        classes=np.array(["no", "yes"], dtype=object),
        seed=seed,
        backend=backend,
        n_jobs=n_jobs,
        use_cache=kw.pop("use_cache", False),
        **kw,
    )


def test_membership_is_balanced_and_pairs_are_complementary():
    matrix = membership_matrix(101, 6, seed=SEED, mode="online")
    assert matrix.shape == (6, 101)
    np.testing.assert_array_equal(matrix.sum(axis=0), 3)  # every record IN for exactly half
    for pair in range(3):
        np.testing.assert_array_equal(matrix[2 * pair], ~matrix[2 * pair + 1])
    # pair j does not depend on how many models there are: a larger count re-uses the first ones
    np.testing.assert_array_equal(membership_matrix(101, 8, seed=SEED, mode="online")[:6], matrix)
    assert not np.array_equal(membership_matrix(101, 6, seed=SEED + 1, mode="online"), matrix)


def test_offline_and_online_membership(records):
    audit, population = records
    offline = _build(records, mode="offline")
    assert offline.audit_raw.shape == (4, len(audit), 2)
    assert offline.population_raw.shape == (4, len(population), 2)
    assert not offline.audit_in.any()  # no offline model ever saw an audit record
    np.testing.assert_array_equal(offline.population_in.sum(axis=0), 2)
    assert offline.pool_size == len(population) and offline.trained == 4

    online = _build(records, mode="online")
    np.testing.assert_array_equal(online.audit_in.sum(axis=0), 2)  # each audit record IN for half
    np.testing.assert_array_equal(online.population_in.sum(axis=0), 2)
    assert online.pool_size == len(audit) + len(population)
    np.testing.assert_allclose(online.audit_raw.sum(axis=2), 1.0)


def test_outputs_pass_through_the_exposure(records):
    refs = _build(records)
    audit, population = records
    y = (audit.y == "yes").astype(int)
    y_pop = (population.y == "yes").astype(int)
    rounded = ExposedReferences(refs, Exposure(outputs="probabilities", rounding=1), y, y_pop)
    np.testing.assert_array_equal(rounded.audit_outputs(0).scores, np.round(refs.audit_raw[0], 1))
    labels = ExposedReferences(refs, Exposure(outputs="label"), y, y_pop).population_outputs(1)
    assert labels.scores is None and labels.labels is not None
    np.testing.assert_array_equal(labels.labels, refs.population_raw[1].argmax(axis=1))
    full = ExposedReferences(refs, Exposure(outputs="probabilities"), y, y_pop)
    np.testing.assert_allclose(full.query(0, audit.X.iloc[:5]).scores, refs.audit_raw[0, :5])
    loss = ExposedReferences(refs, Exposure(outputs="loss"), y, y_pop).audit_outputs(2)
    assert loss.scores is None and loss.labels is None and loss.loss is not None


def test_the_exposed_view_offers_no_raw_outputs_or_models(records):
    refs = _build(records)
    audit, population = records
    view = ExposedReferences(refs, Exposure(outputs="label"), np.zeros(len(audit), int), None)
    public = {name for name in dir(view) if not name.startswith("_")}
    assert public == {
        "count", "mode", "audit_in", "population_in",
        "audit_outputs", "population_outputs", "query",
    }
    assert (view.count, view.mode) == (4, "offline")
    with pytest.raises(ValueError):
        view.audit_in[0, 0] = True  # the attacker's record of what she trained on is read-only
    with pytest.raises(AttributeError):
        view.models = refs.models  # no room for more


@pytest.mark.parametrize(
    ("backend", "n_jobs"),
    [("sequential", 1), ("loky", 2), ("threading", 2), ("threading", 3), ("dask", 2)],
)
def test_same_seed_identical_outputs_on_every_backend(records, backend, n_jobs):
    reference = _build(records, backend="sequential", n_jobs=1)
    other = _build(records, backend=backend, n_jobs=n_jobs)
    np.testing.assert_array_equal(other.audit_raw, reference.audit_raw)
    np.testing.assert_array_equal(other.population_raw, reference.population_raw)
    np.testing.assert_array_equal(other.population_in, reference.population_in)


def test_progress_is_reported(records):
    seen = []
    _build(records, count=3, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_random_state_is_set_everywhere_including_nested():
    model = seeded(_pipeline(), 1234)
    assert model.get_params()["forest__random_state"] == 1234
    plain = seeded(RandomForestClassifier(), 99)
    assert plain.random_state == 99


def test_classes_a_model_never_saw_get_probability_zero():
    train = _records(60, 5, "train", three_classes=True)
    keep = train.y != "high"
    model = LogisticRegression(max_iter=200).fit(train.X[["age", "income"]][keep], train.y[keep])
    proba = aligned_probabilities(
        model, train.X[["age", "income"]], np.array(["high", "low", "mid"], dtype=object)
    )
    assert proba.shape == (60, 3)
    np.testing.assert_array_equal(proba[:, 0], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_cache_hits_on_rerun_and_identical_outputs(records, tmp_path):
    first = _build(records, cache_dir=tmp_path, use_cache=True)
    assert (first.trained, first.cache_hits) == (4, 0)
    assert ReferenceCache(tmp_path).info()["models"] == 4
    second = _build(records, cache_dir=tmp_path, use_cache=True, backend="loky", n_jobs=2)
    assert (second.trained, second.cache_hits) == (0, 4)
    np.testing.assert_array_equal(second.audit_raw, first.audit_raw)
    # more models later: the first four come from the cache
    third = _build(records, cache_dir=tmp_path, use_cache=True, count=6)
    assert (third.trained, third.cache_hits) == (2, 4)
    assert ReferenceCache(tmp_path).clear() == 6
    assert ReferenceCache(tmp_path).info()["models"] == 0


def test_cache_key_changes_with_data_params_and_seed(records):
    _, population = records
    X, y, ids = population.X, population.y, population.ids
    key = ReferenceCache.key(estimator=_pipeline(), X=X, y=y, ids=ids, model_seed=1)
    assert key == ReferenceCache.key(
        estimator=_pipeline(), X=X.copy(), y=y.copy(), ids=ids, model_seed=1
    )
    changed_x = X.copy()
    changed_x.loc[3, "income"] += 0.01
    flipped = y.copy()
    flipped[0] = "no" if flipped[0] == "yes" else "yes"
    other_params = _pipeline().set_params(forest__max_depth=3)
    variants = [
        ReferenceCache.key(estimator=_pipeline(), X=changed_x, y=y, ids=ids, model_seed=1),
        ReferenceCache.key(estimator=_pipeline(), X=X, y=flipped, ids=ids, model_seed=1),
        ReferenceCache.key(estimator=_pipeline(), X=X, y=y, ids=ids[::-1].copy(), model_seed=1),
        ReferenceCache.key(estimator=other_params, X=X, y=y, ids=ids, model_seed=1),
        ReferenceCache.key(estimator=_pipeline(), X=X, y=y, ids=ids, model_seed=2),
    ]
    assert len({key, *variants}) == 6
    # how fast a model trains is not what it learns: n_jobs does not change the key
    fast = _pipeline().set_params(forest__n_jobs=4)
    assert ReferenceCache.key(estimator=fast, X=X, y=y, ids=ids, model_seed=1) == key


def test_a_tampered_or_foreign_cache_file_is_a_miss(records, tmp_path):
    first = _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    files = sorted((tmp_path / "reference-models").rglob("*.skops"))
    assert len(files) == 2
    files[0].write_bytes(b"not a skops file")
    again = _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    assert (again.trained, again.cache_hits) == (1, 1)
    np.testing.assert_array_equal(again.audit_raw, first.audit_raw)


def test_cache_writes_a_manifest_beside_each_model(records, tmp_path):
    _build(records, cache_dir=tmp_path, use_cache=True, count=1)
    (model_file,) = (tmp_path / "reference-models").rglob("*.skops")
    manifest = json.loads(model_file.with_suffix(".json").read_text())
    assert manifest["key"] == model_file.stem
    assert manifest["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert ReferenceCache.key_of(manifest["payload"]) == model_file.stem
    assert {"data", "estimator", "seed", "versions"} <= set(manifest["payload"])


def test_a_cached_model_replaced_by_another_valid_model_is_detected_and_retrained(
    records, tmp_path, caplog
):
    """Issue 12: a file swapped for another valid skops model (other data) must not be used."""
    import skops.io as sio

    clean = _build(records, count=2)
    _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    files = sorted((tmp_path / "reference-models").rglob("*.skops"))
    audit, population = records
    impostor = _pipeline().fit(audit.X, audit.y)  # valid, trusted, trained on the audit records
    sio.dump(impostor, files[0])
    with caplog.at_level(logging.WARNING, logger="compliance_mia.reference.cache"):
        again = _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    assert (again.trained, again.cache_hits) == (1, 1)
    assert any("replaced or modified" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(again.audit_raw, clean.audit_raw)
    np.testing.assert_array_equal(again.population_raw, clean.population_raw)
    # the retrained model overwrote the impostor and verifies again
    caplog.clear()
    third = _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    assert third.cache_hits == 2 and not caplog.records
    np.testing.assert_array_equal(third.audit_raw, clean.audit_raw)


def test_a_manifest_for_another_model_or_none_is_a_miss(records, tmp_path, caplog):
    _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    manifests = sorted((tmp_path / "reference-models").rglob("*.json"))
    edited = json.loads(manifests[0].read_text())
    edited["payload"]["seed"] += 1  # describes a model trained with another seed
    manifests[0].write_text(json.dumps(edited))
    manifests[1].unlink()  # an entry from before manifests existed
    with caplog.at_level(logging.WARNING, logger="compliance_mia.reference.cache"):
        again = _build(records, cache_dir=tmp_path, use_cache=True, count=2)
    assert (again.trained, again.cache_hits) == (2, 0)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "describes another model" in messages and "no readable manifest" in messages


def test_estimator_from_spec():
    spec = EstimatorSpec.model_validate(
        {"class": "sklearn.ensemble.RandomForestClassifier", "params": {"n_estimators": 7}}
    )
    est = estimator_from_spec(spec)
    assert type(est).__name__ == "RandomForestClassifier" and est.n_estimators == 7
    with pytest.raises(PolicyError, match="cannot import"):
        estimator_from_spec(EstimatorSpec.model_validate({"class": "nosuchpkg.Model"}))
    with pytest.raises(PolicyError, match="no class"):
        estimator_from_spec(EstimatorSpec.model_validate({"class": "sklearn.ensemble.Nope"}))
    with pytest.raises(PolicyError, match="scikit-learn estimator API"):
        estimator_from_spec(EstimatorSpec.model_validate({"class": "collections.OrderedDict"}))
    with pytest.raises(PolicyError, match="invalid parameters"):
        estimator_from_spec(
            EstimatorSpec.model_validate(
                {"class": "sklearn.linear_model.LogisticRegression", "params": {"bogus": 1}}
            )
        )


def test_bad_settings_are_clear_errors(records):
    with pytest.raises(ReferenceModelError, match="unknown reference mode"):
        _build(records, mode="sideways")
    with pytest.raises(ReferenceModelError, match="unknown backend"):
        _build(records, backend="spark")


def test_ray_backend_without_ray_says_how_to_install(records, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray sees: ImportError
    with pytest.raises(ReferenceModelError, match=r"compliance-mia\[ray\]"):
        _build(records, backend="ray", count=2)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPLIANCE_MIA_CACHE", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("COMPLIANCE_MIA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "compliance-mia"
    assert ReferenceCache().dir == Path(tmp_path / "xdg" / "compliance-mia")


def test_training_failure_is_reported_not_a_traceback(records):
    audit, population = records
    broken = RecordSet(
        role="population",
        ids=population.ids,
        X=population.X.assign(region=np.nan),
        y=population.y,
        slices=population.slices,
    )
    with pytest.raises(ReferenceModelError, match="failed"):
        build_reference_set(
            estimator=LogisticRegression(),
            surrogate=True,
            mode="offline",
            count=2,
            audit=audit,
            population=broken,
            classes=np.array(["no", "yes"], dtype=object),
            seed=SEED,
            backend="sequential",
            use_cache=False,
        )
    assert "compliance_mia.reference" in sys.modules


def test_lightgbm_pipeline_is_cloned_seeded_and_cached(records, tmp_path):
    lightgbm = pytest.importorskip("lightgbm")  # the 'bench' extra
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["region"])], remainder="passthrough"
    )
    estimator = Pipeline(
        [("encode", encode), ("gbm", lightgbm.LGBMClassifier(n_estimators=10, verbose=-1))]
    )
    first = _build(records, estimator=estimator, cache_dir=tmp_path, use_cache=True, count=2)
    again = _build(records, estimator=estimator, cache_dir=tmp_path, use_cache=True, count=2)
    assert (first.trained, again.cache_hits) == (2, 2)
    np.testing.assert_array_equal(again.audit_raw, first.audit_raw)
    seeds = {m.get_params()["gbm__random_state"] for m in first.models}
    assert len(seeds) == 2 and estimator.get_params()["gbm__random_state"] is None


def test_process_workers_write_the_cache_and_it_reads_back_identically(records, tmp_path):
    """Loky workers store the models they train (serialising in parallel); a re-run loads them."""
    first = _build(records, cache_dir=tmp_path, use_cache=True, backend="loky", n_jobs=2)
    assert (first.trained, first.cache_hits) == (4, 0)
    assert ReferenceCache(tmp_path).info()["models"] == 4
    assert not list(tmp_path.rglob(".tmp-*")), "a worker left a half-written cache entry"
    second = _build(records, cache_dir=tmp_path, use_cache=True)
    assert (second.trained, second.cache_hits) == (0, 4)
    np.testing.assert_array_equal(second.audit_raw, first.audit_raw)
    np.testing.assert_array_equal(second.population_raw, first.population_raw)


def test_reference_models_predict_single_threaded_even_when_cached_multithreaded(records, tmp_path):
    """The cache key ignores n_jobs (it does not change what a model learns), so a cached model may
    carry n_jobs=-1; it must still predict single-threaded, or cached and fresh runs would differ.
    """
    threaded = _pipeline().set_params(forest__n_jobs=-1)
    cached = _build(records, cache_dir=tmp_path, use_cache=True, estimator=threaded, count=2)
    again = _build(records, cache_dir=tmp_path, use_cache=True, estimator=threaded, count=2)
    assert again.cache_hits == 2
    assert all(m.get_params()["forest__n_jobs"] == 1 for m in cached.models + again.models)
    np.testing.assert_array_equal(cached.audit_raw, again.audit_raw)

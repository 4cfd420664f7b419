"""An attack's own fits and boundary searches run side by side, with figures that cannot depend on it."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from compliance_mia.attacks import _workers, boundary
from compliance_mia.attacks._perturb import Perturber
from compliance_mia.attacks.qmia import fit_quantile
from compliance_mia.exposure import Exposure
from compliance_mia.targets.base import RawOutputs


def _fit_and_predict(features: np.ndarray, target: np.ndarray, quantile: float, seed: int) -> np.ndarray:
    return fit_quantile(features, target, quantile, seed, max_iter=30).predict(features)


@pytest.fixture(scope="module")
def regression():
    gen = np.random.default_rng(5)
    features = gen.normal(size=(3_000, 6))
    target = features[:, 0] * 2 + np.sin(features[:, 1] * 3) + gen.standard_t(3, size=3_000)
    return features, target


def test_fits_on_two_worker_processes_equal_fits_in_this_process(regression) -> None:
    features, target = regression
    calls = [(_fit_and_predict, (features, target, q, 7)) for q in (0.5, 0.9, 0.95)]
    here = _workers.run_fits(calls, workers=1, rows=len(features))
    there = _workers.run_fits(calls, workers=2, rows=len(features))
    for a, b in zip(here, there, strict=True):
        np.testing.assert_array_equal(a, b)
    assert here[0].std() > 0.5 and (here[2] > here[0]).mean() > 0.9  # real, distinct quantile fits


def _openmp_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"]


def test_a_fit_runs_on_one_openmp_thread_wherever_it_runs(regression) -> None:
    """OpenMP sums in thread order, so a fit's last bits could follow the machine's core count."""
    features, _ = regression
    fit_quantile(features, features[:, 0], 0.5, 1, max_iter=2)  # loads scikit-learn's OpenMP runtime
    assert _openmp_threads(), "scikit-learn's OpenMP runtime is not loaded"
    assert set(_workers.one_thread(_openmp_threads)) == {1}
    calls = [(_openmp_threads, ())] * 2
    assert all(set(threads) <= {1} for threads in _workers.run_fits(calls, workers=2, rows=10**6))


def test_small_fits_stay_in_this_process() -> None:
    seen: list[bool] = []

    def record(x: int) -> int:  # a closure cannot be sent to a worker process: it must run here
        seen.append(threading.current_thread() is threading.main_thread())
        return x * 2

    assert _workers.run_fits([(record, (x,)) for x in (1, 2, 3)], workers=4, rows=100) == [2, 4, 6]
    assert seen == [True, True, True]


def test_workers_follow_the_policy() -> None:
    from compliance_mia.policy.schema import AttacksSpec

    def settings(**ref):
        return AttacksSpec.model_validate({"reference_models": ref})

    assert _workers.fit_workers(settings(backend="sequential", n_jobs=8)) == 1
    assert _workers.fit_workers(settings(backend="threading", n_jobs=8)) == 1
    assert _workers.fit_workers(settings(backend="loky", n_jobs=3)) == 3
    assert _workers.fit_workers(settings(backend="dask", n_jobs=2)) == 2  # fits stay local
    assert _workers.fit_workers(None) == 1


@pytest.fixture(scope="module")
def models():
    gen = np.random.default_rng(3)
    n = 600
    X = pd.DataFrame({"age": gen.integers(18, 90, n), "income": gen.normal(50, 12, n)})
    y = (X["income"] + gen.normal(0, 8, n) > 50).astype(int).to_numpy()
    fitted = [
        RandomForestClassifier(n_estimators=20, random_state=0, n_jobs=1).fit(X[:200], y[:200]),
        LogisticRegression(max_iter=500).fit(X[200:400], y[200:400]),
        RandomForestClassifier(n_estimators=10, random_state=1, n_jobs=1).fit(X[400:], y[400:]),
    ]
    return X, y, fitted


def _query(model, log: list | None = None, name: str = ""):
    exposure = Exposure(outputs="label")

    def query(X: pd.DataFrame, y: np.ndarray):
        if log is not None:
            log.append((name, threading.current_thread().name, float(X["income"].iloc[0])))
        proba = model.predict_proba(X)
        return exposure.apply(RawOutputs(probabilities=proba, labels=np.argmax(proba, axis=1)), y)

    return query


def test_boundary_distances_do_not_depend_on_the_threads(models, monkeypatch) -> None:
    X, y, fitted = models
    monkeypatch.setattr(boundary, "BATCH_ROWS", 4 * 100)  # 6 batches of 100 records
    plan = boundary.search_plan(15, "random", 2)
    kwargs = dict(perturber=Perturber.fit(X, noise=1.0), plan=plan, kind="random", seed=11, stream="audit")
    one, q1 = boundary.boundary_distances(X, y, [_query(m) for m in fitted], workers=1, **kwargs)
    three, q3 = boundary.boundary_distances(X, y, [_query(m) for m in fitted], workers=3, **kwargs)
    np.testing.assert_array_equal(one, three)
    assert q1 == q3 == len(X) * (1 + plan.queries)
    assert one.shape == (3, len(X), plan.directions) and 0 < one.mean() < boundary.MAX_DISTANCE


def test_each_model_answers_its_own_queries_in_order_off_the_main_thread(models, monkeypatch) -> None:
    X, y, fitted = models
    monkeypatch.setattr(boundary, "BATCH_ROWS", 4 * 100)
    plan = boundary.search_plan(15, "random", 2)
    kwargs = dict(perturber=Perturber.fit(X, noise=1.0), plan=plan, kind="random", seed=11, stream="audit")
    log: list = []
    boundary.boundary_distances(X, y, [_query(m, log, f"m{k}") for k, m in enumerate(fitted)], workers=2, **kwargs)
    assert log and all(thread.startswith("boundary") for _, thread, _ in log)
    alone: list = []
    boundary.boundary_distances(X, y, [_query(fitted[0], alone, "m0")], workers=1, **kwargs)
    assert [q for q in log if q[0] == "m0"] and [v for n, _, v in log if n == "m0"] == [v for _, _, v in alone]

"""Label-only perturbed queries run in worker threads, in batch order per model, with identical figures."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from compliance_mia.attacks import label_only
from compliance_mia.attacks._perturb import Perturber
from compliance_mia.exposure import Exposure
from compliance_mia.targets.base import RawOutputs


@pytest.fixture(scope="module")
def case():
    gen = np.random.default_rng(3)
    n = 900
    X = pd.DataFrame(
        {
            "age": gen.integers(18, 90, n),
            "income": gen.normal(50, 12, n),
            "region": gen.choice(["n", "s", "e"], n),
        }
    )
    X_num = X.assign(region=X["region"].map({"n": 0, "s": 1, "e": 2}))
    y = (X_num["income"] + gen.normal(0, 8, n) > 50).astype(int).to_numpy()
    forest = RandomForestClassifier(n_estimators=25, random_state=0, n_jobs=1).fit(X_num[:300], y[:300])
    linear = LogisticRegression(max_iter=500).fit(X_num[300:600], y[300:600])
    other = RandomForestClassifier(n_estimators=10, random_state=1, n_jobs=1).fit(X_num[600:], y[600:])
    return X, y, [forest, linear, other]


def _query(model, log: list | None = None, name: str = ""):
    exposure = Exposure(outputs="label")

    def query(X: pd.DataFrame, y: np.ndarray):
        if log is not None:
            log.append((name, threading.current_thread() is threading.main_thread(), float(X["income"].iloc[0])))
        X = X.assign(region=X["region"].map({"n": 0, "s": 1, "e": 2}))
        proba = model.predict_proba(X)
        return exposure.apply(RawOutputs(probabilities=proba, labels=np.argmax(proba, axis=1)), y)

    return query


def test_figures_do_not_depend_on_the_number_of_threads(case, monkeypatch) -> None:
    X, y, models = case
    monkeypatch.setattr(label_only, "BATCH_ROWS", 16 * 100)  # 9 batches of 100 records
    perturber = Perturber.fit(X, noise=0.1)
    kwargs = dict(perturber=perturber, copies=16, seed=11, stream="audit")
    one = label_only.robustness(X, y, [_query(m) for m in models], workers=1, **kwargs)
    three = label_only.robustness(X, y, [_query(m) for m in models], workers=3, **kwargs)
    np.testing.assert_array_equal(one, three)
    assert one.shape == (3, len(X)) and 0.3 < one.mean() < 1.0  # real shares of correct labels


def test_no_model_is_queried_in_the_main_thread_and_each_sees_its_batches_in_order(case, monkeypatch) -> None:
    X, y, models = case
    monkeypatch.setattr(label_only, "BATCH_ROWS", 16 * 100)
    log: list = []
    label_only.robustness(
        X,
        y,
        [_query(m, log, f"m{k}") for k, m in enumerate(models)],
        perturber=Perturber.fit(X, noise=0.1),
        copies=16,
        seed=11,
        stream="audit",
        workers=2,
    )
    assert len(log) == 3 * 9
    assert not any(in_main for _, in_main, _ in log)
    serial: list = []
    label_only.robustness(
        X, y, [_query(models[0], serial, "m0")], perturber=Perturber.fit(X, noise=0.1),
        copies=16, seed=11, stream="audit", workers=1,
    )
    # model m0 got the same batches in the same order as when it was queried alone
    assert [first for name, _, first in log if name == "m0"] == [first for _, _, first in serial]


def test_a_model_error_reaches_the_caller(case) -> None:
    X, y, models = case

    def refuses(X: pd.DataFrame, y: np.ndarray):
        raise RuntimeError("query budget spent")

    with pytest.raises(RuntimeError, match="query budget spent"):
        label_only.robustness(
            X, y, [_query(models[0]), refuses], perturber=Perturber.fit(X, noise=0.1),
            copies=4, seed=1, stream="audit", workers=2,
        )


@pytest.mark.parametrize(
    ("n_jobs", "backend", "models", "expected"),
    [(-1, "loky", 9, None), (1, "loky", 9, 1), (4, "threading", 2, 2), (8, "sequential", 9, 1), (3, "dask", 9, 3)],
)
def test_query_threads_follow_the_reference_models_n_jobs(n_jobs, backend, models, expected) -> None:
    import os

    got = label_only.query_workers(n_jobs, backend, models)
    assert got == (expected if expected is not None else min(os.cpu_count() or 1, models))

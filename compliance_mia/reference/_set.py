"""Reference sets: which records each reference model trains on, training them, their outputs.

The strongest membership inference attacks compare the deployed model with
models the attacker trains herself on data from the same population: a
record the deployed model fits much better than comparable models do was
probably in its training set. This module trains those reference models.

* **What is trained.** A fresh ``sklearn.base.clone`` of the target's
  estimator (Pipelines, XGBoost/LightGBM and any estimator following the
  scikit-learn API), or a surrogate named in the policy when the target is a
  black box. Every ``random_state`` (also nested ``step__random_state``) is
  set from :func:`compliance_mia.seeding.int_seed`, so model ``k`` is the same
  model on any machine.
* **On what.** *Offline* (an outside attacker): random halves of the
  attacker's population records only; no reference model ever saw an audit
  record. *Online* (the auditor, who holds the training set): random halves of
  population ∪ audit records, so each audit record is IN for half of the
  models. The halves come in complementary pairs (model ``2j+1`` is trained
  on exactly the records model ``2j`` was not), which makes the assignment
  balanced: with an even count every record is IN for exactly half of the
  models. Pair ``j`` depends only on the seed, the mode and ``j``, so adding
  models later re-uses the cached ones. The boolean membership matrices are
  kept; the attacks never read the *target's* membership of audit records.
* **Where.** Through joblib: ``loky`` (processes), ``threading``,
  ``sequential``, ``dask`` (a dask.distributed cluster, local by default) or
  ``ray`` (optional extra). Each task is self-contained and seeded, so the
  outputs are bit-identical on any backend and worker count.
* **Re-use.** Trained models are cached on disk with skops under a content
  hash of their training rows, the estimator's parameters, the model seed
  and the library versions (:class:`~compliance_mia.reference.cache.ReferenceCache`),
  verified on read against a manifest.

The outputs of every model on the audit and population records are kept raw
(probabilities aligned to the target's classes) in a :class:`ReferenceSet`;
attacks never receive it, only an
:class:`~compliance_mia.reference.exposed.ExposedReferences` view that
passes every output through the same :class:`~compliance_mia.exposure.Exposure`
as the target, because an attacker mimicking the deployed API sees what the
API returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from compliance_mia.data import RecordSet
from compliance_mia.errors import ComplianceMiaError
from compliance_mia.estimators import single_threaded
from compliance_mia.querymemo import OutputMemo
from compliance_mia.reference._errors import ReferenceModelError
from compliance_mia.reference.backends import LOCAL_BACKENDS, run_tasks
from compliance_mia.reference.cache import ReferenceCache
from compliance_mia.seeding import int_seed, rng
from compliance_mia.targets.base import RawOutputs

log = logging.getLogger(__name__)

MODES = ("offline", "online")
#: what online reference models draw their random halves from
ONLINE_POOLS = ("population-and-audit", "audit")

__all__ = [
    "MODES",
    "ReferenceSet",
    "aligned_probabilities",
    "build_reference_set",
    "membership_matrix",
    "seeded",
]


# ======================================================================= set
@dataclass(frozen=True)
class ReferenceSet:
    """Trained reference models and their raw outputs on the audit and population records.

    Attributes
    ----------
    audit_raw, population_raw : ndarray of shape (K, n, C)
        Probabilities of each model, columns aligned to the *target's* classes
        (0 for a class a model never saw in its half of the data).
    audit_in, population_in : ndarray of shape (K, n), bool
        Whether model ``k`` was trained on record ``i`` (``audit_in`` is all
        False offline).
    """

    mode: str
    estimator_name: str
    surrogate: bool
    models: list
    audit_raw: np.ndarray
    audit_in: np.ndarray
    population_raw: np.ndarray
    population_in: np.ndarray
    pool_size: int
    cache_hits: int
    trained: int
    seconds: float
    #: training time the cache hits saved, from the times recorded in their manifests
    #: (None when no model came from the cache or a hit has no recorded time)
    seconds_saved: float | None = None
    classes: np.ndarray | None = field(default=None, repr=False)
    #: raw outputs of queries already answered (see compliance_mia.querymemo); set by the runner
    memo: OutputMemo | None = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        return len(self.models)

    # Raw outputs, for the reference package only: attacks see these models through
    # compliance_mia.reference.ExposedReferences, which applies the deployed exposure.
    def raw_audit(self, k: int) -> RawOutputs:
        """Model ``k``'s raw outputs on the audit records."""
        return raw_from_probabilities(self.audit_raw[k])

    def raw_population(self, k: int) -> RawOutputs:
        """Model ``k``'s raw outputs on the population records."""
        return raw_from_probabilities(self.population_raw[k])

    def raw_query(self, k: int, X: pd.DataFrame) -> RawOutputs:
        """Model ``k``'s raw outputs on new inputs ``X``, remembered in :attr:`memo` when set.

        Perturbation attacks ask the same questions again in every what-if
        re-run; the memo answers them without predicting again.
        """
        if self.classes is None:
            raise ValueError("this reference set was built without the target's classes")
        classes = self.classes

        def compute() -> RawOutputs:
            return raw_from_probabilities(aligned_probabilities(self.models[k], X, classes))

        if self.memo is None:
            return compute()
        return self.memo.get(("reference", self.mode, k), X, compute)


def raw_from_probabilities(proba: np.ndarray) -> RawOutputs:
    """Raw outputs of a reference model: its aligned probabilities and their argmax label."""
    return RawOutputs(probabilities=proba, labels=np.argmax(proba, axis=1))


def aligned_probabilities(model: Any, X: pd.DataFrame, classes: np.ndarray) -> np.ndarray:
    """Class probabilities of ``model`` on ``X`` in the order of ``classes`` (the target's).

    Estimators without ``predict_proba`` give a one-hot matrix of their
    predicted label. A class the model never saw gets probability 0.
    """
    n = len(X)
    out = np.zeros((n, len(classes)), dtype=float)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    lookup_str = {str(c): i for i, c in enumerate(classes.tolist())}
    model_classes = np.asarray(getattr(model, "classes_", classes))
    positions = np.array(
        [lookup.get(c, lookup_str.get(str(c), -1)) for c in model_classes.tolist()], dtype=np.int64
    )
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        keep = positions >= 0
        out[:, positions[keep]] = proba[:, keep]
    else:
        pred = np.asarray(model.predict(X))
        cols = np.array(
            [lookup.get(v, lookup_str.get(str(v), -1)) for v in pred.tolist()], dtype=np.int64
        )
        rows = np.flatnonzero(cols >= 0)
        out[rows, cols[rows]] = 1.0
    return out


# ================================================================ estimators
def seeded(estimator: BaseEstimator, seed: int) -> BaseEstimator:
    """A fresh, single-threaded clone of ``estimator`` with every ``random_state`` set to ``seed``."""
    model = single_threaded(clone(estimator))
    params = model.get_params(deep=True)
    updates = {k: seed for k in params if k == "random_state" or k.endswith("__random_state")}
    if updates:
        model.set_params(**updates)
    return model


def _estimator_name(estimator: BaseEstimator) -> str:
    if hasattr(estimator, "steps"):
        return "Pipeline(" + " → ".join(type(step).__name__ for _, step in estimator.steps) + ")"
    return type(estimator).__name__


# ================================================================= membership
def membership_matrix(n: int, count: int, *, seed: int, mode: str) -> np.ndarray:
    """Which of ``n`` pool records each of ``count`` models trains on, shape (count, n).

    Models come in complementary pairs: pair ``j`` splits the pool at random
    into two halves, model ``2j`` trains on one, model ``2j+1`` on the other.
    With an even count every record is IN for exactly half of the models; the
    split of pair ``j`` depends only on (seed, mode, j).
    """
    out = np.zeros((count, n), dtype=bool)
    for pair in range((count + 1) // 2):
        order = rng(seed, "reference", mode, "split", pair).permutation(n)
        first = np.zeros(n, dtype=bool)
        first[order[: n // 2]] = True
        out[2 * pair] = first
        if 2 * pair + 1 < count:
            out[2 * pair + 1] = ~first
    return out


# ================================================================== training
def _work(
    model: BaseEstimator,
    fit: bool,
    X_train: pd.DataFrame | None,
    y_train: np.ndarray | None,
    X_audit: pd.DataFrame,
    X_population: pd.DataFrame,
    classes: np.ndarray,
    store: tuple[ReferenceCache, str, dict[str, Any]] | None = None,
) -> tuple[BaseEstimator, np.ndarray, np.ndarray, float | None]:
    """One joblib task: train (unless cached), cache, and predict on audit and population records.

    ``store`` writes the freshly trained model to the cache from the worker,
    so serialising large models runs in parallel (local backends only: a
    remote worker may not share the cache's filesystem). The fit's wall time
    is returned (None for a cached model) and recorded in the cache manifest.
    """
    single_threaded(model)  # a cached model keeps the n_jobs it was saved with; predict reproducibly
    fit_seconds = None
    if fit:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        if store is not None:
            store[0].put(store[1], model, store[2], training_seconds=fit_seconds)
    return (
        model,
        aligned_probabilities(model, X_audit, classes),
        aligned_probabilities(model, X_population, classes),
        fit_seconds,
    )


def build_reference_set(
    *,
    estimator: BaseEstimator,
    surrogate: bool,
    mode: str,
    count: int,
    audit: RecordSet,
    population: RecordSet,
    classes: np.ndarray,
    seed: int,
    backend: str = "loky",
    n_jobs: int = -1,
    scheduler_address: str | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
    online_pool: str = "population-and-audit",
) -> ReferenceSet:
    """Train (or load from the cache) ``count`` reference models for ``mode``.

    Parameters
    ----------
    estimator : unfitted template (cloned for every model, never modified).
    mode : "offline" (halves of the population) or "online" (halves of
        population ∪ audit records).
    online_pool : online only: "population-and-audit" (the default) or
        "audit": halves of the audit records only, so each reference model
        trains on as many records as the target did when the audit holds as
        many non-members as members (the LiRA paper's and SACRO-ML's set-up;
        a forest trained on 2.5× the target's data is a poor model of the
        target, see docs/attack-benchmark.md). Population records are then
        OUT for every online model.
    audit, population : the records scored by attacks and the attacker's
        background data; ``X`` has the target's feature columns and ``y``
        raw labels.
    classes : the target's classes; output columns are aligned to them.

    Returns
    -------
    ReferenceSet
        Same seed and inputs give bit-identical outputs on every backend and
        any ``n_jobs``.
    """
    if mode not in MODES:
        raise ReferenceModelError(f"unknown reference mode '{mode}'; use offline or online")
    if count < 1:
        raise ReferenceModelError("at least one reference model is needed")
    start = time.perf_counter()
    classes = np.asarray(classes)
    if online_pool not in ONLINE_POOLS:
        raise ReferenceModelError(f"unknown online pool '{online_pool}'; use {' or '.join(ONLINE_POOLS)}")
    audit_only = mode == "online" and online_pool == "audit"
    if mode == "offline":
        pool = population
    elif audit_only:
        pool = audit
    else:
        pool = RecordSet.concat([population, audit], role="reference-pool")
    n_pop = 0 if audit_only else len(population)
    matrix = membership_matrix(len(pool), count, seed=seed, mode=mode)
    cache = ReferenceCache(cache_dir) if use_cache else None
    trusted = tuple(
        {type(estimator).__module__}
        | {
            type(v).__module__
            for v in estimator.get_params(deep=True).values()
            if hasattr(v, "get_params")
        }
    )

    tasks: list[tuple] = []
    keys: list[tuple[str, dict[str, Any]] | None] = []
    hits = 0
    saved: list[float | None] = []
    for k in range(count):
        rows = np.flatnonzero(matrix[k])
        model_seed = int_seed(seed, "reference", mode, k)
        model = seeded(estimator, model_seed)
        X_k = pool.X.iloc[rows].reset_index(drop=True)
        y_k = pool.y[rows]
        entry: tuple[str, dict[str, Any]] | None = None
        cached = None
        if cache is not None:
            payload = cache.payload(
                estimator=model, X=X_k, y=y_k, ids=pool.ids[rows], model_seed=model_seed
            )
            entry = (cache.key_of(payload), payload)
            cached = cache.get(entry[0], trusted_modules=trusted)
        if cached is not None:
            hits += 1
            assert cache is not None and entry is not None
            saved.append(cache.training_seconds(entry[0]))
            tasks.append((cached, False, None, None, audit.X, population.X, classes, None))
        else:
            store = (cache, *entry) if cache is not None and entry is not None and backend in LOCAL_BACKENDS else None
            tasks.append((model, True, X_k, y_k, audit.X, population.X, classes, store))
        keys.append(entry)
    log.info(
        "%d %s reference model(s): %d from the cache, %d to train on %s",
        count,
        mode,
        hits,
        count - hits,
        backend,
    )
    try:
        results = run_tasks(
            _work,
            tasks,
            backend=backend,
            n_jobs=n_jobs,
            scheduler_address=scheduler_address,
            progress=progress,
        )
    except ComplianceMiaError:
        raise
    except Exception as exc:
        raise ReferenceModelError(
            f"training {mode} reference models ({_estimator_name(estimator)}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if cache is not None:
        for (model, _, _, fit_seconds), task, entry in zip(results, tasks, keys, strict=True):
            if task[1] and entry is not None and task[7] is None:  # not already stored by the worker
                cache.put(entry[0], model, entry[1], training_seconds=fit_seconds)
    models = [r[0] for r in results]
    audit_raw = np.stack([r[1] for r in results])
    population_raw = np.stack([r[2] for r in results])
    if mode == "offline":
        population_in = matrix
        audit_in = np.zeros((count, len(audit)), dtype=bool)
    elif audit_only:
        population_in = np.zeros((count, len(population)), dtype=bool)
        audit_in = matrix
    else:
        population_in = matrix[:, :n_pop]
        audit_in = matrix[:, n_pop:]
    return ReferenceSet(
        mode=mode,
        estimator_name=_estimator_name(estimator),
        surrogate=surrogate,
        models=models,
        audit_raw=audit_raw,
        audit_in=audit_in,
        population_raw=population_raw,
        population_in=population_in,
        pool_size=len(pool),
        cache_hits=hits,
        trained=count - hits,
        seconds=round(time.perf_counter() - start, 3),
        seconds_saved=round(sum(s for s in saved if s is not None), 3)
        if saved and all(s is not None for s in saved)
        else None,
        classes=classes,
    )

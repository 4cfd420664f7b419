"""Reference (shadow) models: the attacker's own copies of the target's estimator.

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
  and the library versions (:class:`ReferenceCache`); a cached file is only
  loaded when every type in it is trusted.

The outputs of every model on the audit and population records are kept raw
(probabilities aligned to the target's classes); attacks see them only
through the same :class:`~compliance_mia.exposure.Exposure` as the target,
because an attacker mimicking the deployed API sees what the API returns.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from compliance_mia.cache import default_cache_dir
from compliance_mia.data import RecordSet
from compliance_mia.errors import ComplianceMiaError
from compliance_mia.estimators import estimator_from_spec, single_threaded  # noqa: F401 - re-exported
from compliance_mia.exposure import Exposure, Outputs
from compliance_mia.querymemo import OutputMemo
from compliance_mia.seeding import int_seed, rng
from compliance_mia.targets.base import RawOutputs

log = logging.getLogger(__name__)

MODES = ("offline", "online")
BACKENDS = ("loky", "threading", "sequential", "dask", "ray")

#: module prefixes whose types may be loaded from a cached skops file
_TRUSTED_PREFIXES = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "xgboost.",
    "lightgbm.",
    "builtins.",
    "collections.",
)
#: parameters that change how fast a model trains, never what it learns: not part of the cache key
_RUNTIME_PARAMS = ("n_jobs", "verbose", "verbosity", "thread_count", "nthread", "silent")

__all__ = [
    "ReferenceCache",
    "ReferenceModelError",
    "ReferenceSet",
    "aligned_probabilities",
    "build_reference_set",
    "default_cache_dir",
    "estimator_from_spec",
    "membership_matrix",
    "seeded",
]


class ReferenceModelError(ComplianceMiaError):
    """Reference models cannot be trained as configured (estimator, backend, data)."""


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
    classes: np.ndarray | None = field(default=None, repr=False)
    #: raw outputs of queries already answered (see compliance_mia.querymemo); set by the runner
    memo: OutputMemo | None = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        return len(self.models)

    def audit_outputs(self, k: int, exposure: Exposure, y_index: np.ndarray) -> Outputs:
        """Model ``k``'s outputs on the audit records, as the deployed API would return them."""
        return exposure.apply(_raw(self.audit_raw[k]), y_index)

    def population_outputs(self, k: int, exposure: Exposure, y_index: np.ndarray) -> Outputs:
        """Model ``k``'s outputs on the population records, as the deployed API returns them."""
        return exposure.apply(_raw(self.population_raw[k]), y_index)

    def query(
        self, k: int, X: pd.DataFrame, exposure: Exposure, y_index: np.ndarray | None = None
    ) -> Outputs:
        """Model ``k``'s outputs on new inputs ``X`` (e.g. perturbed records), via ``exposure``."""
        if self.classes is None:
            raise ValueError("this reference set was built without the target's classes")
        classes = self.classes

        def compute() -> RawOutputs:
            return _raw(aligned_probabilities(self.models[k], X, classes))

        raw = compute() if self.memo is None else self.memo.get(("reference", self.mode, k), X, compute)
        return exposure.apply(raw, y_index)


def _raw(proba: np.ndarray) -> RawOutputs:
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


# ====================================================================== cache
def _stable(value: Any) -> Any:
    """A JSON-able, order-independent description of a parameter value."""
    if isinstance(value, BaseEstimator) or (hasattr(value, "get_params") and hasattr(value, "fit")):
        params = value.get_params(deep=False)
        return {
            "__class__": f"{type(value).__module__}.{type(value).__qualname__}",
            "params": {
                k: _stable(v) for k, v in sorted(params.items()) if k not in _RUNTIME_PARAMS
            },
        }
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_stable(v) for v in value]
    if isinstance(value, np.ndarray):
        return {
            "__ndarray__": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
            "dtype": str(value.dtype),
            "shape": list(value.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def _library_versions(estimator: BaseEstimator) -> dict[str, str]:
    import scipy
    import sklearn

    versions = {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
    }
    roots = {type(estimator).__module__.split(".")[0]}
    for value in estimator.get_params(deep=True).values():
        if hasattr(value, "get_params"):
            roots.add(type(value).__module__.split(".")[0])
    for root in sorted(roots - {"sklearn"}):
        module = importlib.import_module(root)
        versions[root] = str(getattr(module, "__version__", "unknown"))
    return versions


def _data_digest(X: pd.DataFrame, y: np.ndarray, ids: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in X.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(
        pd.util.hash_pandas_object(pd.Series(y, dtype=object).astype(str), index=False)
        .to_numpy()
        .tobytes()
    )
    digest.update(
        pd.util.hash_pandas_object(pd.Series(ids, dtype=object).astype(str), index=False)
        .to_numpy()
        .tobytes()
    )
    return digest.hexdigest()


class ReferenceCache:
    """Trained reference models on disk, keyed by content, stored and loaded with skops.

    A model is found again only if it was trained on the same rows (data,
    labels and IDs), with the same estimator parameters, the same seed and the
    same library versions, so a cache shared between assessments never
    returns a model trained for another target. Loading refuses any type
    outside scikit-learn, numpy, scipy, XGBoost, LightGBM and the estimator's
    own package (a tampered file is treated as a miss and retrained).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.models_dir = self.dir / "reference-models"

    @staticmethod
    def key(
        *,
        estimator: BaseEstimator,
        X: pd.DataFrame,
        y: np.ndarray,
        ids: np.ndarray,
        model_seed: int,
    ) -> str:
        """Content hash of everything that determines a trained reference model."""
        payload = {
            "format": 1,
            "data": _data_digest(X, y, ids),
            "estimator": _stable(estimator),
            "seed": int(model_seed),
            "versions": _library_versions(estimator),
        }
        return hashlib.sha256(
            json.dumps(payload, sort_keys=True, default=repr).encode()
        ).hexdigest()

    def path(self, key: str) -> Path:
        return self.models_dir / key[:2] / f"{key}.skops"

    def get(self, key: str, *, trusted_modules: tuple[str, ...] = ()) -> BaseEstimator | None:
        """The cached model for ``key``; None if missing, unreadable or holding untrusted types."""
        import skops.io as sio

        path = self.path(key)
        if not path.exists():
            return None
        allowed = _TRUSTED_PREFIXES + tuple(f"{m.split('.')[0]}." for m in trusted_modules)
        try:
            untrusted = sio.get_untrusted_types(file=path)
            refused = [t for t in untrusted if not t.startswith(allowed)]
            if refused:
                log.warning(
                    "cached reference model %s holds untrusted types (%s); retraining",
                    path.name,
                    ", ".join(sorted(refused)[:5]),
                )
                return None
            return sio.load(path, trusted=list(untrusted))
        except Exception as exc:  # corrupt or foreign file: a miss, never a crash
            log.warning("cannot load cached reference model %s (%s); retraining", path.name, exc)
            return None

    def put(self, key: str, model: BaseEstimator) -> bool:
        """Store ``model`` under ``key`` atomically; False when skops cannot save this estimator."""
        import skops.io as sio

        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".skops")
        os.close(fd)
        try:
            sio.dump(model, tmp)
            os.replace(tmp, path)
            return True
        except Exception as exc:
            log.warning(
                "cannot cache reference model %s with skops (%s)", type(model).__name__, exc
            )
            return False
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def clear(self) -> int:
        """Delete every cached reference model; returns how many files were removed."""
        removed = 0
        if self.models_dir.exists():
            for path in self.models_dir.rglob("*.skops"):
                path.unlink()
                removed += 1
        return removed

    def info(self) -> dict[str, Any]:
        """Location, number of cached models and their size in bytes."""
        files = list(self.models_dir.rglob("*.skops")) if self.models_dir.exists() else []
        return {
            "directory": str(self.models_dir),
            "models": len(files),
            "bytes": int(sum(f.stat().st_size for f in files)),
        }


# ================================================================== training
def _work(
    model: BaseEstimator,
    fit: bool,
    X_train: pd.DataFrame | None,
    y_train: np.ndarray | None,
    X_audit: pd.DataFrame,
    X_population: pd.DataFrame,
    classes: np.ndarray,
    store: tuple[ReferenceCache, str] | None = None,
) -> tuple[BaseEstimator, np.ndarray, np.ndarray]:
    """One joblib task: train (unless cached), cache, and predict on audit and population records.

    ``store`` writes the freshly trained model to the cache from the worker,
    so serialising large models runs in parallel (local backends only: a
    remote worker may not share the cache's filesystem).
    """
    single_threaded(model)  # a cached model keeps the n_jobs it was saved with; predict reproducibly
    if fit:
        model.fit(X_train, y_train)
        if store is not None:
            store[0].put(store[1], model)
    return (
        model,
        aligned_probabilities(model, X_audit, classes),
        aligned_probabilities(model, X_population, classes),
    )


#: backends whose workers share this machine's filesystem (they may write the cache themselves)
_LOCAL_BACKENDS = ("loky", "threading", "sequential")


def _workers(n_jobs: int) -> int:
    return max(1, os.cpu_count() or 1) if n_jobs is None or n_jobs < 0 else max(1, n_jobs)


def _run(
    tasks: list[tuple],
    *,
    backend: str,
    n_jobs: int,
    scheduler_address: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[tuple]:
    """Run ``_work`` over ``tasks`` on the chosen joblib backend, in task order."""
    from joblib import Parallel, delayed, parallel_config

    if backend not in BACKENDS:
        raise ReferenceModelError(f"unknown backend '{backend}'; use one of {', '.join(BACKENDS)}")
    total = len(tasks)

    def collect(results: Iterator[tuple]) -> list[tuple]:
        out = []
        for item in results:
            out.append(item)
            if progress is not None:
                progress(len(out), total)
        return out

    calls = (delayed(_work)(*task) for task in tasks)
    if backend == "sequential" or (total <= 1 and backend in ("loky", "threading")):
        with parallel_config(backend="sequential"):
            return collect(Parallel(n_jobs=1, return_as="generator")(calls))
    if backend in ("loky", "threading"):
        with parallel_config(backend=backend, n_jobs=min(_workers(n_jobs), total)):
            return collect(Parallel(return_as="generator")(calls))
    if backend == "dask":
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ReferenceModelError(
                "the dask backend needs dask.distributed: pip install 'compliance-mia[dask]'"
            ) from None
        if scheduler_address:
            client = Client(scheduler_address)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=min(_workers(n_jobs), total),
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
            )
            client = Client(cluster)
        try:
            with parallel_config(backend="dask"):
                return collect(Parallel(return_as="generator")(calls))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    # ray
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise ReferenceModelError(
            "the ray backend needs Ray: pip install 'compliance-mia[ray]'"
        ) from None
    register_ray()
    if not ray.is_initialized():
        ray.init(address=scheduler_address, include_dashboard=False, log_to_driver=False)
    with parallel_config(backend="ray", n_jobs=_workers(n_jobs)):
        return collect(Parallel(return_as="generator")(calls))


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
) -> ReferenceSet:
    """Train (or load from the cache) ``count`` reference models for ``mode``.

    Parameters
    ----------
    estimator : unfitted template (cloned for every model, never modified).
    mode : "offline" (halves of the population) or "online" (halves of
        population ∪ audit records).
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
    if mode == "offline":
        pool = population
    else:
        pool = RecordSet.concat([population, audit], role="reference-pool")
    n_pop = len(population)
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
    keys: list[str | None] = []
    hits = 0
    for k in range(count):
        rows = np.flatnonzero(matrix[k])
        model_seed = int_seed(seed, "reference", mode, k)
        model = seeded(estimator, model_seed)
        X_k = pool.X.iloc[rows].reset_index(drop=True)
        y_k = pool.y[rows]
        key = None
        cached = None
        if cache is not None:
            key = cache.key(
                estimator=model, X=X_k, y=y_k, ids=pool.ids[rows], model_seed=model_seed
            )
            cached = cache.get(key, trusted_modules=trusted)
        if cached is not None:
            hits += 1
            tasks.append((cached, False, None, None, audit.X, population.X, classes, None))
        else:
            store = (cache, key) if cache is not None and key is not None and backend in _LOCAL_BACKENDS else None
            tasks.append((model, True, X_k, y_k, audit.X, population.X, classes, store))
        keys.append(key)
    log.info(
        "%d %s reference model(s): %d from the cache, %d to train on %s",
        count,
        mode,
        hits,
        count - hits,
        backend,
    )
    try:
        results = _run(
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
        for (model, _, _), task, key in zip(results, tasks, keys, strict=True):
            if task[1] and key is not None and task[7] is None:  # not already stored by the worker
                cache.put(key, model)
    models = [r[0] for r in results]
    audit_raw = np.stack([r[1] for r in results])
    population_raw = np.stack([r[2] for r in results])
    if mode == "offline":
        population_in = matrix
        audit_in = np.zeros((count, len(audit)), dtype=bool)
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
        classes=classes,
    )

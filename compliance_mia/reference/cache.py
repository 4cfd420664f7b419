"""Trained reference models on disk: keyed by content, verified on read.

Training reference models is the expensive step of an assessment, so models
are kept between runs under a content hash of everything that determines
them (training rows, labels and IDs; estimator parameters; model seed;
library versions). A key alone proves nothing about the file behind it,
though: a file replaced by another valid model (trained on other data, or by
someone else) would be loaded silently and change every figure. So each model
is stored with a small JSON manifest beside it holding the file's SHA-256 and
the very payload the key hashes; a read checks both and treats any mismatch
as a miss (warning, retrain, overwrite). Loading also refuses any type
outside scikit-learn, numpy, scipy, XGBoost, LightGBM and the estimator's own
package.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from compliance_mia.cache import default_cache_dir

log = logging.getLogger(__name__)

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
#: version of the manifest written beside each cached model
_MANIFEST_FORMAT = 1

__all__ = ["ReferenceCache", "default_cache_dir"]


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


def _hash_payload(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any, suffix: str) -> None:
    """Write through a temporary file in ``path``'s directory and rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ReferenceCache:
    """Trained reference models on disk, keyed by content, stored and loaded with skops.

    A model is found again only if it was trained on the same rows (data,
    labels and IDs), with the same estimator parameters, the same seed and the
    same library versions, so a cache shared between assessments never
    returns a model trained for another target. Every read is verified
    against the manifest stored beside the model (file SHA-256, and the
    description of what it was trained on hashing to the key); a file that
    fails, holds untrusted types or cannot be read is a miss: a warning is
    logged and the model is retrained and overwritten.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.models_dir = self.dir / "reference-models"

    @staticmethod
    def payload(
        *,
        estimator: BaseEstimator,
        X: pd.DataFrame,
        y: np.ndarray,
        ids: np.ndarray,
        model_seed: int,
    ) -> dict[str, Any]:
        """What a trained reference model is: the description its key hashes and its manifest holds."""
        return {
            "format": 1,
            "data": _data_digest(X, y, ids),
            "estimator": _stable(estimator),
            "seed": int(model_seed),
            "versions": _library_versions(estimator),
        }

    @staticmethod
    def key_of(payload: dict[str, Any]) -> str:
        """The cache key of a :meth:`payload` (its SHA-256 over canonical JSON)."""
        return _hash_payload(payload)

    @classmethod
    def key(
        cls,
        *,
        estimator: BaseEstimator,
        X: pd.DataFrame,
        y: np.ndarray,
        ids: np.ndarray,
        model_seed: int,
    ) -> str:
        """Content hash of everything that determines a trained reference model."""
        return cls.key_of(cls.payload(estimator=estimator, X=X, y=y, ids=ids, model_seed=model_seed))

    def path(self, key: str) -> Path:
        """Where the model for ``key`` is stored."""
        return self.models_dir / key[:2] / f"{key}.skops"

    def manifest_path(self, key: str) -> Path:
        """Where the manifest of the model for ``key`` is stored (beside the model)."""
        return self.models_dir / key[:2] / f"{key}.json"

    def _verified(self, key: str, path: Path) -> bool:
        """Whether ``path`` is the file the manifest describes and the manifest describes ``key``."""
        manifest_path = self.manifest_path(key)
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            payload = manifest["payload"]
            recorded = manifest["sha256"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "cached reference model %s has no readable manifest (%s); retraining",
                path.name,
                exc,
            )
            return False
        if _hash_payload(payload) != key:
            log.warning(
                "cached reference model %s: its manifest describes another model "
                "(training data, estimator, seed or versions differ from the key); retraining",
                path.name,
            )
            return False
        if _file_sha256(path) != recorded:
            log.warning(
                "cached reference model %s was replaced or modified since it was stored "
                "(SHA-256 differs from its manifest); retraining",
                path.name,
            )
            return False
        return True

    def get(self, key: str, *, trusted_modules: tuple[str, ...] = ()) -> BaseEstimator | None:
        """The cached model for ``key``; None if missing, unverified, unreadable or untrusted."""
        import skops.io as sio

        path = self.path(key)
        if not path.exists():
            return None
        if not self._verified(key, path):
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

    def training_seconds(self, key: str) -> float | None:
        """How long the model cached under ``key`` took to train, as recorded when it was stored.

        None when the manifest is missing, unreadable or older than the
        record (a saving is then not claimed rather than guessed).
        """
        try:
            manifest = json.loads(self.manifest_path(key).read_text(encoding="utf-8"))
            seconds = manifest["training_seconds"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
            return None
        return float(seconds)

    def put(
        self,
        key: str,
        model: BaseEstimator,
        payload: dict[str, Any],
        *,
        training_seconds: float | None = None,
    ) -> bool:
        """Store ``model`` and its manifest under ``key`` atomically.

        ``payload`` is what the model was trained on (:meth:`payload`); it must
        hash to ``key``. ``training_seconds`` (the fit's wall time) is kept in
        the manifest so that a later run can say how much training the cache
        saved. Returns False when skops cannot save this estimator.
        The model is written first and the manifest second, so a reader never
        sees a manifest vouching for a half-written or previous file (a
        missing or stale manifest is just a miss).
        """
        import skops.io as sio

        if _hash_payload(payload) != key:
            raise ValueError("the payload does not hash to the key it is stored under")
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _write_atomically(path, lambda tmp: sio.dump(model, tmp), ".skops")
        except Exception as exc:
            log.warning(
                "cannot cache reference model %s with skops (%s)", type(model).__name__, exc
            )
            return False
        manifest = {
            "format": _MANIFEST_FORMAT,
            "key": key,
            "file": path.name,
            "sha256": _file_sha256(path),
            "payload": payload,
        }
        if training_seconds is not None:
            manifest["training_seconds"] = round(float(training_seconds), 3)
        text = json.dumps(manifest, sort_keys=True, indent=1, default=repr)
        _write_atomically(
            self.manifest_path(key),
            lambda tmp: Path(tmp).write_text(text, encoding="utf-8"),
            ".json",
        )
        return True

    def clear(self) -> int:
        """Delete every cached reference model (and manifest); returns how many models were removed."""
        removed = 0
        if self.models_dir.exists():
            for path in self.models_dir.rglob("*.skops"):
                path.unlink()
                removed += 1
            for path in self.models_dir.rglob("*.json"):
                path.unlink()
        return removed

    def info(self) -> dict[str, Any]:
        """Location, number of cached models and their size in bytes (manifests included)."""
        files = list(self.models_dir.rglob("*.skops")) if self.models_dir.exists() else []
        manifests = list(self.models_dir.rglob("*.json")) if self.models_dir.exists() else []
        return {
            "directory": str(self.models_dir),
            "models": len(files),
            "bytes": int(sum(f.stat().st_size for f in files + manifests)),
        }

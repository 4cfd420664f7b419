"""Remember a model's raw outputs for query batches it has already answered.

Attacks that send perturbed copies of records (label-only robustness) ask the
same model the same questions again when the what-if analysis re-runs them
under a stricter exposure. Raw outputs do not depend on the exposure (it is
applied afterwards), so they are kept, keyed by the model and a digest of the
batch's content, within a memory budget. For a deployed API this also means a
what-if never spends query budget twice.

The memo is shared by the threads that query several models at once
(:func:`compliance_mia.attacks.label_only.robustness`), so every read and
write of the store holds one lock. The model itself is queried outside the
lock: two threads never wait on each other's predictions, and two threads
asking the same question at once both compute it (the answers are identical;
the first stored one is kept).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd

from compliance_mia.targets.base import RawOutputs

DEFAULT_BUDGET_BYTES = 512 * 1024 * 1024


def batch_digest(X: pd.DataFrame) -> str:
    """Content digest of a batch (values, column names and order; not the index)."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update("\x1f".join(map(str, X.columns)).encode())
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _nbytes(raw: RawOutputs) -> int:
    return sum(a.nbytes for a in (raw.probabilities, raw.labels, raw.loss) if isinstance(a, np.ndarray))


class OutputMemo:
    """Least-recently-used store of raw outputs per (model, batch digest); safe across threads."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self._store: OrderedDict[tuple[Hashable, str], RawOutputs] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, model: Hashable, X: pd.DataFrame, compute: Callable[[], RawOutputs]) -> RawOutputs:
        """The remembered outputs of ``model`` on ``X``, or ``compute()``'s (then remembered)."""
        key = (model, batch_digest(X))
        with self._lock:
            found = self._store.get(key)
            if found is not None:
                self._store.move_to_end(key)
                return found
        raw = compute()  # outside the lock: other threads keep predicting meanwhile
        size = _nbytes(raw)
        with self._lock:
            found = self._store.get(key)
            if found is not None:  # another thread answered the same question first
                self._store.move_to_end(key)
                return found
            if size <= self.budget:
                self._store[key] = raw
                self._bytes += size
                while self._bytes > self.budget and self._store:
                    _, old = self._store.popitem(last=False)
                    self._bytes -= _nbytes(old)
        return raw

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)

    @property
    def stored_bytes(self) -> int:
        """Bytes of raw outputs held now (never above :attr:`budget`)."""
        with self._lock:
            return self._bytes

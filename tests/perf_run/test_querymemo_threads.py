"""OutputMemo shared by threads: every answer right, the byte count exact, the budget kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from compliance_mia.querymemo import OutputMemo, _nbytes
from compliance_mia.targets.base import RawOutputs


def _batch(i: int) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(50, dtype=float) + i, "b": np.full(50, i)})


def _answer(i: int) -> RawOutputs:
    proba = np.full((50, 2), 0.5)
    proba[:, 0] = i / 1000
    return RawOutputs(probabilities=proba, labels=np.full(50, i % 2))


def test_threads_hitting_and_evicting_at_once_get_their_own_answers() -> None:
    one = _nbytes(_answer(0))
    memo = OutputMemo(budget_bytes=one * 7)  # small: evictions race hits all the time
    computed: list[int] = []
    lock = threading.Lock()

    def ask(job: int) -> tuple[int, float]:
        # runs of 16 jobs share a batch: a thread's next job in a run finds the answer it just stored
        # (at most two batches are in flight, far below the 7 the budget holds), so hits happen
        # whatever the scheduling; across runs the 23 batches still evict one another
        i = (job // 16) % 23

        def compute() -> RawOutputs:
            with lock:
                computed.append(i)
            return _answer(i)
        raw = memo.get(("model", i % 3), _batch(i), compute)
        return i, float(raw.probabilities[0, 0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, range(4000)))
    assert all(value == i / 1000 for i, value in results)  # never another batch's answer
    assert memo.stored_bytes == sum(_nbytes(r) for r in memo._store.values())
    assert memo.stored_bytes <= memo.budget and len(memo) <= 7
    assert len(computed) < 4000  # hits happened


def test_a_remembered_answer_is_not_computed_again() -> None:
    memo = OutputMemo()
    calls = []
    for _ in range(3):
        memo.get("target", _batch(1), lambda: calls.append(1) or _answer(1))
    assert len(calls) == 1

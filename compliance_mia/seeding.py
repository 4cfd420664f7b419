"""One seed, many independent random streams.

Every random choice in an assessment (data splits, reference-model subsets,
bootstrap resamples, noise for label-only attacks) draws from a stream derived
from the policy's single seed and a stable name for the purpose. A stream does
not depend on the order in which work is scheduled or on the number of
workers, which is what makes results identical across joblib backends.
Nothing here touches numpy's global random state.
"""

from __future__ import annotations

import zlib

import numpy as np


def _key(parts: tuple[str | int, ...]) -> list[int]:
    out: list[int] = []
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            if part < 0:
                raise ValueError("stream indices must be non-negative")
            out.append(part)
        else:
            out.append(zlib.crc32(str(part).encode("utf-8")))
    return out


def seed_sequence(seed: int, *purpose: str | int) -> np.random.SeedSequence:
    """A SeedSequence for ``purpose`` (e.g. ``("reference", 3)``) under ``seed``."""
    return np.random.SeedSequence(entropy=seed, spawn_key=_key(purpose))


def rng(seed: int, *purpose: str | int) -> np.random.Generator:
    """A fresh Generator for ``purpose`` under ``seed``."""
    return np.random.default_rng(seed_sequence(seed, *purpose))


def int_seed(seed: int, *purpose: str | int) -> int:
    """A 31-bit integer seed for estimators that take ``random_state=int``."""
    return int(seed_sequence(seed, *purpose).generate_state(1, dtype=np.uint32)[0] & 0x7FFFFFFF)

"""Shared helpers for the text attack tests: a real corpus, membership splits, AUC with its interval.

The corpus is CPython's own documentation topics (``pydoc_data.topics``,
PSF licence, shipped with every Python), cut into passages of a fixed number
of words, each tagged with the topic (document) it comes from: members and
non-members drawn at random from the same passages share a distribution;
members and non-members from different topics do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEED = 17


@dataclass(frozen=True)
class Passage:
    doc: str
    text: str


def passages(words: int = 40) -> list[Passage]:
    """Non-overlapping passages of ``words`` words from every documentation topic, in a fixed order."""
    import pydoc_data.topics

    out = []
    for doc, body in sorted(pydoc_data.topics.topics.items()):
        tokens = body.split()
        for start in range(0, len(tokens) - words + 1, words):
            out.append(Passage(doc, " ".join(tokens[start : start + words])))
    return out


@dataclass(frozen=True)
class Split:
    texts: list[str]  #: members first, then non-members
    is_member: np.ndarray
    others: list[str]  #: further passages from the same source, in neither set

    @property
    def members(self) -> list[str]:
        return [t for t, m in zip(self.texts, self.is_member, strict=True) if m]


def random_split(n_members: int, n_non_members: int, n_others: int = 0, *, seed: int = SEED) -> Split:
    """Members, non-members and others drawn at random from the same passages (no distribution shift)."""
    pool = passages()
    order = np.random.default_rng(seed).permutation(len(pool))
    chosen = [pool[i].text for i in order[: n_members + n_non_members + n_others]]
    is_member = np.arange(n_members + n_non_members) < n_members
    return Split(chosen[: n_members + n_non_members], is_member, chosen[n_members + n_non_members :])


def auc_ci(scores: np.ndarray, is_member: np.ndarray) -> tuple[float, float, float]:
    """AUC with its 95% bootstrap interval, from the project's metrics (estimate, lower, upper)."""
    from compliance_mia.metrics import StatisticsSettings, evaluate_attack

    settings = StatisticsSettings(confidence_level=0.95, bootstrap_resamples=400)
    metrics = evaluate_attack(np.asarray(scores, dtype=float), is_member, settings=settings, seed=SEED, stream="test")
    return metrics.auc.estimate, metrics.auc.lower, metrics.auc.upper

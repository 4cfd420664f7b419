"""Signals the attacks read, computed only from exposed outputs, and numerically safe.

Every function here takes :class:`~compliance_mia.exposure.Outputs` (what the
deployed API returns, or what a reference model returns through the same
exposure) and never raw model internals. Tree ensembles output exact 0 and 1
probabilities, and rounded outputs do too, so every logarithm is taken of a
clipped value and every variance is floored; the clip level is a named
parameter reported with the attack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.exposure import Outputs

if TYPE_CHECKING:
    from compliance_mia.reference import ExposedReferences

#: probabilities are clipped to [PROB_CLIP, 1 − PROB_CLIP] before logit scaling
PROB_CLIP = 1e-7
#: smallest standard deviation LiRA uses for a Gaussian fitted to logit-scaled confidences
MIN_STD = 1e-2


def true_probability(outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
    """p(y|x) as exposed (0 for records whose label the model does not know)."""
    return np.clip(outputs.true_class_score(y_index), 0.0, 1.0)


def _rest_probability(outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
    """Σ_{y'≠y} p(y'|x), computed without the cancellation of 1 − p(y|x) when p is near 1."""
    if outputs.loss is not None:
        return -np.expm1(-np.asarray(outputs.loss, dtype=float))
    vector = outputs.score_vector()
    p_true = true_probability(outputs, y_index)
    return np.clip(vector.sum(axis=1) - p_true, 0.0, None)


def logit_confidence(
    outputs: Outputs, y_index: np.ndarray, *, clip: float = PROB_CLIP
) -> np.ndarray:
    """LiRA's logit-scaled confidence φ = log p(y|x) − log Σ_{y'≠y} p(y'|x).

    Both terms are clipped below at ``clip``, so φ is finite (|φ| ≤ log(1/clip))
    even when a tree outputs p = 1 exactly.
    """
    p_true = true_probability(outputs, y_index)
    rest = _rest_probability(outputs, y_index)
    return np.log(np.maximum(p_true, clip)) - np.log(np.maximum(rest, clip))


def entropy(outputs: Outputs) -> np.ndarray:
    """Shannon entropy of the exposed score vector (0·log 0 = 0)."""
    p = np.clip(outputs.score_vector(), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=1)


def modified_entropy(
    outputs: Outputs, y_index: np.ndarray, *, clip: float = PROB_CLIP
) -> np.ndarray:
    """Song & Mittal's modified entropy: low when the model is confidently *right*.

    Mentr(x, y) = −(1 − p_y) log p_y − Σ_{y'≠y} p_{y'} log(1 − p_{y'}).
    """
    p = np.clip(outputs.score_vector(), 0.0, 1.0)
    n = len(p)
    valid = y_index >= 0
    p_true = np.zeros(n)
    p_true[valid] = p[np.flatnonzero(valid), y_index[valid]]
    own = -(1.0 - p_true) * np.log(np.maximum(p_true, clip))
    others = -p * np.log(np.maximum(1.0 - p, clip))
    if valid.any():
        others[np.flatnonzero(valid), y_index[valid]] = 0.0
    return own + others.sum(axis=1)


def reference_matrix(
    references: ExposedReferences,
    y_index: np.ndarray,
    signal: Callable[[Outputs, np.ndarray], np.ndarray],
    *,
    on: str = "audit",
) -> np.ndarray:
    """``signal(outputs, y_index)`` for every reference model, shape (K, n).

    ``references`` already shows each model through the deployed exposure
    (the attacker mimics the API she attacks); ``y_index`` are the true-class
    positions of the records ``on`` names ("audit" or "population").
    """
    getter = references.audit_outputs if on == "audit" else references.population_outputs
    return np.stack([signal(getter(k), y_index) for k in range(references.count)])


def masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of ``values`` where ``mask``; NaN for columns with no True."""
    counts = mask.sum(axis=0)
    total = np.where(mask, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def masked_var(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Population variance over axis 0 where ``mask`` (NaN with no True, 0 with one)."""
    mean = masked_mean(values, mask)
    counts = mask.sum(axis=0)
    dev = np.where(mask, values - np.where(np.isnan(mean), 0.0, mean), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (dev**2).sum(axis=0) / np.maximum(counts, 1), np.nan)


def rank_tiebreak(
    primary: np.ndarray, secondary: np.ndarray, *, step: float | None = None
) -> np.ndarray:
    """``primary`` with ties broken by ``secondary``, keeping primary's order and scale.

    Adds less than half of ``step`` (the resolution of ``primary``; default:
    the smallest gap between its distinct values), so the ranking by
    ``primary`` is unchanged and only its ties are ordered. Equal secondary
    values stay tied.
    """
    primary = np.asarray(primary, dtype=float)
    if step is None:
        distinct = np.unique(primary)
        step = float(np.min(np.diff(distinct))) if len(distinct) > 1 else 1.0
    rank = np.searchsorted(np.sort(secondary), secondary, side="left").astype(float)
    return primary + 0.5 * step * rank / max(len(secondary), 1)


def resolution_clip(
    p_true_arrays: list[np.ndarray], *, floor: float = PROB_CLIP, ceiling: float = 0.05
) -> float:
    """Clip level matched to the resolution of the outputs, for logit scaling.

    Outputs that are exactly 0 or 1 (tree votes, rounding) are not infinitely
    confident: they are "one step beyond" the most extreme value the model
    ever returns short of 0 or 1. Half the smallest positive distance from 0
    or 1 seen in the outputs puts them there, so logit-scaled values keep the
    model's own spacing instead of a wide gap at ±log(1/1e-7). Models with
    continuous outputs get the usual tiny clip (``floor``).
    """
    values = np.concatenate([np.ravel(a) for a in p_true_arrays]) if p_true_arrays else np.array([])
    distance = np.minimum(values, 1.0 - values)
    positive = distance[distance > 0]
    if not len(positive):
        return ceiling
    return float(np.clip(0.5 * positive.min(), floor, ceiling))

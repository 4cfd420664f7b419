"""Score samples with known ground truth (shared by the statistics tests)."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def gaussian_scores(
    gen: np.random.Generator, n_members: int, n_non_members: int, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Members ~ N(shift, 1), non-members ~ N(0, 1): AUC = Φ(shift/√2) exactly."""
    scores = np.concatenate(
        [gen.normal(shift, 1.0, n_members), gen.normal(0.0, 1.0, n_non_members)]
    )
    is_member = np.arange(n_members + n_non_members) < n_members
    return scores, is_member


def gaussian_auc(shift: float) -> float:
    return float(norm.cdf(shift / np.sqrt(2.0)))


def gaussian_tpr(shift: float, fpr: float) -> float:
    return float(norm.sf(norm.isf(fpr) - shift))


def randomized_response(
    gen: np.random.Generator, n: int, epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """ε-DP randomized response: each record reports its membership truthfully w.p. e^ε/(1+e^ε)."""
    p = np.exp(epsilon) / (1.0 + np.exp(epsilon))
    members = gen.random(n) < p
    non_members = gen.random(n) < 1.0 - p
    scores = np.concatenate([members, non_members]).astype(float)
    return scores, np.arange(2 * n) < n

"""The ε lower bound of a one-run privacy audit (Steinke, Nasr & Jagielski, NeurIPS 2023).

The auditor inserts m canaries, each independently included in training with
probability ½, trains once, and guesses for r of them whether they were
included (abstaining on the rest). If training is (ε, δ)-differentially
private, the number of correct guesses v is stochastically dominated by
Binomial(r, e^ε/(1+e^ε)) up to a δ term (their Theorem 3.1 and Proposition
5.4). The p-value of observing at least v correct guesses under "the
training is (ε, δ)-DP" is therefore

    P[Binomial(r, q) ≥ v] + 2·m·δ·max_{1≤i≤v} P[v−i ≤ Binomial(r, q) < v] / i,
    q = e^ε / (1 + e^ε),

and the audit reports the largest ε whose p-value is below 1 − confidence:
the training cannot be (ε', δ)-DP for any ε' below it, at that confidence.
This is the paper's Algorithm 2 (its appendix code computes the same
quantities); the implementation here is our own, in log space, with a
bisection that keeps the returned ε on the side where the p-value is below
the level, so rounding can only make the bound smaller, never larger.

Choosing how many guesses to make after seeing which ones would be right
would invalidate the bound. :func:`audit_bound` therefore takes a grid of
guess counts fixed before the scores are seen, computes each bound at level
α/K (Bonferroni over the K grid points) and reports the largest: by the union
bound, the reported ε exceeds the true ε with probability at most α.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["AuditBound", "audit_bound", "epsilon_lower_bound", "guess_grid", "p_value"]

#: Share of the canaries guessed on each side (in and out) at each grid point,
#: fixed in advance (before any score is seen) so the Bonferroni correction holds.
GRID_SHARES: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5)
_BISECTION_STEPS = 60
_EPS_CAP = 60.0  # q = 1 − 1e−26: beyond what any finite audit can support


def p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """Probability of ≥ v correct guesses out of r, m canaries, if training were (ε, δ)-DP."""
    from scipy.stats import binom

    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 ≤ correct ({v}) ≤ guesses ({r}) ≤ canaries ({m})")
    if eps < 0 or not 0 <= delta <= 1:
        raise ValueError("need ε ≥ 0 and 0 ≤ δ ≤ 1")
    q = 1.0 / (1.0 + math.exp(-eps))
    beta = float(binom.sf(v - 1, r, q))  # P[Binomial(r, q) ≥ v]
    if delta == 0 or v == 0:
        return min(beta, 1.0)
    # P[v − i ≤ Binomial(r, q) < v] / i, maximised over i = 1..v (cumulative sums of the pmf below v)
    below = binom.pmf(np.arange(v - 1, -1, -1), r, q)
    alpha = float(np.max(np.cumsum(below) / np.arange(1, v + 1)))
    return min(beta + alpha * delta * 2 * m, 1.0)


def epsilon_lower_bound(m: int, r: int, v: int, *, delta: float, level: float) -> float:
    """The largest ε with p-value < ``level`` (0 when even ε = 0 is not rejected).

    The bisection keeps ``lo`` where the p-value is below the level, so the
    returned value is always one at which "(ε, δ)-DP" is rejected.
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if r == 0 or p_value(m, r, v, 0.0, delta) >= level:
        return 0.0
    lo, hi = 0.0, 1.0
    while p_value(m, r, v, hi, delta) < level:
        lo, hi = hi, hi * 2
        if hi > _EPS_CAP:
            return lo
    for _ in range(_BISECTION_STEPS):
        mid = (lo + hi) / 2
        if p_value(m, r, v, mid, delta) < level:
            lo = mid
        else:
            hi = mid
    return lo


def guess_grid(m: int, fixed: int | None = None) -> list[int]:
    """Guesses per side (k⁺ = k⁻ = k) to try, decided from m alone (or the policy's one fixed k)."""
    if fixed is not None:
        return [min(fixed, m // 2)]
    return sorted({max(1, round(share * m)) for share in GRID_SHARES if round(share * m) <= m // 2} or {max(1, m // 2)})


@dataclass(frozen=True)
class AuditBound:
    """The reported bound and the guesses behind it."""

    epsilon_lower: float
    guesses: int  # r = k⁺ + k⁻
    correct: int  # v
    guesses_in: int  # k⁺
    guesses_out: int  # k⁻
    grid: tuple[int, ...]  # k tried, fixed from m before the scores were seen
    level: float  # per grid point: (1 − confidence) / len(grid)


def audit_bound(
    scores: Sequence[float] | np.ndarray,
    included: Sequence[bool] | np.ndarray,
    *,
    delta: float,
    confidence: float,
    grid: Sequence[int],
    tiebreak: np.ndarray,
) -> AuditBound:
    """Guess the top k scores "in" and the bottom k "out" for each k of the grid; report the best valid bound.

    ``scores``: higher = more likely included (e.g. minus the canary's loss).
    ``tiebreak``: a random key drawn independently of the inclusion bits;
    canaries with equal scores are ordered by it, so ties cannot leak the
    answer into the guesses.
    """
    s = np.asarray(scores, dtype=float)
    bits = np.asarray(included, dtype=bool)
    m = len(s)
    if len(bits) != m or len(tiebreak) != m:
        raise ValueError("scores, inclusion bits and tie-break keys must have one entry per canary")
    if not np.all(np.isfinite(s)):
        raise ValueError("canary scores must be finite")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    ks = tuple(sorted({int(k) for k in grid if 1 <= int(k) <= m // 2}))
    if not ks:
        raise ValueError(f"no valid number of guesses for {m} canaries")
    order = np.lexsort((tiebreak, -s))  # highest score first; ties by the independent key
    level = (1 - confidence) / len(ks)
    best: AuditBound | None = None
    for k in ks:
        top, bottom = order[:k], order[m - k :]
        correct = int(bits[top].sum() + (~bits[bottom]).sum())
        eps = epsilon_lower_bound(m, 2 * k, correct, delta=delta, level=level)
        if best is None or eps > best.epsilon_lower:
            best = AuditBound(eps, 2 * k, correct, k, k, ks, level)
    assert best is not None
    return best

"""Empirical lower bound on differential-privacy ε implied by an attack.

If training were (ε, δ)-differentially private, every membership test would
satisfy TPR ≤ e^ε·FPR + δ and 1 − FPR ≤ e^ε·(1 − TPR) + δ. Measured TPR and
FPR therefore imply ε ≥ ln((TPR − δ)/FPR) and ε ≥ ln((1 − FPR − δ)/(1 − TPR)).
To make that a statement at a stated confidence, TPR is replaced by a
one-sided Clopper–Pearson lower bound and FPR by an upper bound, and the
maximum is taken over a grid of thresholds fixed in advance with a Bonferroni
correction over every threshold and every attack compared, so the bound holds
simultaneously (Jagielski et al. 2020; Nasr et al. 2021).
"""

from __future__ import annotations

import math

import numpy as np

from compliance_mia.assessment import EpsilonBound
from compliance_mia.metrics._intervals import cp_lower, cp_upper
from compliance_mia.metrics._ranking import Roc

#: Thresholds examined per attack (at most). Fixed before looking at the data.
EPSILON_GRID_SIZE = 100


def threshold_grid(n_non_members: int, *, size: int = EPSILON_GRID_SIZE) -> np.ndarray:
    """Ranks k (k-th highest non-member score) used as thresholds.

    Depends only on the number of non-members, so it is declared before any
    score is seen: half the ranks log-spaced from the top (low FPR, for
    ln(TPR/FPR)), half from the bottom (low FNR, for the symmetric form).
    """
    half = max(size // 2, 1)
    top = np.unique(np.round(np.geomspace(1, max(n_non_members, 1), half)).astype(int))
    bottom = n_non_members + 1 - top
    ks = np.unique(np.concatenate([top, bottom]))
    return ks[(ks >= 1) & (ks <= n_non_members)]


def assumptions_text(confidence: float, comparisons: int) -> str:
    """Plain-language conditions under which the ε lower bound means what it says."""
    corr = (
        f"after a Bonferroni correction over {comparisons} attacks and every threshold examined"
        if comparisons > 1
        else "after a Bonferroni correction over every threshold examined"
    )
    return (
        "The members were a random sample from the same population as the non-members (so a "
        "member and a non-member differ only in having been trained on); the bound concerns the "
        "training pipeline as run on this data, not every possible dataset; and it is a lower "
        f"bound valid at {confidence:.0%} confidence {corr}: the true ε of the pipeline is at "
        "least this large with that confidence, and may be much larger."
    )


def epsilon_bound(
    roc: Roc,
    *,
    delta: float,
    confidence: float,
    n_comparisons: int = 1,
    grid_size: int = EPSILON_GRID_SIZE,
    attack: str | None = None,
) -> EpsilonBound:
    """ε lower bound at ``delta``, valid with probability ≥ ``confidence``.

    Each threshold is "flag scores strictly above the k-th highest non-member
    score". The FPR of that rule exceeds the Beta(k, n0 − k + 1) upper
    quantile with probability at most the level used (order statistics; ties
    only lower the FPR), and member counts are binomial given the threshold,
    so both bounds are exact. ``n_comparisons`` attacks × the grid × two
    one-sided bounds share the error rate α = 1 − confidence.

    The returned bound names the threshold it comes from (rank k, the FPR
    upper bound and TPR lower bound used, which of the two inequalities) and
    ``attack`` when given, so the report can attribute it.
    """
    n1, n0 = roc.n_members, roc.n_non_members
    ks = threshold_grid(n0, size=grid_size)
    m = int(ks.size)
    c = max(int(n_comparisons), 1)
    alpha = 1.0 - confidence
    level = alpha / (2.0 * m * c)
    idx = np.searchsorted(roc.fp, ks, side="left")
    tp = roc.tp[idx - 1]
    tpr_lo = cp_lower(tp, n1, level)
    fpr_up = cp_upper(ks - 1, n0, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.where((tpr_lo > delta) & (fpr_up > 0), np.log((tpr_lo - delta) / fpr_up), -np.inf)
        ok2 = (1.0 - fpr_up > delta) & (tpr_lo < 1.0)
        e2 = np.where(ok2, np.log((1.0 - fpr_up - delta) / (1.0 - tpr_lo)), -np.inf)
    both = np.concatenate([e1, e2])
    best = float(np.max(both)) if m else -math.inf
    correction = (
        f"Clopper–Pearson one-sided bounds at level {level:.2g} each: Bonferroni over {m} "
        "thresholds fixed in advance × 2 bounds"
        + (f" × {c} attacks compared" if c > 1 else "")
        + f", so the bound holds for all of them at once with {confidence:.0%} confidence."
    )
    where: dict[str, object] = {}
    if m and best > 0:
        j = int(np.argmax(both))
        i = j % m
        where = {
            "threshold_rank": int(ks[i]),
            "form": "tpr/fpr" if j < m else "tnr/fnr",
            "tpr_lower": float(tpr_lo[i]),
            "fpr_upper": float(fpr_up[i]),
            "members_flagged": int(tp[i]),
        }
    return EpsilonBound(
        epsilon_lower=best if best > 0 else None,
        delta=float(delta),
        confidence=float(confidence),
        thresholds_examined=m * c,
        correction=correction,
        attack=attack,
        n_members=int(n1),
        n_non_members=int(n0),
        per_test_level=float(level),
        assumptions=assumptions_text(confidence, c),
        **where,
    )

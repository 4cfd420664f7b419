"""Confidence intervals: Clopper–Pearson, seeded bootstrap for AUC, DKW for advantage.

Every interval here is built to hold at its stated confidence without
assuming a score distribution: exact binomial (Clopper–Pearson) bounds for
proportions, a stratified percentile bootstrap for AUC, and the
Dvoretzky–Kiefer–Wolfowitz–Massart inequality for the advantage (a maximum
over all thresholds, which a plain bootstrap overstates near zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from compliance_mia.metrics._ranking import Roc, ScoreGroups, tpr_at

# Bootstrap work is done in chunks of resamples so memory stays near
# _CHUNK_CELLS integers whatever the number of records.
_CHUNK_CELLS = 4_000_000


# The Clopper–Pearson bounds are beta quantiles. ``scipy.special.betaincinv(a, b, q)`` is the
# function ``scipy.stats.beta.ppf(q, a, b)`` evaluates (the same Boost ``ibeta_inv``; equal bit for
# bit, tests/perf_fixed_cost/test_imports.py checks it on a grid), without importing scipy.stats,
# whose import (~0.4 s) is most of `plan`'s fixed cost. Heavier scipy imports stay in their functions.
def cp_lower(count: int | np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper–Pearson lower bound: P(true rate < bound) ≤ alpha."""
    from scipy.special import betaincinv

    x = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore"):
        out = betaincinv(x, n - x + 1, alpha)
    return np.where(x <= 0, 0.0, out)


def cp_upper(count: int | np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper–Pearson upper bound: P(true rate > bound) ≤ alpha."""
    from scipy.special import betaincinv

    x = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore"):
        out = betaincinv(x + 1, n - x, 1.0 - alpha)
    return np.where(x >= n, 1.0, out)


def clopper_pearson(count: int, n: int, *, confidence: float) -> tuple[float, float]:
    """Exact two-sided interval for a binomial proportion ``count/n``."""
    alpha = 1.0 - confidence
    return float(cp_lower(count, n, alpha / 2)), float(cp_upper(count, n, alpha / 2))


# ---------------------------------------------------------------- TPR at FPR
@dataclass(frozen=True)
class TprInterval:
    """TPR at a target FPR with an interval that also covers threshold uncertainty."""

    estimate: float
    lower: float
    upper: float
    expected_count: int
    lower_fpr: float
    upper_fpr: float
    k_lower: int = 0
    k_upper: int = 0
    members_lower: int = 0
    members_upper: int = 0
    bound_level: float = 0.0
    n_members: int = 0
    n_non_members: int = 0


def _kth_vertex(roc: Roc, k: int) -> int:
    """Index of the ROC vertex that first flags the k-th highest-scoring non-member."""
    return int(np.searchsorted(roc.fp, k, side="left"))


def tpr_interval(roc: Roc, fpr: float, *, confidence: float) -> TprInterval:
    """TPR at ``fpr`` with a threshold-adjusted Clopper–Pearson interval.

    The threshold that gives FPR ``fpr`` is itself estimated from the
    non-members, so a Clopper–Pearson interval on the members alone would be
    too narrow (badly so at low FPR, where the ROC is steep). Instead, two
    thresholds are taken from the non-member scores: one whose true FPR is,
    with probability ≥ 1 − α/4, at most ``fpr`` (order statistic from the
    binomial distribution of false positives), and one whose true FPR is at
    least ``fpr``. As the ROC is monotone, the true TPR at ``fpr`` lies
    between the true TPRs at those thresholds, which are bounded by
    one-sided Clopper–Pearson bounds on the members at level α/4 each. The
    four statements hold together with probability ≥ 1 − α (Bonferroni),
    whatever the score distribution, with or without ties.

    The interval is not widened to contain ``estimate``: by construction the
    k_a threshold has empirical FPR below ``fpr`` and the k_b threshold above
    it, so ``lower ≤ estimate ≤ upper`` holds on its own, and a failure would
    reveal an error rather than be hidden. Every count behind the bounds is
    returned so that they can be recomputed from the ranks and counts alone.
    """
    from scipy.stats import binom

    alpha = 1.0 - confidence
    a = alpha / 4.0
    n1, n0 = roc.n_members, roc.n_non_members
    estimate = float(tpr_at(roc, fpr))
    # Lower side: k_a = largest k with P(Bin(n0, fpr) <= k-1) <= a; flag scores strictly above
    # the k_a-th highest non-member score (strict, so tied scores cannot inflate it).
    k_a = int(binom.ppf(a, n0, fpr))
    if binom.cdf(k_a, n0, fpr) <= a:
        k_a += 1
    k_a = min(max(k_a, 0), n0)
    if k_a == 0:
        x_lo, fpr_lo = 0, 0.0
    else:
        i = _kth_vertex(roc, k_a)
        x_lo, fpr_lo = int(roc.tp[i - 1]), float(roc.fpr[i - 1])
    # Upper side: k_b = smallest k with P(Bin(n0, fpr) <= k-1) >= 1-a; flag scores at or above
    # the k_b-th highest non-member score.
    k_b = int(binom.ppf(1.0 - a, n0, fpr)) + 1
    if k_b > n0:
        x_hi, fpr_hi = n1, 1.0
    else:
        i = _kth_vertex(roc, k_b)
        x_hi, fpr_hi = int(roc.tp[i]), float(roc.fpr[i])
    return TprInterval(
        estimate=estimate,
        lower=float(cp_lower(x_lo, n1, a)),
        upper=float(cp_upper(x_hi, n1, a)),
        expected_count=int(round(estimate * n1)),
        lower_fpr=fpr_lo,
        upper_fpr=fpr_hi,
        k_lower=int(k_a),
        k_upper=int(k_b),
        members_lower=int(x_lo),
        members_upper=int(x_hi),
        bound_level=float(a),
        n_members=int(n1),
        n_non_members=int(n0),
    )


def min_detectable_tpr(n_members: int, fpr: float, *, confidence: float) -> float | None:
    """Smallest TPR at ``fpr`` whose interval would exclude random guessing (TPR = FPR).

    Uses the same one-sided Clopper–Pearson bound as :func:`tpr_interval`
    (level α/4) and assumes the threshold itself is well estimated, so it is
    the best case: with few non-members the real margin is larger. ``None``
    when even identifying every member would not be distinguishable.
    """
    if n_members <= 0:
        return None
    a = (1.0 - confidence) / 4.0
    if float(cp_lower(n_members, n_members, a)) <= fpr:
        return None
    lo, hi = 0, n_members  # invariant: cp_lower(hi) > fpr
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(cp_lower(mid, n_members, a)) > fpr:
            hi = mid
        else:
            lo = mid
    return hi / n_members


# ---------------------------------------------------------------- AUC bootstrap
def bootstrap_auc(groups: ScoreGroups, *, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """AUC of ``resamples`` stratified bootstrap resamples.

    Members and non-members are resampled separately (their counts are fixed
    by the audit design). Scores are sorted once; each resample costs O(n).

    The random draws are taken in blocks of resamples (members, then
    non-members, as ``(block, n)`` integer arrays) so that the same seed
    gives the same resamples whatever the implementation below. Each
    resample then needs only the drawn non-members counted per distinct
    non-member score (a small ``bincount`` and ``cumsum``) and, for each
    drawn member, a look-up of how many drawn non-members score below it
    (ties ½). Every term is a multiple of ½ below 2⁵³, so the sums are exact
    and the resampled AUCs equal, bit for bit, those of counting every pair.
    """
    n1, n0, n_groups = groups.n_members, groups.n_non_members, groups.values.size
    # Sorted, so a resample depends on which scores were drawn and never on the order the
    # records were listed in: the interval is the same for the same records in any order.
    g_mem = np.sort(groups.group[groups.is_member])
    g_non = np.sort(groups.group[~groups.is_member])
    chunk = int(max(1, min(resamples, _CHUNK_CELLS // (n1 + n0 + 2 * n_groups))))
    # Distinct scores held by at least one non-member, ascending: k = 0 .. n_values-1.
    has_non = groups.non_members > 0
    value_of_group = np.cumsum(has_non) - 1  # last non-member value at or below each group
    n_values = int(value_of_group[-1]) + 1
    non_value = value_of_group[g_non]
    # A member's key: 2·(non-member values strictly below it) + 1 if it ties one.
    tie = has_non[g_mem]
    mem_key = 2 * (value_of_group[g_mem] + 1 - tie) + tie
    # below[2k] = drawn non-members under value k; below[2k+1] = under it plus half of those on it
    below = np.zeros(2 * n_values + 1)
    out = np.empty(resamples, dtype=float)
    done = 0
    while done < resamples:
        c = min(chunk, resamples - done)
        mem = rng.integers(0, n1, size=(c, n1))
        non = rng.integers(0, n0, size=(c, n0))
        for r in range(c):
            counts = np.bincount(non_value[non[r]], minlength=n_values)
            cumulative = np.cumsum(counts)
            below[2::2] = cumulative
            below[1::2] = cumulative - 0.5 * counts
            out[done + r] = below[mem_key[mem[r]]].sum()
        done += c
    return out / (float(n1) * float(n0))


#: above this many records (members + non-members) the AUC interval is DeLong's asymptotic one: the
#: bootstrap costs resamples × records (about a minute per attack at 1,000,000 a side), while at this
#: size the two agree within the bootstrap's own Monte Carlo error (benchmarks/auc_large_n_coverage.py)
BOOTSTRAP_MAX_RECORDS = 100_000


def delong_auc_interval(groups: ScoreGroups, *, confidence: float) -> tuple[float, float]:
    """Two-sided DeLong (1988) interval for the Mann–Whitney AUC, ties counted ½, clipped to [0, 1].

    The AUC is the mean of the members' placement values (share of
    non-members scoring below, ties ½); its variance is estimated from the
    sample variances of the members' and the non-members' placement values,
    ``S10/n1 + S01/n0``, in O(distinct scores) from the grouped scores.
    """
    from scipy.stats import norm

    n1, n0 = groups.n_members, groups.n_non_members
    mem = groups.members.astype(float)
    non = groups.non_members.astype(float)
    non_below = np.cumsum(non) - non
    mem_above = n1 - np.cumsum(mem)
    v10 = (non_below + 0.5 * non) / n0  # each member's placement among non-members
    v01 = (mem_above + 0.5 * mem) / n1  # each non-member's placement among members
    auc = float(np.sum(mem * v10) / n1)
    s10 = float(np.sum(mem * (v10 - auc) ** 2) / max(n1 - 1, 1))
    s01 = float(np.sum(non * (v01 - auc) ** 2) / max(n0 - 1, 1))
    se = math.sqrt(s10 / n1 + s01 / n0)
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    return max(0.0, auc - z * se), min(1.0, auc + z * se)


def percentile_interval(samples: np.ndarray, *, confidence: float) -> tuple[float, float]:
    """Two-sided percentile interval of bootstrap ``samples``."""
    alpha = 1.0 - confidence
    lo, hi = np.quantile(samples, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


# ---------------------------------------------------------------- advantage
def advantage_interval(
    advantage: float, n_members: int, n_non_members: int, *, confidence: float
) -> tuple[float, float]:
    """Distribution-free interval for max(TPR − FPR) by the DKW–Massart inequality.

    With probability ≥ 1 − α/2 each, the empirical member and non-member
    score distributions are within ε₁ and ε₀ of the true ones at every
    threshold at once (ε = sqrt(ln(4/α) / 2n)); the advantage, a maximum over
    thresholds, then moves by at most ε₁ + ε₀.
    """
    alpha = 1.0 - confidence
    e1 = math.sqrt(math.log(4.0 / alpha) / (2.0 * n_members))
    e0 = math.sqrt(math.log(4.0 / alpha) / (2.0 * n_non_members))
    return max(0.0, advantage - e1 - e0), min(1.0, advantage + e1 + e0)

"""When a TPR at a fixed FPR may be printed as a result: one rule for every figure.

A TPR at FPR ``f`` is *determinable* from a sample only if both hold:

1. **Enough false positives.** ``f × n_non_members ≥ min_false_positives``.
   Below that, the threshold that gives FPR ``f`` rests on a handful of
   non-members and the interval spans most of [0, 1].
2. **The score decides, not a coin.** When many records share one score, the
   threshold for FPR ``f`` can fall inside that group of tied scores; the
   reported TPR is then the expected TPR when the tied records are flagged at
   random. The figure is not determinable if (a) more than ``max_tie_share``
   of the records flagged at ``f`` (in expectation) are drawn at random from
   the tie, so the figure describes the tie-breaking, not the attack; or (b)
   one group of tied scores holding more than ``max_tie_share`` of *all*
   records lies within the interval's threshold window (between the k_a-th
   and k_b-th highest non-member scores of the 95% interval), so that the
   interval's bounds are merely the two edges of that tie.

The rule is applied identically to every attack's operating points, the
headline, slices and what-if comparisons (:func:`tpr_determinable`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance_mia.metrics._intervals import tpr_interval
from compliance_mia.metrics._ranking import Roc
from compliance_mia.metrics._settings import StatisticsSettings


@dataclass(frozen=True)
class Determinability:
    """Whether a TPR at ``fpr`` may be printed, and why not.

    Attributes
    ----------
    determinable : bool
    reason : str or None
        Plain-language reason, starting "not determinable:", when not determinable.
    expected_false_positives : float
        ``fpr × n_non_members``.
    tie_share : float
        Expected share of the records flagged at ``fpr`` that are picked at
        random from the tie group straddling the threshold (0 without one).
    tied_records_share : float
        Share of all records in that tie group (0 without one).
    window_tie_share : float
        Share of all records in the largest tie group within the interval's
        threshold window (ranks k_a to k_b of the single-attack interval).
    """

    determinable: bool
    reason: str | None
    expected_false_positives: float
    tie_share: float
    tied_records_share: float
    window_tie_share: float = 0.0


def fmt_rate(rate: float) -> str:
    """A rate as a short percentage: 0.001 -> '0.1%', 0.25 -> '25%'."""
    return f"{rate * 100:.3g}%"


def non_members_needed(fpr: float, settings: StatisticsSettings) -> int:
    """Non-members needed so that ``fpr`` × n reaches ``min_false_positives``."""
    return int(np.ceil(settings.min_false_positives / fpr - 1e-9))


def threshold_tie(roc: Roc, fpr: float) -> tuple[float, float]:
    """(share of flagged records picked at random, share of all records tied) at ``fpr``.

    Let c = fpr × n0 be the non-members flagged in expectation. If c falls
    strictly inside a group of tied scores (g0 non-members and g1 members,
    with FP non-members and TP members scoring above it), the tie is broken
    at random with probability r = (c − FP)/g0, flagging r·(g0 + g1) records
    at random out of TP + FP + r·(g0 + g1) flagged in all.
    """
    n0, n1 = roc.n_non_members, roc.n_members
    c = float(fpr) * n0
    i = int(np.searchsorted(roc.fp, c, side="left"))
    if i <= 0 or i >= roc.fp.size or roc.fp[i] == c:
        return 0.0, 0.0
    fp_before, tp_before = float(roc.fp[i - 1]), float(roc.tp[i - 1])
    g0 = float(roc.fp[i] - roc.fp[i - 1])
    g1 = float(roc.tp[i] - roc.tp[i - 1])
    r = (c - fp_before) / g0
    random_part = r * (g0 + g1)
    total = tp_before + fp_before + random_part
    share = random_part / total if total > 0 else 0.0
    return float(share), float((g0 + g1) / (n0 + n1))


def window_tie(roc: Roc, fpr: float, *, confidence: float) -> float:
    """Share of all records in the largest tie group between the interval's threshold ranks.

    The ranks k_a and k_b are those of :func:`tpr_interval` at ``confidence``;
    a group counts when any of its non-members ranks between max(k_a, 1) and
    min(k_b, n0) among the non-member scores (highest first).
    """
    n0, n1 = roc.n_non_members, roc.n_members
    t = tpr_interval(roc, fpr, confidence=confidence)
    lo, hi = max(t.k_lower, 1), min(t.k_upper, n0)
    if n0 == 0 or lo > hi:
        return 0.0
    i_a = int(np.searchsorted(roc.fp, lo, side="left"))
    i_b = int(np.searchsorted(roc.fp, hi, side="left"))
    idx = np.arange(max(i_a, 1), i_b + 1)
    sizes = (roc.tp[idx] - roc.tp[idx - 1]) + (roc.fp[idx] - roc.fp[idx - 1])
    return float(sizes.max() / (n0 + n1)) if idx.size else 0.0


def tpr_determinable(roc: Roc, fpr: float, *, settings: StatisticsSettings) -> Determinability:
    """Decide whether the TPR at ``fpr`` on ``roc`` may be printed as a result.

    Parameters
    ----------
    roc : Roc
        Exact ROC of the attack (or of a slice, or of a what-if run); build it
        with :func:`compliance_mia.metrics.roc_curve` from scores and labels.
    fpr : float
        Target false-positive rate.
    settings : StatisticsSettings
        Uses ``min_false_positives`` and ``max_tie_share``.

    Returns
    -------
    Determinability
        Not determinable when ``fpr × n_non_members < min_false_positives``,
        when more than ``max_tie_share`` of the records flagged at ``fpr``
        are picked at random from a tie straddling the threshold, or when a
        tie holding more than ``max_tie_share`` of all records lies within
        the interval's threshold window. The decision does not depend on how
        many attacks are compared (the window is that of the single-attack
        interval), so attack, headline and slice figures agree.
    """
    n0 = roc.n_non_members
    expected = float(fpr) * n0
    share, tied = threshold_tie(roc, fpr)
    window = window_tie(roc, fpr, confidence=settings.confidence_level)
    if expected < settings.min_false_positives:
        needed = non_members_needed(fpr, settings)
        reason = (
            f"not determinable: only {expected:.3g} false positives expected among {n0:,} "
            f"non-members at a {fmt_rate(fpr)} false-positive rate; at least "
            f"{settings.min_false_positives} needed (about {needed:,} non-members)"
        )
        return Determinability(False, reason, expected, share, tied, window)
    if share > settings.max_tie_share:
        reason = (
            f"not determinable: {fmt_rate(tied)} of records share one score at the threshold, so "
            f"{fmt_rate(share)} of the records flagged at a {fmt_rate(fpr)} false-positive rate would be "
            f"picked at random among them (at most {fmt_rate(settings.max_tie_share)} allowed)"
        )
        return Determinability(False, reason, expected, share, tied, window)
    if window > settings.max_tie_share:
        reason = (
            f"not determinable: {fmt_rate(window)} of records share one score within the range where "
            f"the {fmt_rate(fpr)} false-positive threshold may lie, so the interval only spans the "
            f"edges of that tie (at most {fmt_rate(settings.max_tie_share)} of records allowed)"
        )
        return Determinability(False, reason, expected, share, tied, window)
    return Determinability(True, None, expected, share, tied, window)

"""From one attack's per-record scores to its AttackMetrics.

Everything the report shows about one attack is computed here from the
scores and the membership labels alone, with an interval, the sample size
and, where the sample cannot support a figure, the reason in plain words.
"""

from __future__ import annotations

import math

import numpy as np

from compliance_mia.assessment import (
    AttackMetrics,
    CurvePoints,
    Histogram,
    Interval,
    OperatingPoint,
    TieReport,
)
from compliance_mia.metrics._epsilon import epsilon_bound
from compliance_mia.metrics._intervals import (
    advantage_interval,
    bootstrap_auc,
    min_detectable_tpr,
    percentile_interval,
    tpr_interval,
)
from compliance_mia.metrics._ranking import (
    TIE_POLICY,
    Roc,
    ScoreGroups,
    advantage_from_roc,
    auc_from_groups,
    plot_points,
    roc_from_groups,
    threshold_at,
)
from compliance_mia.metrics._settings import StatisticsSettings
from compliance_mia.seeding import rng

HISTOGRAM_BINS = 30

AUC_METHOD = "bootstrap-percentile (stratified)"
TPR_METHOD = "clopper-pearson (threshold-adjusted)"
ADVANTAGE_METHOD = "dkw-massart"


def fmt_rate(rate: float) -> str:
    """A rate as a short percentage: 0.001 -> '0.1%', 0.25 -> '25%'."""
    pct = rate * 100
    text = f"{pct:.3g}"
    return f"{text}%"


def non_members_needed(fpr: float, settings: StatisticsSettings) -> int:
    """Non-members needed so that ``fpr`` × n reaches ``min_false_positives``."""
    return int(math.ceil(settings.min_false_positives / fpr - 1e-9))


def not_measurable_reason(fpr: float, n_non_members: int, settings: StatisticsSettings) -> str:
    expected = fpr * n_non_members
    needed = non_members_needed(fpr, settings)
    return (
        f"Not measurable at this sample size: at a {fmt_rate(fpr)} false-positive rate, the "
        f"{n_non_members:,} non-members would give only about {expected:.3g} wrongly flagged "
        f"record(s), and at least {settings.min_false_positives} are needed before the rate can be "
        f"told apart from chance. About {needed:,} non-members would be needed."
    )


def ppv(tpr: float, fpr: float, prior: float) -> float | None:
    """Precision P(member | flagged) when a share ``prior`` of those tested are members."""
    num = prior * tpr
    den = num + (1.0 - prior) * fpr
    return float(num / den) if den > 0 else None


def operating_points(
    roc: Roc, *, settings: StatisticsSettings, confidence: float | None = None
) -> list[OperatingPoint]:
    """One OperatingPoint per FPR level in ``settings``."""
    conf = settings.confidence_level if confidence is None else confidence
    n1, n0 = roc.n_members, roc.n_non_members
    points = []
    for f in settings.fpr_levels:
        t = tpr_interval(roc, f, confidence=conf)
        measurable = f * n0 >= settings.min_false_positives
        points.append(
            OperatingPoint(
                fpr=float(f),
                tpr=Interval(
                    estimate=t.estimate,
                    lower=t.lower,
                    upper=t.upper,
                    confidence=float(conf),
                    method=TPR_METHOD,
                    count=t.expected_count,
                    n=int(n1),
                ),
                measurable=measurable,
                reason=None if measurable else not_measurable_reason(f, n0, settings),
                non_members_needed=non_members_needed(f, settings),
                min_detectable_tpr=min_detectable_tpr(n1, f, confidence=conf),
                ppv=ppv(t.estimate, f, settings.member_prior),
                threshold=threshold_at(roc, f),
            )
        )
    return points


def auc_interval(
    groups: ScoreGroups,
    *,
    settings: StatisticsSettings,
    seed: int,
    stream: str,
    confidence: float | None = None,
    resamples: int | None = None,
) -> Interval:
    """AUC with a seeded stratified bootstrap percentile interval.

    ``resamples`` overrides the policy's count, e.g. for a high-confidence
    (selection-corrected) interval whose tails need more resamples.
    """
    conf = settings.confidence_level if confidence is None else confidence
    auc = auc_from_groups(groups)
    samples = bootstrap_auc(
        groups,
        resamples=resamples or settings.bootstrap_resamples,
        rng=rng(seed, "bootstrap", stream),
    )
    lo, hi = percentile_interval(samples, confidence=conf)
    return Interval(
        estimate=auc,
        lower=min(lo, auc),
        upper=max(hi, auc),
        confidence=float(conf),
        method=AUC_METHOD,
        n=int(groups.n_members + groups.n_non_members),
    )


def histogram(groups: ScoreGroups, *, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Member and non-member score counts over shared bins (infinite scores in the end bins)."""
    values = groups.values
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        finite = np.array([0.0])
    lo, hi = float(finite.min()), float(finite.max())
    n_bins = bins if hi > lo else 1
    edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    clipped = np.clip(values, edges[0], edges[-1])
    which = np.clip(np.searchsorted(edges, clipped, side="right") - 1, 0, n_bins - 1)
    members = np.bincount(which, weights=groups.members, minlength=n_bins)
    non_members = np.bincount(which, weights=groups.non_members, minlength=n_bins)
    return Histogram(
        edges=[float(e) for e in edges],
        members=[int(round(c)) for c in members],
        non_members=[int(round(c)) for c in non_members],
    )


def tie_report(groups: ScoreGroups) -> TieReport:
    sizes = groups.members + groups.non_members
    return TieReport(
        largest_tie_fraction=float(sizes.max() / sizes.sum()),
        distinct_scores=int(groups.values.size),
        policy=TIE_POLICY,
    )


def evaluate_attack(
    scores: np.ndarray,
    is_member: np.ndarray,
    *,
    settings: StatisticsSettings,
    seed: int,
    stream: str,
    n_comparisons: int = 1,
    auc_bootstrap: bool = True,
) -> AttackMetrics:
    """Every figure for one attack, each with its interval and sample size.

    ``auc_bootstrap=False`` skips the AUC's bootstrap interval (the point
    estimate is kept): for comparison runs such as the what-if analysis, whose
    reported intervals come from :func:`headline` instead.

    Parameters
    ----------
    scores : ndarray of shape (n_records,)
        Attack scores, higher = more likely a member.
    is_member : ndarray of shape (n_records,)
        True for members (training records), False for non-members.
    settings : StatisticsSettings
        Confidence, FPR levels, bootstrap size, δ, member prior, thresholds.
    seed : int
        The policy seed; the bootstrap draws from stream ``("bootstrap", stream)``.
    stream : str
        Name of the bootstrap stream (e.g. ``"main/loss_threshold"``).
    n_comparisons : int, default=1
        How many attacks are compared; the ε bound is corrected for all of them.

    Returns
    -------
    AttackMetrics
    """
    groups = ScoreGroups.build(scores, is_member)
    roc = roc_from_groups(groups)
    n1, n0 = groups.n_members, groups.n_non_members
    adv = advantage_from_roc(roc)
    adv_lo, adv_hi = advantage_interval(adv, n1, n0, confidence=settings.confidence_level)
    fpr, tpr = plot_points(roc)
    return AttackMetrics(
        n_members=int(n1),
        n_non_members=int(n0),
        auc=(
            auc_interval(groups, settings=settings, seed=seed, stream=stream)
            if auc_bootstrap
            else Interval(
                estimate=auc_from_groups(groups),
                lower=None,
                upper=None,
                confidence=float(settings.confidence_level),
                method="point estimate (interval not computed for this comparison run)",
                n=int(n1 + n0),
            )
        ),
        advantage=Interval(
            estimate=adv,
            lower=adv_lo,
            upper=adv_hi,
            confidence=float(settings.confidence_level),
            method=ADVANTAGE_METHOD,
            n=int(n1 + n0),
        ),
        operating_points=operating_points(roc, settings=settings),
        epsilon=epsilon_bound(
            roc,
            delta=settings.delta,
            confidence=settings.confidence_level,
            n_comparisons=n_comparisons,
        ),
        roc=CurvePoints(fpr=fpr, tpr=tpr),
        histogram=histogram(groups),
        ties=tie_report(groups),
    )

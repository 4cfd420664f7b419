"""From one attack's per-record scores to its AttackMetrics.

Everything the report shows about one attack is computed here from the
scores and the membership labels alone, with an interval, the sample size
and, where the sample cannot support a figure, the reason in plain words.
"""

from __future__ import annotations

import numpy as np

from compliance_mia.assessment import (
    AttackMetrics,
    CurvePoints,
    Histogram,
    Interval,
    OperatingPoint,
    TieReport,
    TprCounts,
)
from compliance_mia.metrics._determinable import (
    Determinability,
    non_members_needed,
    tpr_determinable,
)
from compliance_mia.metrics._epsilon import epsilon_bound
from compliance_mia.metrics._intervals import (
    BOOTSTRAP_MAX_RECORDS,
    TprInterval,
    advantage_interval,
    bootstrap_auc,
    delong_auc_interval,
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
DELONG_METHOD = "DeLong asymptotic normal"
TPR_METHOD = "threshold-adjusted Clopper–Pearson"
ADVANTAGE_METHOD = "dkw-massart"


def ppv(tpr: float, fpr: float, prior: float) -> float | None:
    """Precision P(member | flagged) when a share ``prior`` of those tested are members."""
    num = prior * tpr
    den = num + (1.0 - prior) * fpr
    return float(num / den) if den > 0 else None


def tpr_method(t: TprInterval) -> str:
    """Exact description of the threshold-adjusted Clopper–Pearson computation behind ``t``."""
    return (
        f"threshold-adjusted Clopper–Pearson: one-sided exact binomial bounds at level "
        f"a = {t.bound_level:.4g} each on the members flagged at two thresholds set by "
        f"non-member order statistics (strictly above the k_a-th and at or above the k_b-th "
        f"highest of {t.n_non_members:,} non-member scores, k_a = {t.k_lower}, "
        f"k_b = {t.k_upper}: "
        f"{t.members_lower:,} and {t.members_upper:,} of {t.n_members:,} members); "
        f"lower = Beta.ppf(a, x_lo, n − x_lo + 1), upper = Beta.ppf(1 − a, x_hi + 1, n − x_hi)"
    )


def tpr_counts(t: TprInterval, fpr: float) -> TprCounts:
    """The stored counts from which ``t``'s bounds are recomputed."""
    return TprCounts(
        target_fpr=float(fpr),
        n_members=t.n_members,
        n_non_members=t.n_non_members,
        bound_level=t.bound_level,
        k_lower=t.k_lower,
        k_upper=t.k_upper,
        members_lower=t.members_lower,
        members_upper=t.members_upper,
        fpr_lower=t.lower_fpr,
        fpr_upper=t.upper_fpr,
    )


def tpr_interval_record(
    roc: Roc,
    fpr: float,
    *,
    settings: StatisticsSettings,
    comparisons: int = 1,
) -> tuple[Interval, Determinability]:
    """TPR at ``fpr`` as a self-describing Interval, with its determinability.

    With ``comparisons`` m > 1 the interval is simultaneous over m attacks:
    computed at confidence 1 − α/m (each of its four bounds at α/(4m)) and
    labelled ``scope="simultaneous"``. A figure that is not determinable
    keeps its numbers in the JSON but carries ``determinable=False`` and the
    reason in ``note``.
    """
    m = max(int(comparisons), 1)
    per = 1.0 - settings.alpha / m
    t = tpr_interval(roc, fpr, confidence=per)
    det = tpr_determinable(roc, fpr, settings=settings)
    interval = Interval(
        estimate=t.estimate,
        lower=t.lower,
        upper=t.upper,
        confidence=float(settings.confidence_level),
        method=tpr_method(t),
        count=t.expected_count,
        n=int(roc.n_members),
        scope="simultaneous" if m > 1 else "single",
        comparisons=m,
        per_comparison_confidence=float(per),
        determinable=det.determinable,
        note=det.reason,
        tpr_counts=tpr_counts(t, fpr),
    )
    return interval, det


def operating_points(
    roc: Roc, *, settings: StatisticsSettings, comparisons: int = 1
) -> list[OperatingPoint]:
    """One OperatingPoint per FPR level in ``settings``.

    ``comparisons`` > 1 gives intervals simultaneous over that many attacks
    (see :func:`tpr_interval_record`). Determinability follows
    :func:`~compliance_mia.metrics._determinable.tpr_determinable`; a point
    that is not determinable has ``measurable=False`` and the reason.
    """
    n1 = roc.n_members
    conf = 1.0 - settings.alpha / max(int(comparisons), 1)
    points = []
    for f in settings.fpr_levels:
        interval, det = tpr_interval_record(roc, f, settings=settings, comparisons=comparisons)
        too_few = det.expected_false_positives < settings.min_false_positives
        points.append(
            OperatingPoint(
                fpr=float(f),
                tpr=interval,
                measurable=det.determinable,
                reason=det.reason,
                non_members_needed=(
                    non_members_needed(f, settings) if det.determinable or too_few else None
                ),
                min_detectable_tpr=min_detectable_tpr(n1, f, confidence=conf),
                ppv=ppv(float(interval.estimate), f, settings.member_prior),
                threshold=threshold_at(roc, f),
            )
        )
    return points


def auc_method(resamples: int) -> str:
    """Exact description of the AUC interval computation."""
    return (
        f"{AUC_METHOD}: {resamples:,} resamples drawing members and non-members separately with "
        "replacement; Mann–Whitney AUC of each (ties count ½); interval = the α/2 and 1 − α/2 "
        "quantiles (numpy linear interpolation) of the resampled AUCs, α = 1 − per-comparison "
        "confidence"
    )


def delong_method(records: int) -> str:
    """Exact description of the AUC interval used on audits too large to bootstrap."""
    return (
        f"{DELONG_METHOD}: used above {BOOTSTRAP_MAX_RECORDS:,} records ({records:,} here) instead of the "
        "stratified bootstrap; Mann–Whitney AUC (ties count ½) ± z·SE, SE² = S10/n_members + "
        "S01/n_non_members from the sample variances of the members' and non-members' placement values, "
        "z = the 1 − α/2 standard normal quantile, clipped to [0, 1], α = 1 − per-comparison confidence"
    )


def auc_interval(
    groups: ScoreGroups,
    *,
    settings: StatisticsSettings,
    seed: int,
    stream: str,
    comparisons: int = 1,
    resamples: int | None = None,
) -> Interval:
    """AUC with a seeded stratified bootstrap percentile interval.

    ``comparisons`` m > 1 gives an interval simultaneous over m attacks
    (quantiles at α/(2m)); ``resamples`` overrides the policy's count, e.g.
    for such an interval, whose tails need more resamples. The interval is
    not widened to contain the estimate: the stratified bootstrap mean of the
    AUC equals the estimate exactly, and an estimate outside the percentile
    interval would be reported as it is (its frequency is measured in
    benchmarks/statistics_coverage.py).
    """
    m = max(int(comparisons), 1)
    per = 1.0 - settings.alpha / m
    b = int(resamples or settings.bootstrap_resamples)
    auc = auc_from_groups(groups)
    records = int(groups.n_members + groups.n_non_members)
    if records > BOOTSTRAP_MAX_RECORDS:
        lo, hi = delong_auc_interval(groups, confidence=per)
        method = delong_method(records)
    else:
        samples = bootstrap_auc(groups, resamples=b, rng=rng(seed, "bootstrap", stream))
        lo, hi = percentile_interval(samples, confidence=per)
        method = auc_method(b)
    return Interval(
        estimate=auc,
        lower=lo,
        upper=hi,
        confidence=float(settings.confidence_level),
        method=method,
        n=records,
        scope="simultaneous" if m > 1 else "single",
        comparisons=m,
        per_comparison_confidence=float(per),
    )


def histogram(groups: ScoreGroups, *, bins: int = HISTOGRAM_BINS) -> Histogram:
    """Member and non-member score counts over shared bins (infinite scores in the end bins)."""
    values = groups.values
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        finite = np.array([0.0])
    lo, hi = float(finite.min()), float(finite.max())
    n_bins = bins if hi > lo else 1
    # lo·(1−t) + hi·t never overflows, even when hi − lo exceeds the float range
    steps = np.linspace(0.0, 1.0, n_bins + 1)
    edges = lo * (1.0 - steps) + hi * steps if hi > lo else np.array([lo - 0.5, lo + 0.5])
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
            method=(
                f"{ADVANTAGE_METHOD}: advantage ± (sqrt(ln(4/α)/(2·n_members)) + "
                "sqrt(ln(4/α)/(2·n_non_members))), clipped to [0, 1]"
            ),
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

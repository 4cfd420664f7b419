"""The worst case across attacks, with intervals corrected for picking it.

Choosing the strongest of m attacks after looking at the results and then
quoting its interval as if it had been chosen in advance overstates what is
known. The headline therefore recomputes the strongest attack's intervals so
that they would hold for all m attacks at once (Bonferroni: each at
confidence 1 − α/m; ``scope="simultaneous"``, ``comparisons=m``), and takes
the ε bound over every attack and threshold under one simultaneous
correction, naming the attack and threshold the largest bound comes from
(which need not be the strongest attack).
"""

from __future__ import annotations

import math

import numpy as np

from compliance_mia.assessment import AttackOutcome, EpsilonBound, Headline
from compliance_mia.metrics._determinable import tpr_determinable
from compliance_mia.metrics._epsilon import epsilon_bound
from compliance_mia.metrics._evaluate import auc_interval, operating_points
from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups, tpr_at
from compliance_mia.metrics._settings import StatisticsSettings


def _selection_text(m: int, settings: StatisticsSettings, per: float) -> str:
    conf = settings.confidence_level
    if m <= 1:
        return (
            "Only one attack was run, so no correction for choosing the strongest was needed; "
            f"intervals are at {conf:.0%} confidence."
        )
    return (
        f"The strongest of {m} attacks was chosen after seeing the results. To keep its figures "
        f"honest, each interval was computed at {per:.2%} confidence instead of {conf:.0%} "
        f"(Bonferroni correction over {m} attacks), so the intervals hold at {conf:.0%} "
        "confidence whichever attack turned out strongest."
    )


def strongest(
    outcomes: list[AttackOutcome],
    scores: dict[str, np.ndarray],
    is_member: np.ndarray,
    *,
    reference_fpr: float,
    settings: StatisticsSettings | None = None,
) -> str:
    """Name of the attack with the highest TPR at ``reference_fpr`` (ties: highest AUC).

    With ``settings``, a TPR that is not determinable
    (:func:`~compliance_mia.metrics._determinable.tpr_determinable`) does not
    count: an attack is never called strongest on a figure the report may not
    print (e.g. a TPR decided by breaking a large tie at random); such
    attacks rank below every determinable one, among themselves by AUC.
    """
    best: tuple[float, float, str] | None = None
    for outcome in outcomes:
        groups = ScoreGroups.build(scores[outcome.name], is_member)
        roc = roc_from_groups(groups)
        tpr = float(tpr_at(roc, reference_fpr))
        if settings is not None and not tpr_determinable(roc, reference_fpr, settings=settings).determinable:
            tpr = -1.0
        auc = outcome.metrics.auc.estimate
        key = (round(tpr, 12), -1.0 if auc is None else round(auc, 12), outcome.name)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return best[2]


#: bootstrap resamples wanted beyond each percentile of a selection-corrected interval
TAIL_RESAMPLES = 10
#: most resamples a headline interval draws (about 1 s on 10,000 records)
MAX_HEADLINE_RESAMPLES = 20_000


def headline_resamples(settings: StatisticsSettings, m: int) -> int:
    """Resamples for the headline AUC interval, so each tail rests on enough draws.

    A Bonferroni-corrected interval over ``m`` attacks reads percentiles at
    α/(2m) (e.g. 0.23% for 11 attacks at 95%); with the policy's default of
    1,000 resamples that tail would rest on about two draws. The headline
    therefore draws at least ``TAIL_RESAMPLES / (α/(2m))`` resamples.
    """
    tail = settings.alpha / (2 * max(m, 1))
    wanted = math.ceil(TAIL_RESAMPLES / tail)
    return int(min(max(settings.bootstrap_resamples, wanted), MAX_HEADLINE_RESAMPLES))


def headline(
    outcomes: list[AttackOutcome],
    scores: dict[str, np.ndarray],
    is_member: np.ndarray,
    *,
    settings: StatisticsSettings,
    seed: int,
    comparisons: int | None = None,
) -> Headline:
    """Worst case across ``outcomes``, with selection-corrected intervals.

    ``comparisons`` is the number of attacks the correction covers (default:
    ``len(outcomes)``). The strongest label-only attack is picked among the
    label-only attacks but corrected over every attack run, so that its
    figures and the headline's rest on one statistical basis.

    Parameters
    ----------
    outcomes : list of AttackOutcome
        The attacks run (their metrics give the AUC used to break TPR ties).
    scores : dict
        Per-record scores by attack name, aligned with ``is_member``.
    is_member : ndarray of bool
    settings : StatisticsSettings
    seed : int
        Policy seed; bootstrap stream ``("bootstrap", "headline/<attack>")``.
    """
    if not outcomes:
        raise ValueError("headline needs at least one attack outcome")
    m = max(int(comparisons or len(outcomes)), len(outcomes))
    alpha = settings.alpha
    per = 1.0 - alpha / m
    name = strongest(
        outcomes, scores, is_member, reference_fpr=settings.reference_fpr, settings=settings
    )
    groups = ScoreGroups.build(scores[name], is_member)
    roc = roc_from_groups(groups)
    own = next(o for o in outcomes if o.name == name).metrics.auc
    if m == 1 and own.lower is not None:
        # One attack: the headline is that attack's figure, with the very same interval.
        auc = own
    else:
        auc = auc_interval(
            groups,
        settings=settings,
        seed=seed,
        stream=f"headline/{name}",
        comparisons=m,
        resamples=headline_resamples(settings, m),
    )
    points = operating_points(roc, settings=settings, comparisons=m)
    return Headline(
        strongest_attack=name,
        auc=auc,
        tpr_at_fpr=points,
        epsilon=_epsilon_over_attacks(outcomes, scores, is_member, settings=settings, comparisons=m),
        selection_correction=_selection_text(m, settings, per),
        reference_fpr=float(settings.reference_fpr),
    )


def _epsilon_over_attacks(
    outcomes: list[AttackOutcome],
    scores: dict[str, np.ndarray],
    is_member: np.ndarray,
    *,
    settings: StatisticsSettings,
    comparisons: int,
) -> EpsilonBound:
    m = comparisons
    bounds = [
        epsilon_bound(
            roc_from_groups(ScoreGroups.build(scores[o.name], is_member)),
            delta=settings.delta,
            confidence=settings.confidence_level,
            n_comparisons=m,
            attack=o.name,
        )
        for o in outcomes
    ]
    examined = sum(b.thresholds_examined for b in bounds) // len(outcomes)
    valued = [b for b in bounds if b.epsilon_lower is not None]
    best = max(valued, key=lambda b: b.epsilon_lower or 0.0) if valued else bounds[0]
    where = (
        f"; the largest comes from {best.attack} at the threshold flagging records that score "
        f"above the top {best.threshold_rank} non-member(s)"
        if valued
        else ""
    )
    return best.model_copy(
        update={
            "epsilon_lower": best.epsilon_lower if valued else None,
            "attack": best.attack if valued else None,
            "thresholds_examined": int(examined),
            "correction": (
                f"Largest bound over {m} attack(s) × their thresholds ({examined} threshold tests "
                "in all); every test is Bonferroni-corrected for all of them together, so the "
                f"bound holds at {settings.confidence_level:.0%} confidence after picking the "
                f"largest{where}."
            ),
        }
    )

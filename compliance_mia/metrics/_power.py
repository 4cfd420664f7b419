"""Sample-size power: what the audit records can and cannot show, and what would be needed.

Answers two questions before or after a run: with this many members and
non-members, which figures are measurable and how small a TPR could be told
apart from random guessing; and how many records a stated goal needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from compliance_mia.metrics._determinable import non_members_needed
from compliance_mia.metrics._intervals import min_detectable_tpr
from compliance_mia.metrics._settings import StatisticsSettings

#: Largest sample size searched for when computing records needed.
_MAX_SEARCH = 10**9


def power_table(n_members: int, n_non_members: int, *, settings: StatisticsSettings) -> list[dict]:
    """Per FPR level: measurable?, smallest detectable TPR, records needed.

    Returns
    -------
    list of dict
        Keys ``fpr``, ``measurable``, ``expected_false_positives``,
        ``non_members_needed``, ``min_detectable_tpr`` (None when no TPR
        could be told apart from guessing with this many members).
    """
    rows = []
    for f in settings.fpr_levels:
        rows.append(
            {
                "fpr": float(f),
                "measurable": bool(f * n_non_members >= settings.min_false_positives),
                "expected_false_positives": float(f * n_non_members),
                "non_members_needed": non_members_needed(f, settings),
                "min_detectable_tpr": min_detectable_tpr(
                    n_members, f, confidence=settings.confidence_level
                ),
            }
        )
    return rows


def members_needed(fpr: float, target_tpr: float, *, settings: StatisticsSettings) -> int | None:
    """Fewest members for which a TPR of ``target_tpr`` at ``fpr`` is distinguishable from guessing.

    ``None`` when ``target_tpr`` does not exceed ``fpr`` (nothing to detect).
    """
    if target_tpr <= fpr or target_tpr > 1:
        return None

    def ok(n: int) -> bool:
        mdt = min_detectable_tpr(n, fpr, confidence=settings.confidence_level)
        return mdt is not None and mdt <= target_tpr

    hi = 1
    while not ok(hi):
        hi *= 2
        if hi > _MAX_SEARCH:
            return None
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True)
class SampleSizeRow:
    """Records needed at one FPR level, and what the current sample supports."""

    fpr: float
    target_tpr: float
    non_members_needed: int
    members_needed: int | None
    measurable_now: bool | None = None
    min_detectable_tpr_now: float | None = None


@dataclass(frozen=True)
class SampleSizePlan:
    """What a `plan` command prints: records needed per FPR level for a stated goal."""

    rows: list[SampleSizeRow]
    lift: float
    confidence: float
    min_false_positives: int
    n_members: int | None = None
    n_non_members: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_table(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]


def records_needed(
    *,
    settings: StatisticsSettings,
    lift: float = 2.0,
    n_members: int | None = None,
    n_non_members: int | None = None,
) -> SampleSizePlan:
    """Members and non-members needed to measure each FPR level in ``settings``.

    The goal is stated as a ``lift``: detect an attack that flags members
    ``lift`` times as often as non-members (TPR = lift × FPR, capped at 1).
    Non-members needed make the FPR level measurable (``min_false_positives``
    expected false positives); members needed make such a TPR distinguishable
    from random guessing at the settings' confidence. When current sample
    sizes are given, each row also says what they support now.

    Examples
    --------
    >>> plan = records_needed(settings=StatisticsSettings(fpr_levels=(0.01,)))
    >>> plan.rows[0].non_members_needed
    1000
    """
    if lift <= 1:
        raise ValueError("lift must be above 1 (an attack better than guessing)")
    rows = []
    notes = []
    for f in settings.fpr_levels:
        target = min(1.0, lift * f)
        rows.append(
            SampleSizeRow(
                fpr=float(f),
                target_tpr=float(target),
                non_members_needed=non_members_needed(f, settings),
                members_needed=members_needed(f, target, settings=settings),
                measurable_now=(
                    None
                    if n_non_members is None
                    else f * n_non_members >= settings.min_false_positives
                ),
                min_detectable_tpr_now=(
                    None
                    if n_members is None
                    else min_detectable_tpr(n_members, f, confidence=settings.confidence_level)
                ),
            )
        )
    if n_members is not None and n_non_members is not None:
        short = [r for r in rows if r.measurable_now is False]
        if short:
            notes.append(
                f"With {n_non_members:,} non-members, TPR at "
                + ", ".join(f"{r.fpr:.3g}" for r in short)
                + " FPR will be reported as not measurable."
            )
    notes.append(
        "Members and non-members should come from the same population; the members must be a "
        "random sample of the training data, not its most typical records."
    )
    return SampleSizePlan(
        rows=rows,
        lift=float(lift),
        confidence=float(settings.confidence_level),
        min_false_positives=int(settings.min_false_positives),
        n_members=n_members,
        n_non_members=n_non_members,
        notes=notes,
    )

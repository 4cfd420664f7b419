"""Re-assessment: what changed between two Assessments, and is the change real?

:func:`compare` reads two Assessments (nothing else) and returns a
:class:`~compliance_mia.assessment.ChangeSummary`: the rating change, each
headline figure old -> new with a verdict on whether the difference exceeds
measurement noise, new and resolved findings, and changed input files.

How significance is decided, per figure (the method is written into each
item's note so a reader can check it):

* success rates at a fixed false-positive rate (TPR): two-sided Fisher exact
  test on the member counts (identified / not identified, old vs new) at
  α = 1 − the new assessment's confidence level; if a count is missing, the
  two confidence intervals must not overlap;
* AUC: the two confidence intervals must not overlap (the per-record scores
  behind a bootstrap are not in the Assessment). Non-overlap of two 95%
  intervals is a conservative test (roughly α ≈ 0.006 for equal widths);
* ε lower bounds and ratings are not tested: a bound is not an estimate, and
  a rating is a decision. Their direction is reported, not their significance.

``worsened`` is true when the overall rating rose on the same scale or any
tested figure became significantly worse. The CLI turns it into the exit code
of ``compliance-mia diff``.
"""

from __future__ import annotations

import logging
from typing import Literal

from scipy.stats import fisher_exact

from compliance_mia.assessment import (
    Assessment,
    ChangeItem,
    ChangeSummary,
    Interval,
    OperatingPoint,
    RiskRating,
)

__all__ = ["compare"]

logger = logging.getLogger(__name__)

Direction = Literal["better", "worse", "unchanged", "n/a"]


def _alpha(assessment: Assessment) -> float:
    level = assessment.statistics.get("confidence_level")
    if not isinstance(level, int | float) and assessment.headline is not None:
        level = assessment.headline.auc.confidence
    return 1.0 - float(level) if isinstance(level, int | float) and 0 < level < 1 else 0.05


def _label(confidence: float) -> str:
    return f"{confidence * 100:g}%"


def _rating_item(figure: str, old: RiskRating | None, new: RiskRating | None) -> ChangeItem | None:
    if old is None and new is None:
        return None
    old_level = old.level if old else None
    new_level = new.level if new else None
    direction: Direction = "n/a"
    note = ""
    if old is not None and new is not None:
        if old.scale != new.scale:
            note = f"different risk scales ({old.scale} vs {new.scale}); levels are not comparable"
        elif old.level in new.levels and new.level in new.levels:
            delta = new.levels.index(new.level) - new.levels.index(old.level)
            direction = "worse" if delta > 0 else "better" if delta < 0 else "unchanged"
    return ChangeItem(
        figure=figure,
        old=old_level,
        new=new_level,
        significant=None,
        direction=direction,
        note=note,
        unit="",
    )


def _overlap_verdict(old: Interval, new: Interval) -> tuple[bool | None, str]:
    if None in (old.lower, old.upper, new.lower, new.upper):
        return None, "no intervals recorded; not tested"
    disjoint = old.upper < new.lower or new.upper < old.lower
    label = _label(new.confidence)
    return disjoint, f"{label} intervals {'do not overlap' if disjoint else 'overlap'}"


def _direction(old: float, new: float, significant: bool | None) -> Direction:
    if significant:
        return "worse" if new > old else "better"
    return "unchanged"


def _score_item(figure: str, old: Interval, new: Interval) -> ChangeItem:
    if old.estimate is None or new.estimate is None:
        return ChangeItem(
            figure=figure,
            old=old.estimate,
            new=new.estimate,
            direction="n/a",
            note="not measured in one of the assessments",
            unit="score",
        )
    significant, note = _overlap_verdict(old, new)
    return ChangeItem(
        figure=figure,
        old=old.estimate,
        new=new.estimate,
        significant=significant,
        direction=_direction(old.estimate, new.estimate, significant),
        note=note,
        unit="score",
    )


def _rate_item(figure: str, old: OperatingPoint, new: OperatingPoint, alpha: float) -> ChangeItem:
    old_ok = old.measurable and old.tpr.estimate is not None
    new_ok = new.measurable and new.tpr.estimate is not None
    if not (old_ok and new_ok):
        which = "either" if not (old_ok or new_ok) else ("the old" if not old_ok else "the new")
        return ChangeItem(
            figure=figure,
            old=old.tpr.estimate if old_ok else "not measurable",
            new=new.tpr.estimate if new_ok else "not measurable",
            direction="n/a",
            note=f"not measurable at the sample size of {which} assessment",
            unit="share",
        )
    a, b = old.tpr, new.tpr
    if None not in (a.count, a.n, b.count, b.n):
        table = [[a.count, a.n - a.count], [b.count, b.n - b.count]]
        p = float(fisher_exact(table, alternative="two-sided")[1])
        significant = p < alpha
        shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        note = f"Fisher exact test on member counts ({a.count}/{a.n} vs {b.count}/{b.n}), {shown}"
    else:
        significant, note = _overlap_verdict(a, b)
    return ChangeItem(
        figure=figure,
        old=a.estimate,
        new=b.estimate,
        significant=significant,
        direction=_direction(a.estimate, b.estimate, significant)
        if significant is not None
        else "n/a",
        note=note,
        unit="share",
    )


def _fpr_text(fpr: float) -> str:
    return f"{fpr * 100:.4f}".rstrip("0").rstrip(".") + "%"


def _headline_items(old: Assessment, new: Assessment, alpha: float) -> list[ChangeItem]:
    items: list[ChangeItem] = []
    ho, hn = old.headline, new.headline
    if ho is None or hn is None:
        if ho is not None or hn is not None:
            items.append(
                ChangeItem(
                    figure="Strongest attack",
                    old=ho.strongest_attack if ho else None,
                    new=hn.strongest_attack if hn else None,
                    note="no headline in one assessment",
                )
            )
        return items
    if ho.strongest_attack != hn.strongest_attack:
        items.append(
            ChangeItem(
                figure="Strongest attack",
                old=ho.strongest_attack,
                new=hn.strongest_attack,
                note="the figures below compare different attacks",
            )
        )
    items.append(_score_item("AUC of the strongest attack", ho.auc, hn.auc))
    old_points = {round(p.fpr, 12): p for p in ho.tpr_at_fpr}
    for point in hn.tpr_at_fpr:
        previous = old_points.get(round(point.fpr, 12))
        if previous is not None:
            items.append(
                _rate_item(
                    f"Members identified at {_fpr_text(point.fpr)} false positives",
                    previous,
                    point,
                    alpha,
                )
            )
    eo = ho.epsilon.epsilon_lower if ho.epsilon else None
    en = hn.epsilon.epsilon_lower if hn.epsilon else None
    if eo is not None or en is not None:
        direction: Direction = "n/a"
        if eo is not None and en is not None:
            direction = "worse" if en > eo else "better" if en < eo else "unchanged"
        items.append(
            ChangeItem(
                figure="Privacy-loss lower bound (ε)",
                old=eo,
                new=en,
                significant=None,
                direction=direction,
                note="lower bounds are not tested for a difference",
                unit="epsilon",
            )
        )
    return items


def _attack_items(old: Assessment, new: Assessment) -> list[ChangeItem]:
    previous = {o.name: o for o in old.attacks}
    return [
        _score_item(
            f"AUC: {outcome.title}", previous[outcome.name].metrics.auc, outcome.metrics.auc
        )
        for outcome in new.attacks
        if outcome.name in previous
    ]


def _changed_files(old: Assessment, new: Assessment) -> list[str]:
    before = {f.role: f for f in old.evidence.files}
    after = {f.role: f for f in new.evidence.files}
    changes = []
    for role in sorted(before.keys() | after.keys()):
        o, n = before.get(role), after.get(role)
        if o is None and n is not None:
            changes.append(f"{role}: added {n.name} (sha256 {n.sha256[:12]}…)")
        elif n is None and o is not None:
            changes.append(f"{role}: removed {o.name}")
        elif o is not None and n is not None and o.sha256 != n.sha256:
            renamed = f"{o.name} → {n.name}, " if o.name != n.name else f"{n.name}, "
            changes.append(f"{role}: {renamed}sha256 {o.sha256[:12]}… → {n.sha256[:12]}…")
    return changes


def compare(old: Assessment, new: Assessment) -> ChangeSummary:
    """Compare a previous assessment with a new one.

    Parameters
    ----------
    old, new
        The previous and the current assessment of the same system.

    Returns
    -------
    ChangeSummary
        Ready to attach to the new assessment (``new.model_copy(update={"change": summary})``)
        or to render with :func:`compliance_mia.report.change.render_change`.
    """
    if old.system.name != new.system.name:
        logger.warning(
            "comparing assessments of different systems: %r and %r",
            old.system.name,
            new.system.name,
        )
    alpha = _alpha(new)
    items = [
        item
        for item in (
            _rating_item("Overall rating", old.risk, new.risk),
            _rating_item("Rating after recommended controls", old.residual_risk, new.residual_risk),
        )
        if item is not None
    ]
    items += _headline_items(old, new, alpha)
    items += _attack_items(old, new)
    old_findings = {f.id: f for f in old.findings}
    new_findings = {f.id: f for f in new.findings}
    rating_worse = items[0].direction == "worse"
    figure_worse = any(item.significant and item.direction == "worse" for item in items)
    return ChangeSummary(
        previous_id=old.assessment_id,
        previous_date=old.evidence.finished,
        rating_old=old.risk.level,
        rating_new=new.risk.level,
        worsened=rating_worse or figure_worse,
        items=items,
        new_findings=[
            f"{f.id}: {f.title}" for fid, f in new_findings.items() if fid not in old_findings
        ],
        resolved_findings=[
            f"{f.id}: {f.title}" for fid, f in old_findings.items() if fid not in new_findings
        ],
        changed_files=_changed_files(old, new),
    )


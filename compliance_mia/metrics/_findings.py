"""Findings the statistics themselves make: sample-size limits and the most exposed slice."""

from __future__ import annotations

from compliance_mia.assessment import AttackOutcome, Finding, Headline, Interval, SliceResult
from compliance_mia.figures import interval_pct, interval_score
from compliance_mia.metrics._determinable import fmt_rate, non_members_needed
from compliance_mia.metrics._intervals import min_detectable_tpr
from compliance_mia.metrics._settings import StatisticsSettings
from compliance_mia.metrics._slices import most_exposed_slice

#: An AUC interval wider than this is reported as imprecise.
WIDE_AUC_INTERVAL = 0.1

#: Slice columns that describe the model's behaviour rather than people.
_MODEL_COLUMNS = {"class", "prediction"}


def _ci(interval: Interval) -> str:
    return interval_score(interval, places=3)


def _pct_ci(interval: Interval) -> str:
    return interval_pct(interval, show_n=False)


def _slice_name(s: SliceResult) -> str:
    if s.column == "class":
        return f"records of class '{s.value}'"
    if s.column == "prediction":
        return (
            f"records the model predicts {'correctly' if s.value == 'correct' else 'incorrectly'}"
        )
    return f"records with {s.column} = '{s.value}'"


def sample_size_findings(
    *,
    headline: Headline | None,
    settings: StatisticsSettings,
    n_members: int,
    n_non_members: int,
) -> list[Finding]:
    """F-SAMPLE-*: figures the sample cannot support, and imprecise headline figures."""
    out: list[Finding] = []
    short = [f for f in settings.fpr_levels if f * n_non_members < settings.min_false_positives]
    if short:
        needed = {fmt_rate(f): non_members_needed(f, settings) for f in short}
        levels = ", ".join(fmt_rate(f) for f in short)
        out.append(
            Finding(
                id=f"F-SAMPLE-{len(out) + 1}",
                title="Some attack success rates cannot be measured with this many records",
                kind="sample-size",
                severity="low",
                detail=(
                    f"The audit used {n_non_members:,} non-members. At a false-positive rate of "
                    f"{levels}, that is too few wrongly flagged records (fewer than "
                    f"{settings.min_false_positives}) to tell an attack's success from chance, so "
                    "these figures are reported as not measurable rather than as numbers that "
                    "would be mostly noise. Low false-positive rates are where a real attacker "
                    "operates, so leakage there is not ruled out. Non-members needed: "
                    + "; ".join(f"{k}: {v:,}" for k, v in needed.items())
                    + "."
                ),
                figures={
                    "n_non_members": int(n_non_members),
                    "not_measurable_fpr": [float(f) for f in short],
                    "non_members_needed": {
                        str(float(f)): non_members_needed(f, settings) for f in short
                    },
                },
            )
        )
    ref = settings.reference_fpr
    mdt = min_detectable_tpr(n_members, ref, confidence=settings.confidence_level)
    if mdt is None or mdt > max(5 * ref, ref + 0.05):
        out.append(
            Finding(
                id=f"F-SAMPLE-{len(out) + 1}",
                title="Too few members to detect modest leakage",
                kind="sample-size",
                severity="low",
                detail=(
                    f"With {n_members:,} members, an attack would need to identify at least "
                    + (f"{fmt_rate(mdt)}" if mdt is not None else "more than all")
                    + f" of them at a {fmt_rate(ref)} false-positive rate before the result could "
                    "be told apart from random guessing. Weaker but real leakage would go "
                    "unnoticed; more members would make the assessment more sensitive."
                ),
                figures={
                    "n_members": int(n_members),
                    "reference_fpr": float(ref),
                    "min_detectable_tpr": mdt,
                },
            )
        )
    if headline is not None and headline.auc.lower is not None and headline.auc.upper is not None:
        width = headline.auc.upper - headline.auc.lower
        if width > WIDE_AUC_INTERVAL:
            out.append(
                Finding(
                    id=f"F-SAMPLE-{len(out) + 1}",
                    title="The overall attack success (AUC) is only roughly known",
                    kind="sample-size",
                    severity="info",
                    detail=(
                        f"The strongest attack's AUC is {_ci(headline.auc)}: the interval is "
                        f"{width:.2f} wide, so the sample pins down the leakage only roughly. "
                        "More members and non-members would narrow it."
                    ),
                    figures={"auc": headline.auc.model_dump(mode="json"), "width": float(width)},
                )
            )
    return out


def slice_findings(
    *,
    outcomes: list[AttackOutcome],
    headline: Headline | None,
    slices: list[SliceResult],
    settings: StatisticsSettings,
) -> list[Finding]:
    """F-SLICE-*: the most exposed slice, and slices too small to rank."""
    out: list[Finding] = []
    if not slices:
        return out
    overall: Interval | None = None
    if headline is not None:
        for o in outcomes:
            if o.name == headline.strongest_attack:
                overall = o.metrics.auc
    top = most_exposed_slice(slices)
    if top is not None and overall is not None and overall.estimate is not None:
        clearly = top.auc.lower is not None and top.auc.lower > overall.estimate
        protected = top.column not in _MODEL_COLUMNS
        severity = ("medium" if protected else "low") if clearly else "info"
        if clearly:
            verdict = (
                "Its interval lies entirely above the overall figure: these records are clearly "
                "easier to identify than the average record."
                + (
                    " Unequal exposure of a group defined by a personal attribute is a compliance "
                    "finding in itself (fair and non-discriminatory processing)."
                    if protected
                    else ""
                )
            )
        else:
            verdict = (
                "Its interval overlaps the overall figure, so the data do not show that this group "
                "is more exposed than the average record."
            )
        if top.tpr_at_fpr is None:
            tpr_text = ""
        elif not top.tpr_at_fpr.determinable:
            tpr_text = (
                f" Its rate at a {fmt_rate(settings.reference_fpr)} false-positive rate is "
                f"{top.tpr_at_fpr.note or 'not determinable'}."
            )
        else:
            tpr_text = (
                f" At a {fmt_rate(settings.reference_fpr)} false-positive rate the attack "
                f"identifies {_pct_ci(top.tpr_at_fpr)} of its members."
            )
        out.append(
            Finding(
                id="F-SLICE-1",
                title=f"Most exposed group: {_slice_name(top)}",
                kind="slice",
                severity=severity,
                detail=(
                    f"Among groups large enough to compare, {_slice_name(top)} "
                    f"({top.n_members:,} members, {top.n_non_members:,} non-members) are the most "
                    f"exposed to the strongest attack ({headline.strongest_attack}): AUC "
                    f"{_ci(top.auc)} against {_ci(overall)} over all records.{tpr_text} {verdict}"
                ),
                figures={
                    "column": top.column,
                    "value": top.value,
                    "n_members": top.n_members,
                    "n_non_members": top.n_non_members,
                    "auc": top.auc.model_dump(mode="json"),
                    "overall_auc": overall.model_dump(mode="json"),
                    "clearly_more_exposed": bool(clearly),
                    "protected_attribute": bool(protected),
                },
            )
        )
    small = [s for s in slices if s.small]
    if small:
        names = ", ".join(f"{s.column}={s.value}" for s in small[:10])
        more = f" and {len(small) - 10} more" if len(small) > 10 else ""
        out.append(
            Finding(
                id=f"F-SLICE-{len(out) + 1}",
                title="Some groups are too small to compare",
                kind="slice",
                severity="info",
                detail=(
                    f"{len(small)} group(s) have fewer than {settings.min_slice_size} members or "
                    f"non-members ({names}{more}). Their figures are shown with wide intervals but "
                    "not ranked, so a small group cannot be named the most exposed by chance. "
                    "Exposure of these groups is not established either way."
                ),
                figures={
                    "min_slice_size": int(settings.min_slice_size),
                    "small_slices": [f"{s.column}={s.value}" for s in small],
                },
            )
        )
    return out


def statistics_findings(
    *,
    outcomes: list[AttackOutcome],
    headline: Headline | None,
    slices: list[SliceResult],
    settings: StatisticsSettings,
    n_members: int,
    n_non_members: int,
) -> list[Finding]:
    """Sample-size limitations (F-SAMPLE-n) and slice findings (F-SLICE-n), in plain language."""
    return sample_size_findings(
        headline=headline, settings=settings, n_members=n_members, n_non_members=n_non_members
    ) + slice_findings(outcomes=outcomes, headline=headline, slices=slices, settings=settings)

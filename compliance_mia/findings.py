"""Measured attack results and the deployment's exposure, turned into findings.

A finding is a sentence an auditor can act on, with the figures behind it.
This module states what the attacks showed (leakage findings) and what in the
deployment makes leakage easier (configuration findings). Statistical
findings (sample sizes, unmeasurable figures, slices) come from
:mod:`compliance_mia.metrics`.

"Demonstrated" has one meaning throughout: the lower confidence bound of a
figure beats random guessing (AUC above 0.5, or TPR above the FPR at a
measurable operating point). A point estimate alone never demonstrates
leakage, and a figure not measurable at this sample size is not used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from compliance_mia.assessment import (
    AttackOutcome,
    ExposureSummary,
    Finding,
    Headline,
    Interval,
    OperatingPoint,
)

log = logging.getLogger(__name__)

__all__ = [
    "LeakageProfile",
    "demonstrated",
    "is_label_only",
    "leakage_findings",
    "leakage_profile",
]

_LABEL_SIGNALS = {"label", "arbitrary_queries"}


def is_label_only(outcome: AttackOutcome) -> bool:
    """Whether the attack read nothing but predicted labels (so output masking cannot stop it)."""
    from compliance_mia.attacks.base import get_attack

    try:
        requires = {s.value for s in get_attack(outcome.name).spec.requires}
    except KeyError:  # an attack from an older assessment or a plugin no longer installed
        return outcome.family == "label-only"
    return requires <= _LABEL_SIGNALS


def demonstrated(auc: Interval | None, points: list[OperatingPoint]) -> bool:
    """True when a lower confidence bound beats random guessing (AUC > 0.5 or TPR > FPR)."""
    if auc is not None and auc.lower is not None and auc.lower > 0.5:
        return True
    for op in points:
        if op.measurable and op.tpr.lower is not None and op.tpr.lower > op.fpr:
            return True
    return False


@dataclass(frozen=True)
class LeakageProfile:
    """Which kinds of attack demonstrably succeeded."""

    confidence: list[AttackOutcome] = field(
        default_factory=list
    )  #: score-reading attacks that leaked
    label_only: list[AttackOutcome] = field(default_factory=list)  #: label-only attacks that leaked
    label_only_ran: bool = False
    ran: bool = False

    @property
    def any(self) -> bool:
        return bool(self.confidence or self.label_only)


def leakage_profile(outcomes: list[AttackOutcome]) -> LeakageProfile:
    """Split the outcomes into score-reading and label-only attacks that demonstrably leaked."""
    conf: list[AttackOutcome] = []
    label: list[AttackOutcome] = []
    label_ran = False
    for outcome in outcomes:
        lab = is_label_only(outcome)
        label_ran = label_ran or lab
        if demonstrated(outcome.metrics.auc, outcome.metrics.operating_points):
            (label if lab else conf).append(outcome)
    return LeakageProfile(
        confidence=conf, label_only=label, label_only_ran=label_ran, ran=bool(outcomes)
    )


# ------------------------------------------------------------------ wording
def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    v = 100 * x
    return f"{v:.1f}%" if v == 0 or abs(v) >= 1 else f"{v:.2f}%"


def _ci(interval: Interval, pct: bool) -> str:
    show = _pct if pct else (lambda v: "n/a" if v is None else f"{v:.2f}")
    if interval.estimate is None:
        return "not reported"
    if interval.lower is None or interval.upper is None:
        return show(interval.estimate)
    conf = f"{round(100 * interval.confidence)}% CI"
    lo = show(interval.lower).rstrip("%") if pct else show(interval.lower)
    return f"{show(interval.estimate)} ({conf} {lo}–{show(interval.upper)})"


def _points_text(points: list[OperatingPoint]) -> str:
    parts = []
    for op in points:
        if op.measurable and op.tpr.estimate is not None:
            parts.append(f"TPR at {_pct(op.fpr)} FPR = {_ci(op.tpr, True)}")
        else:
            need = (
                f" (needs ≥ {op.non_members_needed:,} non-members)" if op.non_members_needed else ""
            )
            parts.append(f"TPR at {_pct(op.fpr)} FPR not measurable at this sample size{need}")
    return "; ".join(parts)


def _figures(
    auc: Interval, points: list[OperatingPoint], epsilon: float | None
) -> dict[str, object]:
    figures: dict[str, object] = {
        "auc": auc.estimate,
        "auc_lower": auc.lower,
        "auc_upper": auc.upper,
    }
    for op in points:
        key = f"tpr_at_{op.fpr:g}"
        figures[key] = op.tpr.estimate if op.measurable else None
        figures[f"{key}_lower"] = op.tpr.lower if op.measurable else None
        figures[f"{key}_upper"] = op.tpr.upper if op.measurable else None
    if epsilon is not None:
        figures["epsilon_lower"] = epsilon
    return figures


def _strength(auc: Interval, points: list[OperatingPoint]) -> str:
    """Grade demonstrated leakage by the lower bounds the risk matrix also uses.

    high: AUC lower bound ≥ 0.65 or TPR lower bound ≥ 3× the FPR (at ≤ 1% FPR);
    medium: AUC lower bound ≥ 0.55 or TPR lower bound above twice the FPR;
    low: better than guessing, but barely.
    """
    low_fpr = [op for op in points if op.measurable and op.tpr.lower is not None and op.fpr <= 0.01]
    if (auc.lower is not None and auc.lower >= 0.65) or any(
        op.tpr.lower >= 3 * op.fpr
        for op in low_fpr  # type: ignore[operator]
    ):
        return "high"
    if (auc.lower is not None and auc.lower >= 0.55) or any(
        op.tpr.lower > 2 * op.fpr
        for op in low_fpr  # type: ignore[operator]
    ):
        return "medium"
    return "low"


def _headline_finding(head: Headline) -> Finding:
    eps = head.epsilon.epsilon_lower if head.epsilon is not None else None
    figures = _figures(head.auc, head.tpr_at_fpr, eps)
    figures["strongest_attack"] = head.strongest_attack
    points = _points_text(head.tpr_at_fpr)
    eps_text = (
        f" The attack implies the model is not differentially private for any ε below {eps:.2f}."
        if eps
        else ""
    )
    if demonstrated(head.auc, head.tpr_at_fpr):
        return Finding(
            id="LEAK-MEMBERSHIP",
            title="Training records can be told apart from unseen records",
            kind="leakage",
            severity=_strength(head.auc, head.tpr_at_fpr),
            detail=(
                f"The strongest attack ({head.strongest_attack}) identifies whether a record was "
                "used in training better than random guessing: "
                f"AUC = {_ci(head.auc, False)}; {points}.{eps_text} "
                "Intervals account for choosing the strongest attack "
                f"({head.selection_correction})."
            ),
            figures=figures,
        )
    return Finding(
        id="LEAK-NONE-SHOWN",
        title="No attack did demonstrably better than random guessing",
        kind="leakage",
        severity="info",
        detail=(
            f"The strongest attack ({head.strongest_attack}) reached AUC = "
            f"{_ci(head.auc, False)}; {points}. "
            "The confidence intervals include random guessing. This bounds only the attacks that "
            "were run at this sample size; it is not proof that the model is anonymous."
        ),
        figures=figures,
    )


def leakage_findings(
    outcomes: list[AttackOutcome],
    headline: Headline | None,
    label_only_headline: Headline | None,
    exposure: ExposureSummary,
) -> list[Finding]:
    """Leakage and configuration findings from the measured outcomes and the exposure.

    Parameters
    ----------
    outcomes
        Every attack run under the policy's exposure.
    headline
        The strongest attack with selection-corrected intervals (None if none ran).
    label_only_headline
        The strongest label-only attack, if any ran.
    exposure
        What the deployed model returns and to whom.
    """
    findings: list[Finding] = []
    profile = leakage_profile(outcomes)
    if headline is None:
        findings.append(
            Finding(
                id="LEAK-NOT-MEASURED",
                title="Leakage could not be measured",
                kind="leakage",
                severity="medium",
                detail=(
                    "No membership inference attack could run with this exposure and data, so "
                    "the assessment neither shows nor rules out leakage. Provide population data "
                    "or reference models, or widen the audit's access, to measure it."
                ),
            )
        )
    else:
        findings.append(_headline_finding(headline))

    if profile.label_only:
        head = label_only_headline
        if head is not None and demonstrated(head.auc, head.tpr_at_fpr):
            name, auc, points = head.strongest_attack, head.auc, head.tpr_at_fpr
        else:  # quote an attack that did demonstrate it, by its own interval
            best = max(profile.label_only, key=lambda o: o.metrics.auc.lower or 0.0)
            name, auc, points = best.name, best.metrics.auc, best.metrics.operating_points
        findings.append(
            Finding(
                id="LEAK-LABEL-ONLY",
                title="Attacks that see only the predicted label also succeed",
                kind="leakage",
                severity=_strength(auc, points),
                detail=(
                    f"The label-only attack {name} does better than guessing: "
                    f"AUC = {_ci(auc, False)}; {_points_text(points)}. Hiding, rounding or "
                    "perturbing scores cannot stop it, because it needs only the predicted "
                    "label; reducing memorisation at training time (regularisation, "
                    "differential privacy) can."
                ),
                figures={**_figures(auc, points, None), "attack": name},
            )
        )
    elif profile.confidence and profile.label_only_ran:
        findings.append(
            Finding(
                id="LEAK-SCORES-ONLY",
                title="Leakage comes through the exposed scores",
                kind="leakage",
                severity="medium",
                detail=(
                    "Attacks reading the model's scores succeed ("
                    + ", ".join(o.name for o in profile.confidence)
                    + ") while label-only attacks did not demonstrably beat guessing, so "
                    "restricting the outputs is likely to remove most of the measured leakage; "
                    "the what-if results measure by how much."
                ),
                figures={"attacks": [o.name for o in profile.confidence]},
            )
        )

    findings.extend(_configuration_findings(exposure, leaked=profile.any))
    return findings


def _configuration_findings(exposure: ExposureSummary, *, leaked: bool) -> list[Finding]:
    out: list[Finding] = []
    scores = exposure.outputs in ("probabilities", "logits", "top_k", "loss")
    fine = scores and (exposure.rounding is None or exposure.rounding >= 2)
    limited = exposure.query_limit is not None and any(
        v is not None for v in exposure.query_limit.values()
    )
    if exposure.outputs == "loss":
        out.append(
            Finding(
                id="CONF-LOSS-EXPOSED",
                title="The deployment returns the loss",
                kind="configuration",
                severity="high" if leaked else "medium",
                detail=(
                    "Returning the loss of the true label hands callers the exact signal the "
                    "loss-threshold attack uses. A prediction service rarely needs it; return "
                    "labels or coarse scores instead."
                ),
                figures={"outputs": exposure.outputs},
            )
        )
    elif fine:
        rounding = (
            "unrounded" if exposure.rounding is None else f"rounded to {exposure.rounding} decimals"
        )
        out.append(
            Finding(
                id="CONF-FINE-SCORES",
                title="The deployment returns fine-grained scores",
                kind="configuration",
                severity=("high" if leaked else "medium") if exposure.access == "public" else "low",
                detail=(
                    f"Callers ({exposure.access} access) receive {exposure.description} "
                    f"({rounding}). Scores are what the strongest membership inference attacks "
                    "read; returning labels, the top class or rounded scores minimises what is "
                    "disclosed (GDPR Art. 5(1)(c))."
                ),
                figures={
                    "outputs": exposure.outputs,
                    "rounding": exposure.rounding,
                    "access": exposure.access,
                },
            )
        )
    if exposure.access == "public" and not limited:
        out.append(
            Finding(
                id="CONF-NO-RATE-LIMIT",
                title="Anyone can query the model without limits",
                kind="configuration",
                severity="medium" if leaked else "low",
                detail=(
                    "The model is publicly queryable and the policy declares no per-caller "
                    "query limit, so an attacker can send as many queries as an attack needs."
                ),
                figures={"access": exposure.access},
            )
        )
    if exposure.access != "internal" and not exposure.monitored:
        out.append(
            Finding(
                id="CONF-NOT-MONITORED",
                title="Queries are not monitored",
                kind="configuration",
                severity="low",
                detail=(
                    "The policy does not declare that queries are logged and reviewed, so an "
                    "attack in progress would go unnoticed."
                ),
                figures={"monitored": exposure.monitored},
            )
        )
    return out

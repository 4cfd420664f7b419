"""Measured attack results and the deployment's exposure, turned into findings.

A finding is a sentence an auditor can act on, with the figures behind it.
This module states what the attacks showed (leakage findings) and what in the
deployment makes leakage easier (configuration findings). Statistical
findings (sample sizes, unmeasurable figures, slices) come from
:mod:`compliance_mia.metrics`.

What "demonstrated" means, and how strongly a finding is graded, are read
from the one vocabulary of :mod:`compliance_mia.risk.facts` and the
thresholds of the risk matrix, never decided here.
"""

from __future__ import annotations

import logging

from compliance_mia.assessment import (
    AttackOutcome,
    ExposureSummary,
    Finding,
    Headline,
    Interval,
    OperatingPoint,
    PrivacyAudit,
)
from compliance_mia.figures import interval_score, operating_point, pct
from compliance_mia.risk.facts import FACTS, LeakageProfile, _show, demonstrated, privacy_audit_facts, summary_facts
from compliance_mia.risk.grading import finding_grade
from compliance_mia.risk.matrix import RiskMatrix

log = logging.getLogger(__name__)

__all__ = ["leakage_findings"]


# ------------------------------------------------------------------ wording
def _points_text(points: list[OperatingPoint]) -> str:
    return "; ".join(f"TPR at {pct(op.fpr)} FPR {_point_phrase(op)}" for op in points)


def _point_phrase(op: OperatingPoint) -> str:
    text = operating_point(op, show_n=False)
    return text if text.startswith(("not measurable", "not determinable")) else f"= {text}"


def _figures(auc: Interval, points: list[OperatingPoint], epsilon: float | None) -> dict[str, object]:
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


def _headline_finding(head: Headline, matrix: RiskMatrix) -> Finding:
    eps = head.epsilon.epsilon_lower if head.epsilon is not None else None
    figures = _figures(head.auc, head.tpr_at_fpr, eps)
    figures["strongest_attack"] = head.strongest_attack
    points = _points_text(head.tpr_at_fpr)
    source = head.epsilon.attack if head.epsilon is not None else None
    eps_text = (
        f" The attacks imply (largest bound, from {source or 'one of them'}) that the training cannot be "
        f"differentially private with any ε below {eps:.2f}, if members were drawn at random from the same "
        "population as the non-members."
        if eps
        else ""
    )
    if demonstrated(head.auc, head.tpr_at_fpr):
        return Finding(
            id="LEAK-MEMBERSHIP",
            title="Training records can be told apart from unseen records",
            kind="leakage",
            severity=finding_grade(matrix, head.auc, head.tpr_at_fpr),
            detail=(
                f"The strongest attack ({head.strongest_attack}) identifies whether a record was "
                "used in training better than random guessing: "
                f"AUC = {interval_score(head.auc, places=2)}; {points}.{eps_text} "
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
            f"{interval_score(head.auc, places=2)}; {points}. "
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
    *,
    profile: LeakageProfile,
    matrix: RiskMatrix,
    privacy_audit: PrivacyAudit | None = None,
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
    profile
        Which attacks demonstrably leaked (:func:`compliance_mia.risk.facts.leakage_profile`).
    matrix
        The risk matrix whose ``finding_grades`` grade the leakage findings.
    privacy_audit
        The one-run audit of the training's DP claim, if the policy asked for one (its facts feed
        the matrix's configuration findings).
    """
    findings: list[Finding] = []
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
        findings.append(_headline_finding(headline, matrix))

    if profile.label_only and label_only_headline is not None:
        # the strongest label-only attack, its intervals corrected over every attack run
        head = label_only_headline
        name, auc, points = head.strongest_attack, head.auc, head.tpr_at_fpr
        findings.append(
            Finding(
                id="LEAK-LABEL-ONLY",
                title="Attacks that see only the predicted label also succeed",
                kind="leakage",
                severity=finding_grade(matrix, auc, points),
                detail=(
                    f"The label-only attack {name} does better than guessing: "
                    f"AUC = {interval_score(auc, places=2)}; {_points_text(points)}. Hiding, rounding or "
                    "perturbing scores cannot stop it, because it needs only the predicted "
                    "label; reducing memorisation at training time (regularisation, "
                    "differential privacy) can."
                ),
                figures={**_figures(auc, points, None), "attack": name},
            )
        )
    elif profile.confidence and profile.label_only_ran and headline is not None:
        attacks = list(dict.fromkeys([headline.strongest_attack, *profile.score_attacks]))
        findings.append(
            Finding(
                id="LEAK-SCORES-ONLY",
                title="Leakage comes through the exposed scores",
                kind="leakage",
                severity=finding_grade(matrix, headline.auc, headline.tpr_at_fpr),
                detail=(
                    "Attacks reading the model's scores succeed ("
                    + ", ".join(attacks)
                    + ") while label-only attacks did not demonstrably beat guessing, so "
                    "restricting the outputs is likely to remove most of the measured leakage; "
                    "the what-if results measure by how much."
                ),
                figures={"attacks": attacks},
            )
        )

    findings.extend(_configuration_findings(exposure, leaked=profile.any, matrix=matrix, audit=privacy_audit))
    return findings


def _configuration_findings(
    exposure: ExposureSummary, *, leaked: bool, matrix: RiskMatrix, audit: PrivacyAudit | None = None
) -> list[Finding]:
    """The matrix's configuration findings that apply to this deployment, graded by its rules."""
    raw = {**summary_facts(exposure), "any_leakage": leaked, **privacy_audit_facts(audit)}
    shown = {name: _show(FACTS[name], value) for name, value in raw.items()}
    shown["exposure_description"] = exposure.description
    shown["rounding_text"] = "unrounded" if exposure.rounding is None else f"rounded to {exposure.rounding} decimals"
    out: list[Finding] = []
    for spec in matrix.spec.configuration_findings:
        if not spec.when.holds(raw):
            continue
        grade = next(g.grade for g in spec.grade if g.when is None or g.when.holds(raw))
        out.append(
            Finding(
                id=spec.id,
                title=spec.title,
                kind="configuration",
                severity=grade,
                detail=" ".join(spec.detail.format_map(shown).split()),
                figures={name: raw.get(name) for name in spec.figures},
            )
        )
    return out

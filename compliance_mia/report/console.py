"""The verdict in a few lines, for a terminal or a notebook: what the assessment supports and why.

The console and the Python API print the same rows, each figure with its
named interval and a few words saying what it means, so a reader who sees
only this (a CI log, a notebook cell) is not left with a bare "ε ≥ 4.19" or
"DRAFT".
"""

from __future__ import annotations

from compliance_mia.assessment import Assessment, RiskRating
from compliance_mia.figures import interval_score, operating_point, point_at


def _level(rating: RiskRating) -> str:
    levels = list(rating.levels)
    where = f"level {levels.index(rating.level) + 1} of {len(levels)}" if rating.level in levels else "level ?"
    return f"{rating.level.upper()} ({where} on the {rating.scale} scale)"


def _status(assessment: Assessment) -> str:
    s = assessment.signoff
    if s.status == "final":
        decided = (s.decision or "decided").replace("conditional", "validated with conditions")
        return f"FINAL — {decided}{f' on {s.date}' if s.date else ''}"
    return (
        "DRAFT — not signed off yet: no assessor, decision and date are recorded, "
        "so this is not yet evidence of approval"
    )


def summary_rows(assessment: Assessment) -> list[tuple[str, str]]:
    """(label, text) rows: the decision, the rating, the headline figures with their meaning, the status."""
    rows: list[tuple[str, str]] = []
    verdict = assessment.verdict
    if verdict is not None:
        rows.append(("Decision", verdict.headline))
        if verdict.because:
            rows.append(("", verdict.because))
    risk = assessment.risk
    rows.append(("Overall rating", f"{_level(risk)}; severity {risk.severity} × likelihood {risk.likelihood}"))
    if risk.appetite:
        relation = "within" if risk.within_appetite else "ABOVE"
        rows.append(("Risk appetite", f"{risk.appetite} — the rating is {relation} the appetite"))
    blind = assessment.blind_baseline
    if blind is not None:
        rows.append(("Blind baseline", f"AUC {interval_score(blind.outcome.metrics.auc)} without the model — " + (
            "the member and non-member texts differ in distribution: the attack figures below are NOT "
            "evidence of memorisation" if blind.distinguishes else
            "the texts alone do not tell members from non-members (validity check passed)")))
    head = assessment.headline
    if head is not None:
        strongest = next((o for o in assessment.attacks if o.name == head.strongest_attack), None)
        title = strongest.title if strongest is not None else head.strongest_attack
        rows.append(("Strongest attack", f"{title} ({head.strongest_attack})"))
        mode = strongest.reference_mode if strongest is not None else None
        rows.append(
            (
                "Threat model",
                {
                    "online": "an attacker who can also train on halves of the audited records (online)",
                    "offline": "an outside attacker with population data only (offline reference models)",
                }.get(mode or "", "an outside attacker using only the model's answers (no reference models)"),
            )
        )
        rows.append(("AUC", f"{interval_score(head.auc)} — 0.5 is guessing, 1.0 certain identification"))
        point = point_at(head.tpr_at_fpr, head.reference_fpr)
        if point is not None:
            fpr = f"{100 * head.reference_fpr:g}%"
            rows.append(
                (f"Members identified at {fpr} false positives", operating_point(point, show_n=False))
            )
        eps = head.epsilon
        if eps is not None and eps.epsilon_lower is not None:
            source = next((o.title for o in assessment.attacks if o.name == eps.attack), eps.attack)
            rows.append(
                (
                    "Privacy loss",
                    f"ε ≥ {eps.epsilon_lower:.2f}{f' (from {source})' if source else ''} — a floor on the "
                    "differential-privacy ε the model can have; larger means more leakage",
                )
            )
    else:
        rows.append(("Attacks", "none could run with this exposure"))
    if assessment.residual_risk is not None:
        after = assessment.residual_risk
        tail = ""
        if after.within_appetite is not None:
            tail = " — within the appetite" if after.within_appetite else " — still above the appetite"
        rows.append(("After the best measured control", f"{_level(after)}{tail}"))
    rows.append(("Status", _status(assessment)))
    return rows


def summary_text(assessment: Assessment) -> str:
    """The rows as plain text, one per line (for logs and notebooks)."""
    rows = summary_rows(assessment)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {text}" for label, text in rows) + "\n"

"""What the assessment supports for deployment, from the matrix's ``decisions`` rules.

The rating says how large the risk is; the decision says what that means for
the system: deployable, deployable once named actions are done, or not
deployable as it stands (or, with no declared appetite, the controller's call).
The rules and their wording are data (``decisions:`` in
``policies/risk_matrix.yaml``); this module only evaluates them against the
rating, the residual rating after the best measured control, and the action
plan, and records which rule applied. The report prints the result and never
judges for itself.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, model_validator

from compliance_mia.assessment import ActionPlanItem, ControlRecommendation, RiskRating, Verdict
from compliance_mia.risk.rules import _Strict

PLACEHOLDERS = frozenset({"level", "residual", "appetite", "actions", "scale"})


class DecisionWhen(_Strict):
    """Every test given must hold; an empty ``when`` (or none) always holds."""

    appetite_set: bool | None = Field(None, description="A risk appetite is declared.")
    within_appetite: bool | None = Field(None, description="The rating as assessed is within the appetite.")
    residual_within_appetite: bool | None = Field(
        None,
        description="The rating after the best measured control is within the appetite "
        "(false when no recommended control was measured).",
    )
    residual_high: bool | None = Field(None, description="The residual rating is one of `high_levels`.")
    distribution_shift: bool | None = Field(
        None,
        description="Language models: the blind baseline tells member from non-member texts, so the audit "
        "sample cannot show memorisation (risk.facts.distribution_shift).",
    )

    def holds(self, facts: dict[str, bool]) -> bool:
        tests = self.model_dump(exclude_none=True)
        return all(facts[name] == value for name, value in tests.items())


class DecisionRule(_Strict):
    """One decision: when it applies, its outcome, its one-line headline and reason."""

    id: str = Field(min_length=1)
    when: DecisionWhen | None = None
    outcome: Literal["deploy", "deploy-after-actions", "do-not-deploy", "controller-decides"] = Field(
        description="What the assessment supports."
    )
    headline: str = Field(min_length=1, description="One line for page one; may quote {level}, {residual}, "
                          "{appetite}, {actions}, {scale}.")
    because: str = ""
    next_steps: list[str] = Field(default_factory=list, description="What follows, in order.")

    @model_validator(mode="after")
    def _known(self) -> DecisionRule:
        for text in (self.headline, self.because, *self.next_steps):
            for _, name, _, _ in string.Formatter().parse(text):
                if name is not None and name not in PLACEHOLDERS:
                    raise ValueError(f"unknown placeholder {{{name}}}; use {', '.join(sorted(PLACEHOLDERS))}")
        return self


class DecisionSpec(_Strict):
    """The ``decisions`` section: which levels count as high, and the first-match rules."""

    high_levels: dict[str, list[str]] = Field(
        default_factory=dict, description="Per scale, the levels that count as a high risk (GDPR Art. 36)."
    )
    rules: list[DecisionRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_last(self) -> DecisionSpec:
        last = self.rules[-1]
        if last.when is not None and last.when.model_dump(exclude_none=True):
            raise ValueError("the last decision rule must have no 'when', so every assessment gets a decision")
        return self


def _action_numbers(controls: Sequence[str], plan: Sequence[ActionPlanItem]) -> str:
    """'action 2' / 'actions 1 and 3' / 'actions 1–3', numbered as in the action plan."""
    index = {item.control: i + 1 for i, item in enumerate(plan)}
    numbers = sorted({index[c] for c in controls if c in index})
    if not numbers:
        return "the recommended actions"
    if len(numbers) == 1:
        return f"action {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"actions {numbers[0]}\u2013{numbers[-1]}"
    return "actions " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def _needed_controls(controls: Sequence[ControlRecommendation], rating: RiskRating) -> list[str]:
    """Recommended controls, not in place, whose measured residual is within the appetite (best first)."""
    if rating.appetite is None:
        return []
    levels = list(rating.levels)
    limit = levels.index(rating.appetite) if rating.appetite in levels else -1
    found = []
    for c in sorted(controls, key=lambda c: c.priority):
        residual = c.what_if.residual if c.what_if is not None else None
        if c.in_place or residual is None or residual.level not in levels:
            continue
        if levels.index(residual.level) <= limit:
            found.append((levels.index(residual.level), c.priority, c.control_id))
    return [cid for _, _, cid in sorted(found)[:1]]


def decide(
    spec: DecisionSpec | None,
    *,
    rating: RiskRating,
    residual: RiskRating | None,
    controls: Sequence[ControlRecommendation] = (),
    action_plan: Sequence[ActionPlanItem] = (),
    distribution_shift: bool = False,
) -> Verdict | None:
    """The first decision rule that holds for this rating, residual rating and plan (None without rules).

    The residual counts as within the appetite only when a recommended,
    measured control brings the rating within it; the actions named are
    that control (the measured one that lowers the rating most), numbered as
    in the action plan.
    """
    if spec is None:
        return None
    after = residual or rating
    needed = _needed_controls(controls, rating) if residual is not None else []
    facts = {
        "appetite_set": rating.appetite is not None,
        "within_appetite": bool(rating.within_appetite),
        "residual_within_appetite": residual is not None and bool(residual.within_appetite) and bool(needed),
        "residual_high": after.level in spec.high_levels.get(rating.scale, []),
        "distribution_shift": distribution_shift,
    }
    values = {
        "level": rating.level,
        "residual": after.level,
        "appetite": rating.appetite or "none",
        "actions": _action_numbers(needed, action_plan),
        "scale": rating.scale,
    }
    for rule in spec.rules:
        if rule.when is None or rule.when.holds(facts):
            return Verdict(
                rule_id=rule.id,
                outcome=rule.outcome,
                headline=rule.headline.format(**values),
                because=rule.because.format(**values),
                actions=needed if rule.outcome == "deploy-after-actions" else [],
                residual_high=facts["residual_high"],
                prior_consultation=facts["residual_high"] and rule.outcome != "deploy",
                next_steps=[step.format(**values) for step in rule.next_steps],
            )
    return None  # unreachable: the last rule has no condition

"""The deployment decision: the matrix's decisions rules, first match, wording from the YAML."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from compliance_mia.assessment import ActionPlanItem, ControlRecommendation, RiskRating, WhatIfResult
from compliance_mia.risk import DecisionSpec, decide, load_matrix

LEVELS = ["negligible", "limited", "significant", "maximum"]


def _rating(level: str, appetite: str | None = "limited") -> RiskRating:
    within = None if appetite is None else LEVELS.index(level) <= LEVELS.index(appetite)
    return RiskRating(scale="cnil-4", levels=LEVELS, severity="maximum", likelihood="maximum", level=level,
                      rules=[], appetite=appetite, within_appetite=within)


def _control(cid: str, priority: int, residual: str | None) -> ControlRecommendation:
    what_if = None
    if residual is not None:
        what_if = WhatIfResult(
            control_id=cid, label=cid, kind="output", strongest_attack=None, auc=None, tpr_at_1pct_fpr=None,
            residual=_rating(residual),
        )
    return ControlRecommendation(control_id=cid, title=cid, category="output", priority=priority, why="",
                                 what_if=what_if)


@pytest.fixture(scope="module")
def spec() -> DecisionSpec:
    decisions = load_matrix().spec.decisions
    assert decisions is not None
    return decisions


def test_within_appetite_is_deployable(spec):
    v = decide(spec, rating=_rating("limited"), residual=None)
    assert (v.outcome, v.headline, v.prior_consultation) == ("deploy", "Deployable within the risk appetite", False)


def test_measured_control_within_appetite_names_its_action_number(spec):
    controls = [_control("a", 1, "significant"), _control("b", 2, "limited")]
    plan = [ActionPlanItem(control=c, owner="", due="", status="not planned") for c in ("x", "a", "b")]
    v = decide(spec, rating=_rating("maximum"), residual=_rating("limited"), controls=controls, action_plan=plan)
    assert v.outcome == "deploy-after-actions" and v.actions == ["b"]
    assert "action 3" in v.headline and "{" not in v.headline


def test_no_control_within_appetite_is_do_not_deploy_and_flags_prior_consultation(spec):
    controls = [_control("a", 1, "significant")]
    v = decide(spec, rating=_rating("maximum"), residual=_rating("significant"), controls=controls)
    assert (v.outcome, v.headline, v.residual_high, v.prior_consultation) == (
        "do-not-deploy", "Do not deploy as is", True, True
    )


def test_no_appetite_leaves_the_decision_to_the_controller(spec):
    v = decide(spec, rating=_rating("significant", appetite=None), residual=None)
    assert v.outcome == "controller-decides" and "significant" in v.headline


def test_no_rules_no_verdict():
    assert decide(None, rating=_rating("maximum"), residual=None) is None


def test_unknown_placeholder_and_conditional_last_rule_are_rejected():
    with pytest.raises(ValidationError, match="unknown placeholder"):
        DecisionSpec.model_validate({"rules": [{"id": "X", "outcome": "deploy", "headline": "ok {nope}"}]})
    with pytest.raises(ValidationError, match="last decision rule"):
        DecisionSpec.model_validate(
            {"rules": [{"id": "X", "when": {"within_appetite": True}, "outcome": "deploy", "headline": "ok"}]}
        )

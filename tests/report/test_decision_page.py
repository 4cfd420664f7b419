"""Page one states the decision; the sign-off page can be signed on paper; no instructions to the tool's user."""

from __future__ import annotations

import json
import re

import pytest

from compliance_mia.assessment import Assessment, Citation
from compliance_mia.report import HtmlRenderer


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, sid: str) -> str:
    found = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', html, re.S)
    assert found, sid
    return found.group(1)


@pytest.fixture(scope="module")
def html(assessment) -> str:
    return HtmlRenderer(charts=False).render(assessment)


def test_summary_opens_with_the_decision_then_actions_and_what_follows(html, assessment):
    summary = _text(_section(html, "summary"))
    headline = assessment.verdict.headline
    assert summary.index("What this assessment supports") < summary.index(headline) < summary.index("Top actions")
    assert summary.index("Top actions") < summary.index("What follows") < summary.index("Top findings")
    assert "ML platform team" in summary and "15 December 2025" in summary  # owner and due date of action 1
    assert "needed before deployment" in summary


def test_unnamed_owner_is_shown_plainly_and_once_per_action(assessment):
    plan = [i.model_copy(update={"owner": "", "due": "", "status": "not planned"}) for i in assessment.action_plan]
    out = _text(HtmlRenderer(charts=False).render(assessment.model_copy(update={"action_plan": plan})))
    actions = _text(_section(HtmlRenderer(charts=False).render(assessment.model_copy(update={"action_plan": plan})),
                             "actions"))
    assert actions.count("owner not yet named") == len(plan)
    assert "owner not yet named" in _text(out.split("Top actions")[1].split("What follows")[0])
    assert "add an owner" not in out and "under action_plan" not in out


def test_finding_grades_and_rating_levels_are_explained_together(html, assessment):
    summary = _text(_section(html, "summary"))
    assert "Two scales in this report" in summary
    for level in assessment.risk.levels:
        assert level.upper() in summary.upper()
    for grade in ("high", "medium", "low", "info"):
        assert f"sev-{grade}" in _section(html, "summary")


def test_top_findings_are_whole_sentences(html, assessment):
    summary = _section(html, "summary")
    for f in assessment.findings[:5]:
        assert " …" not in summary
        assert f.detail.split()[-1] in summary


def test_prior_consultation_cited_only_when_in_scope(assessment):
    high = assessment.verdict.model_copy(update={"prior_consultation": True, "residual_high": True})
    cite = Citation(section="summary.prior_consultation", framework="gdpr", clause="Art. 36(1)",
                    requirement="prior consultation of the supervisory authority")
    with_gdpr = assessment.model_copy(update={"verdict": high, "citations": [*assessment.citations, cite]})
    kept = [c for c in assessment.citations if c.section != "summary.prior_consultation"]
    without = assessment.model_copy(update={"verdict": high, "citations": kept})
    assert "Art. 36(1)" in _text(_section(HtmlRenderer(charts=False).render(with_gdpr), "summary"))
    assert "Art. 36" not in _text(_section(HtmlRenderer(charts=False).render(without), "summary"))


def test_older_assessment_without_verdict_or_new_signoff_fields_still_loads_and_renders(assessment):
    raw = json.loads(assessment.to_json())
    raw.pop("verdict")
    for key in ("dpo_name", "dpo_date", "conditions", "approver", "approver_role", "approval_date"):
        raw["signoff"].pop(key)
    for item in raw["action_plan"]:
        item.pop("priority")
    old = Assessment.from_json(json.dumps(raw))
    assert old.verdict is None
    out = _text(HtmlRenderer(charts=False).render(old))
    assert "No deployment recommendation is recorded" in out


def test_unsigned_signoff_has_every_field_a_dpo_needs_with_blank_lines(html):
    signoff = _text(_section(html, "signoff"))
    for label in ("Assessor", "Opinion of the Data Protection Officer", "Decision of the controller",
                  "Validated with conditions", "Refused", "Conditions", "Approver (name and role)"):
        assert label in signoff, label
    assert signoff.count("Signature") == 3
    assert "Not signed off" in signoff


def test_signed_signoff_prints_names_decision_conditions_and_is_final(final_assessment):
    so = final_assessment.signoff.model_copy(
        update={"dpo_name": "M. Martin", "dpo_date": "2025-11-24", "conditions": ["labels only before release"],
                "approver": "A. Smith", "approver_role": "COO", "approval_date": "2025-11-26"}
    )
    out = HtmlRenderer(charts=False).render(final_assessment.model_copy(update={"signoff": so}))
    signoff = _text(_section(out, "signoff"))
    for text in ("M. Martin", "24 November 2025", "Labels only before release.", "A. Smith, COO", "26 November 2025"):
        assert text in signoff, text
    assert "Not signed off" not in signoff and "watermark" not in out.split("<body>")[1][:300]


def test_no_instructions_to_the_tools_user_in_the_document(html):
    body = _text(html.split("<body>")[1].split('id="annex-reproduce"')[0])
    for phrase in ("in the policy", "re-render", "signoff.next_review", "signoff.decision", "action_plan",
                   "data.slice_columns", "training_recipes"):
        assert phrase not in body, phrase


def test_no_doubled_punctuation(html):
    assert ".)." not in _text(html)

"""compliance_mia.diff: re-assessment changes, with significance stated and tested."""

from __future__ import annotations

import pytest

from compliance_mia.assessment import Interval
from compliance_mia.diff import compare
from compliance_mia.report.change import render_change


def _weaker(assessment):
    """The previous assessment: less leaky (AUC 0.781, 11.8% at 1% FPR), another model file."""
    hl = assessment.headline
    old_point = hl.tpr_at_fpr[1].model_copy(
        update={
            "tpr": Interval(
                estimate=526 / 4454,
                lower=0.1087,
                upper=0.1278,
                confidence=0.95,
                method="clopper-pearson",
                count=526,
                n=4454,
            )
        }
    )
    points = [hl.tpr_at_fpr[0], old_point, hl.tpr_at_fpr[2]]
    headline = hl.model_copy(
        update={
            "auc": Interval(
                estimate=0.781, lower=0.772, upper=0.790, confidence=0.95, method="bootstrap"
            ),
            "tpr_at_fpr": points,
        }
    )
    files = [
        f.model_copy(update={"sha256": "5d1c" + "0" * 60}) if f.role == "model" else f
        for f in assessment.evidence.files
    ]
    findings = [f for f in assessment.findings if f.id != "F-SLICE-01"]
    findings.append(
        assessment.findings[0].model_copy(
            update={"id": "F-DATA-02", "title": "Duplicate IDs", "kind": "data-quality"}
        )
    )
    return assessment.model_copy(
        update={
            "assessment_id": "previous01",
            "headline": headline,
            "findings": findings,
            "change": None,
            "risk": assessment.risk.model_copy(update={"level": "significant"}),
            "evidence": assessment.evidence.model_copy(
                update={"files": files, "finished": "2025-05-20T08:02:11Z"}
            ),
        }
    )


def test_compare_reports_rating_figures_findings_and_files(assessment):
    change = compare(_weaker(assessment), assessment)
    assert (change.rating_old, change.rating_new, change.worsened) == (
        "significant",
        "maximum",
        True,
    )
    assert change.previous_id == "previous01" and change.previous_date == "2025-05-20T08:02:11Z"
    items = {item.figure: item for item in change.items}
    assert (
        items["Overall rating"].direction == "worse" and items["Overall rating"].significant is None
    )
    auc = items["AUC of the strongest attack"]
    assert (auc.old, auc.new, auc.significant, auc.direction) == (0.781, 0.8742, True, "worse")
    assert "intervals do not overlap" in auc.note
    rate = items["Members identified at 1% false positives"]
    assert rate.significant is True and rate.direction == "worse" and "Fisher exact" in rate.note
    assert items["Members identified at 0.1% false positives"].direction == "n/a"
    assert items["Members identified at 10% false positives"].significant is False
    assert change.new_findings == [
        "F-SLICE-01: People in the smallest ethnic group are more exposed"
    ]
    assert change.resolved_findings == ["F-DATA-02: Duplicate IDs"]
    assert len(change.changed_files) == 1 and change.changed_files[0].startswith("model: ")


def test_same_assessment_has_no_significant_change(assessment):
    change = compare(assessment, assessment)
    assert not change.worsened
    assert not change.new_findings and not change.resolved_findings and not change.changed_files
    assert all(item.significant in (False, None) for item in change.items)
    assert all(item.direction in ("unchanged", "n/a") for item in change.items)


def test_improvement_is_not_worsened(assessment):
    change = compare(assessment, _weaker(assessment))
    assert not change.worsened
    assert {i.figure: i.direction for i in change.items}["AUC of the strongest attack"] == "better"


def test_change_renders_as_text_and_markdown(assessment):
    change = compare(_weaker(assessment), assessment)
    text = render_change(change)
    assert "Rating: significant -> maximum   WORSENED" in text
    assert "AUC of the strongest attack: 0.781 -> 0.874  [worse, significant]" in text
    assert "Members identified at 1% false positives: 11.8% -> 25.0%" in text
    md = render_change(change, fmt="markdown")
    assert "Rating **significant → maximum** · **worsened**" in md
    assert (
        "| AUC of the strongest attack | 0.781 | 0.874 | worse | "
        "yes (95% intervals do not overlap) |" in md
    )
    with pytest.raises(ValueError):
        render_change(change, fmt="html")


def test_change_section_in_the_report(assessment):
    from compliance_mia.report import HtmlRenderer

    change = compare(_weaker(assessment), assessment)
    html = HtmlRenderer(charts=False).render(assessment.model_copy(update={"change": change}))
    assert "9. Change since the last assessment" in html and "Fisher exact test" in html

"""summary.md for a pull-request comment."""

from __future__ import annotations

from compliance_mia.report import MarkdownRenderer
from compliance_mia.report import formatting as fmt
from compliance_mia.report.context import document_hash


def test_summary_has_rating_figures_and_controls(assessment):
    md = MarkdownRenderer().render(assessment)
    assert md.startswith("### Membership inference assessment: Claims triage model 2.3.0")
    assert "**Overall risk: MAXIMUM**" in md and "**LIMITED** after the recommended controls" in md
    assert "_draft, not signed off_" in md
    point = assessment.headline.tpr_at_fpr[1]
    assert fmt.interval_pct(point.tpr) in md
    assert fmt.interval_score(assessment.headline.auc) in md
    assert "1. Return only the predicted label: measured AUC 0.552" in md
    assert "rating significant → maximum, **worsened**" in md
    assert document_hash(assessment) in md
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert all(line.count("|") - line.count("\\|") == 4 for line in table)


def test_markdown_injection_is_escaped(assessment):
    evil = assessment.model_copy(
        update={
            "system": assessment.system.model_copy(
                update={"name": "<img src=x onerror=alert(1)> [click](http://evil) | x"}
            )
        }
    )
    md = MarkdownRenderer().render(evil)
    assert "<img" not in md and "[click](" not in md
    assert "&lt;img src=x onerror=alert(1)&gt; \\[click\\](http://evil) \\| x" in md

"""The console and notebook summary: every figure with its named interval and its meaning."""

from __future__ import annotations

from compliance_mia.report.console import summary_rows, summary_text


def test_summary_states_the_decision_first_and_explains_epsilon_and_status(assessment):
    rows = dict(summary_rows(assessment))
    labels = [label for label, _ in summary_rows(assessment)]
    if assessment.verdict is not None:
        assert labels[0] == "Decision" and rows["Decision"] == assessment.verdict.headline
    assert "level" in rows["Overall rating"] and assessment.risk.scale in rows["Overall rating"]
    if "Privacy loss" in rows:
        assert "larger means more leakage" in rows["Privacy loss"]
    status = rows["Status"]
    assert status.startswith(("DRAFT — not signed off", "FINAL — "))


def test_summary_text_has_one_line_per_row(assessment):
    text = summary_text(assessment)
    assert text.count("\n") == len(summary_rows(assessment))

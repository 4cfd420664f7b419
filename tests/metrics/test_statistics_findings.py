"""Findings on sample size and slices: plain language, figures, stable IDs."""

from __future__ import annotations

import numpy as np

from compliance_mia.assessment import AttackOutcome
from compliance_mia.metrics import (
    StatisticsSettings,
    evaluate_attack,
    headline,
    slice_results,
    statistics_findings,
)


def _case(gen: np.random.Generator, n: int, settings: StatisticsSettings):
    is_member = gen.random(n) < 0.5
    group = gen.choice(["F", "M"], size=n)
    scores = gen.normal(size=n) + is_member * np.where(group == "F", 1.5, 0.2)
    metrics = evaluate_attack(scores, is_member, settings=settings, seed=0, stream="a")
    outcomes = [
        AttackOutcome(name="a", title="A", family="t", summary="", signal="", metrics=metrics)
    ]
    head = headline(outcomes, {"a": scores}, is_member, settings=settings, seed=0)
    slices = slice_results(scores, is_member, {"sex": group}, settings=settings, seed=0)
    return outcomes, head, slices, int(is_member.sum()), int((~is_member).sum())


def test_sample_size_and_slice_findings(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    outcomes, head, slices, n1, n0 = _case(gen, 4000, settings)
    findings = statistics_findings(
        outcomes=outcomes,
        headline=head,
        slices=slices,
        settings=settings,
        n_members=n1,
        n_non_members=n0,
    )
    ids = [f.id for f in findings]
    assert "F-SAMPLE-1" in ids and "F-SLICE-1" in ids
    sample = findings[ids.index("F-SAMPLE-1")]
    assert sample.kind == "sample-size" and "0.1%" in sample.detail and "10,000" in sample.detail
    assert sample.figures["not_measurable_fpr"] == [0.001]
    sl = findings[ids.index("F-SLICE-1")]
    assert sl.kind == "slice" and sl.figures["value"] == "F"
    assert sl.figures["clearly_more_exposed"] and sl.severity == "medium"
    assert "sex = 'F'" in sl.detail and "CI" in sl.detail


def test_no_findings_when_sample_is_ample(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    outcomes, head, _, n1, n0 = _case(gen, 24_000, settings)
    findings = statistics_findings(
        outcomes=outcomes,
        headline=head,
        slices=[],
        settings=settings,
        n_members=n1,
        n_non_members=n0,
    )
    assert findings == []


def test_small_members_finding(settings: StatisticsSettings) -> None:
    findings = statistics_findings(
        outcomes=[], headline=None, slices=[], settings=settings, n_members=40, n_non_members=5000
    )
    assert [f.id for f in findings] == ["F-SAMPLE-1", "F-SAMPLE-2"]
    assert "40 members" in findings[1].detail

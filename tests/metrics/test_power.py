"""Power and sample size: what a sample can show and what a goal needs."""

from __future__ import annotations

from compliance_mia.metrics import (
    StatisticsSettings,
    members_needed,
    min_detectable_tpr,
    power_table,
    records_needed,
)


def test_power_table() -> None:
    settings = StatisticsSettings()
    rows = power_table(400, 2000, settings=settings)
    assert [r["fpr"] for r in rows] == [0.001, 0.01, 0.1]
    assert [r["measurable"] for r in rows] == [False, True, True]
    assert [r["non_members_needed"] for r in rows] == [10_000, 1000, 100]
    assert rows[0]["expected_false_positives"] == 2.0
    mdts = [r["min_detectable_tpr"] for r in rows]
    assert all(m > r["fpr"] for m, r in zip(mdts, rows, strict=True))


def test_members_needed_is_the_smallest_sufficient_sample() -> None:
    settings = StatisticsSettings()
    n = members_needed(0.01, 0.03, settings=settings)
    assert n is not None
    assert min_detectable_tpr(n, 0.01, confidence=0.95) <= 0.03
    assert min_detectable_tpr(n - 1, 0.01, confidence=0.95) > 0.03
    assert members_needed(0.01, 0.01, settings=settings) is None


def test_records_needed_plan() -> None:
    settings = StatisticsSettings(fpr_levels=(0.001, 0.01))
    plan = records_needed(settings=settings, lift=3.0, n_members=500, n_non_members=800)
    assert [r.non_members_needed for r in plan.rows] == [10_000, 1000]
    assert [r.target_tpr for r in plan.rows] == [0.003, 0.03]
    assert plan.rows[0].members_needed > plan.rows[1].members_needed
    assert [r.measurable_now for r in plan.rows] == [False, False]
    assert any("800 non-members" in note for note in plan.notes)
    table = plan.as_table()
    assert table[0]["fpr"] == 0.001 and "members_needed" in table[0]

"""Per-record risk: members only, by ID, ranked, with p-values and flags."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.metrics import MAX_RECORDS, StatisticsSettings, record_risks


def test_ranked_members_with_p_values(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(top_records=5, reference_fpr=0.01)
    n = 1000
    is_member = np.arange(n) < 500
    scores = gen.normal(size=n) + is_member * 1.0
    ids = np.array([f"P{i:04d}" for i in range(n)])
    risks = record_risks(scores, is_member, ids, settings=settings)
    non = scores[~is_member]
    flagged = [r for r in risks if r.flagged]
    assert len(risks) == max(len(flagged), 5)
    assert all(r.is_member for r in risks)
    assert [r.rank for r in risks] == sorted(r.rank for r in risks)
    assert risks[0].rank == 1 and risks[0].score == pytest.approx(scores[is_member].max())
    for r in risks:
        i = int(r.record_id[1:])
        assert i < 500 and scores[i] == pytest.approx(r.score)
        assert r.p_value == pytest.approx((1 + np.sum(non >= r.score)) / 501)
        assert r.flagged == (np.sum(non >= r.score) <= 5)
    assert all(isinstance(r.record_id, str) for r in risks)


def test_ties_share_a_rank() -> None:
    settings = StatisticsSettings(top_records=4)
    scores = np.array([0.9, 0.9, 0.5, 0.1, 0.2, 0.3])
    is_member = np.array([True, True, True, True, False, False])
    risks = record_risks(
        scores, is_member, np.array(["a", "b", "c", "d", "x", "y"]), settings=settings
    )
    assert [(r.record_id, r.rank) for r in risks] == [("a", 1), ("b", 1), ("c", 3), ("d", 4)]
    assert risks[-1].p_value == pytest.approx(3 / 3)


def test_cap() -> None:
    settings = StatisticsSettings(top_records=10_000, reference_fpr=0.5)
    n = 30_000
    is_member = np.arange(n) < 25_000
    scores = np.where(is_member, 1.0, 0.0) + np.arange(n) * 1e-9
    risks = record_risks(scores, is_member, np.arange(n), settings=settings)
    assert len(risks) == MAX_RECORDS

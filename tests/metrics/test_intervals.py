"""Intervals: exact values, and coverage at about the stated rate on known distributions."""

from __future__ import annotations

import numpy as np
import pytest
from ground_truth import gaussian_auc, gaussian_scores, gaussian_tpr
from scipy.stats import binomtest

from compliance_mia.metrics import (
    advantage_interval,
    bootstrap_auc,
    clopper_pearson,
    min_detectable_tpr,
)
from compliance_mia.metrics._intervals import percentile_interval, tpr_interval
from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (17, 1000), (500, 1000)])
def test_clopper_pearson_matches_scipy_exact(k: int, n: int) -> None:
    ref = binomtest(k, n).proportion_ci(confidence_level=0.9, method="exact")
    lo, hi = clopper_pearson(k, n, confidence=0.9)
    assert lo == pytest.approx(ref.low, abs=1e-10)
    assert hi == pytest.approx(ref.high, abs=1e-10)


def test_bootstrap_auc_is_seeded_and_matches_slow_reference(gen: np.random.Generator) -> None:
    scores, is_member = gaussian_scores(gen, 40, 60, 0.5)
    scores = np.round(scores, 1)  # ties
    groups = ScoreGroups.build(scores, is_member)
    fast = bootstrap_auc(groups, resamples=50, rng=np.random.default_rng(3))
    again = bootstrap_auc(groups, resamples=50, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(fast, again)
    # Reproduce the same draws the slow way.
    rng = np.random.default_rng(3)
    mem, non = np.sort(scores[is_member]), np.sort(scores[~is_member])  # drawn from sorted scores (order-free)
    from sklearn.metrics import roc_auc_score

    # (resamples are drawn as one block: all member draws, then all non-member draws)
    a = mem[rng.integers(0, 40, size=(50, 40))]
    b = non[rng.integers(0, 60, size=(50, 60))]
    labels = np.r_[np.ones(40), np.zeros(60)]
    slow = [roc_auc_score(labels, np.r_[a[i], b[i]]) for i in range(50)]
    np.testing.assert_allclose(fast, slow, atol=1e-12)


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_auc_bootstrap_coverage(gen: np.random.Generator, shift: float) -> None:
    truth = gaussian_auc(shift)
    hits = 0
    reps = 200
    for _ in range(reps):
        scores, is_member = gaussian_scores(gen, 80, 120, shift)
        groups = ScoreGroups.build(scores, is_member)
        lo, hi = percentile_interval(bootstrap_auc(groups, resamples=400, rng=gen), confidence=0.9)
        hits += lo <= truth <= hi
    # 90% nominal; binomial sd over 200 reps is ~2.1 points.
    assert 0.84 <= hits / reps <= 0.96


@pytest.mark.parametrize(("shift", "fpr"), [(1.0, 0.1), (1.5, 0.05)])
def test_tpr_interval_covers_true_tpr_at_fpr(
    gen: np.random.Generator, shift: float, fpr: float
) -> None:
    truth = gaussian_tpr(shift, fpr)
    hits = 0
    reps = 200
    naive_hits = 0
    for _ in range(reps):
        scores, is_member = gaussian_scores(gen, 300, 300, shift)
        roc = roc_from_groups(ScoreGroups.build(scores, is_member))
        t = tpr_interval(roc, fpr, confidence=0.9)
        assert t.lower <= t.estimate <= t.upper
        hits += t.lower <= truth <= t.upper
        k = int(round(fpr * 300))
        x = roc.tp[np.searchsorted(roc.fp, k, side="right") - 1]
        lo, hi = clopper_pearson(int(x), 300, confidence=0.9)
        naive_hits += lo <= truth <= hi
    # Valid (conservative by construction) where the members-only interval is not.
    assert hits / reps >= 0.88
    assert naive_hits / reps < hits / reps


def test_tpr_interval_on_random_scores_contains_guessing(gen: np.random.Generator) -> None:
    scores = gen.random(2000)
    is_member = np.arange(2000) < 1000
    roc = roc_from_groups(ScoreGroups.build(scores, is_member))
    for f in (0.01, 0.1):
        t = tpr_interval(roc, f, confidence=0.95)
        assert t.lower <= f <= t.upper


def test_tpr_interval_all_tied_is_uninformative() -> None:
    roc = roc_from_groups(ScoreGroups.build(np.zeros(100), np.arange(100) < 50))
    t = tpr_interval(roc, 0.1, confidence=0.95)
    assert t.estimate == pytest.approx(0.1)
    assert t.lower == 0.0 and t.upper == 1.0


def test_advantage_interval_covers_truth(gen: np.random.Generator) -> None:
    from scipy.stats import norm

    truth = 2 * norm.cdf(0.5) - 1  # shift 1: max TPR - FPR
    hits = 0
    for _ in range(100):
        scores, is_member = gaussian_scores(gen, 200, 200, 1.0)
        roc = roc_from_groups(ScoreGroups.build(scores, is_member))
        adv = float(np.max(roc.tpr - roc.fpr))
        lo, hi = advantage_interval(adv, 200, 200, confidence=0.9)
        hits += lo <= truth <= hi
    assert hits >= 90


def test_min_detectable_tpr() -> None:
    # Lower Clopper-Pearson bound of the detectable rate clears the FPR; one fewer does not.
    mdt = min_detectable_tpr(1000, 0.01, confidence=0.95)
    assert mdt is not None and 0.01 < mdt < 0.05
    from compliance_mia.metrics._intervals import cp_lower

    assert cp_lower(round(mdt * 1000), 1000, 0.0125) > 0.01
    assert cp_lower(round(mdt * 1000) - 1, 1000, 0.0125) <= 0.01
    assert min_detectable_tpr(3, 0.5, confidence=0.95) is None
    assert min_detectable_tpr(10_000, 0.01, confidence=0.95) < mdt

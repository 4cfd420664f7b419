"""Exact ROC, AUC and TPR at FPR against scikit-learn and brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from compliance_mia.metrics import auc_score, roc_curve, tpr_at_fpr
from compliance_mia.metrics._ranking import advantage_from_roc, plot_points, threshold_at


def _brute_auc(scores: np.ndarray, is_member: np.ndarray) -> float:
    a = scores[is_member][:, None]
    b = scores[~is_member][None, :]
    return float(np.mean((a > b) + 0.5 * (a == b)))


@pytest.mark.parametrize("tied", [False, True])
def test_roc_and_auc_match_sklearn(gen: np.random.Generator, tied: bool) -> None:
    for _ in range(100):
        n = int(gen.integers(2, 80))
        is_member = gen.random(n) < 0.4
        if is_member.all() or not is_member.any():
            continue
        scores = gen.integers(0, 4, n).astype(float) if tied else gen.normal(size=n)
        roc = roc_curve(scores, is_member)
        fpr, tpr, thr = sk_roc_curve(is_member, scores, drop_intermediate=False)
        np.testing.assert_allclose(roc.fpr, fpr)
        np.testing.assert_allclose(roc.tpr, tpr)
        np.testing.assert_allclose(roc.thresholds[1:], thr[1:])
        assert auc_score(scores, is_member) == pytest.approx(
            roc_auc_score(is_member, scores), abs=1e-12
        )
        assert auc_score(scores, is_member) == pytest.approx(
            _brute_auc(scores, is_member), abs=1e-12
        )


def test_tpr_at_fpr_is_best_tpr_with_at_most_that_fpr(gen: np.random.Generator) -> None:
    scores = gen.normal(size=500)
    is_member = np.arange(500) < 200
    non = np.sort(scores[~is_member])[::-1]
    for k in (1, 3, 30, 150):
        fpr = k / 300
        # best threshold flagging at most k non-members: just above the (k+1)-th highest
        brute = np.mean(scores[is_member] > non[k])
        assert tpr_at_fpr(scores, is_member, fpr=fpr) == pytest.approx(brute)


def test_tpr_between_vertices_without_ties(gen: np.random.Generator) -> None:
    # Without ties the curve is flat between consecutive non-members: the TPR at any FPR f
    # is the share of members above the (floor(f * n0) + 1)-th highest non-member.
    scores = gen.normal(size=400)
    is_member = np.arange(400) < 200
    non = np.sort(scores[~is_member])[::-1]
    for f in (0.001, 0.0123, 0.1, 0.5, 0.999):
        brute = np.mean(scores[is_member] > non[int(np.floor(f * 200))])
        assert tpr_at_fpr(scores, is_member, fpr=f) == pytest.approx(brute)


def test_vertical_run_is_not_interpolated_across() -> None:
    # Five non-members on top, then all members: nobody is found below 5/400 FPR.
    n = 800
    is_member = np.arange(n) < 400
    scores = np.where(is_member, 0.5, 0.0)
    scores[400:405] = 1.0
    assert tpr_at_fpr(scores, is_member, fpr=0.01) == 0.0
    assert tpr_at_fpr(scores, is_member, fpr=5 / 400) == 1.0


def test_tied_group_equals_expected_value_of_random_tie_breaking(gen: np.random.Generator) -> None:
    # One tied group holding 30 members and 60 non-members below 10 clear members.
    scores = np.concatenate(
        [np.full(10, 2.0), np.full(30, 1.0), np.zeros(10), np.full(60, 1.0), np.zeros(40)]
    )
    is_member = np.arange(150) < 50
    fpr = 0.3  # 30 of the 100 non-members: half of the tied non-members
    # Flag tied records at random with probability 1/2 -> expected TP = 10 + 15.
    assert tpr_at_fpr(scores, is_member, fpr=fpr) == pytest.approx(25 / 50)
    # Monte-Carlo random tie-breaking agrees to within a fraction of a record.
    draws = []
    for _ in range(2000):
        jitter = scores + gen.random(150) * 1e-6
        non = np.sort(jitter[~is_member])[::-1]
        draws.append(np.mean(jitter[is_member] > non[30]))
    assert np.mean(draws) == pytest.approx(0.5, abs=0.02)


def test_all_scores_equal() -> None:
    scores = np.ones(200)
    is_member = np.arange(200) < 80
    assert auc_score(scores, is_member) == 0.5
    for f in (0.001, 0.01, 0.1, 0.7):
        assert tpr_at_fpr(scores, is_member, fpr=f) == pytest.approx(f)
    assert advantage_from_roc(roc_curve(scores, is_member)) == pytest.approx(0.0)


def test_monotone_transform_changes_nothing(gen: np.random.Generator) -> None:
    scores = gen.normal(size=300)
    is_member = gen.random(300) < 0.5
    transformed = np.exp(3 * scores) + 7
    assert auc_score(transformed, is_member) == pytest.approx(auc_score(scores, is_member))
    for f in (0.01, 0.1):
        assert tpr_at_fpr(transformed, is_member, fpr=f) == pytest.approx(
            tpr_at_fpr(scores, is_member, fpr=f)
        )


def test_swapping_labels_gives_one_minus_auc(gen: np.random.Generator) -> None:
    scores = gen.integers(0, 6, 300).astype(float)
    is_member = gen.random(300) < 0.5
    assert auc_score(scores, ~is_member) == pytest.approx(1 - auc_score(scores, is_member))


def test_nan_scores_are_never_flagged() -> None:
    scores = np.array([np.nan, 0.9, 0.1, 0.2])
    is_member = np.array([True, True, False, False])
    assert auc_score(scores, is_member) == 0.5


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="both members and non-members"):
        auc_score(np.ones(3), np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="3 scores for 2"):
        auc_score(np.ones(3), np.ones(2, dtype=bool))


def test_threshold_and_plot_points(gen: np.random.Generator) -> None:
    scores = gen.normal(size=5000)
    is_member = np.arange(5000) < 1000
    roc = roc_curve(scores, is_member)
    t = threshold_at(roc, 0.01)
    assert np.mean(scores[~is_member] >= t) <= 0.01
    fpr, tpr = plot_points(roc)
    assert len(fpr) <= 400 and len(fpr) == len(tpr)
    assert all(isinstance(v, float) for v in fpr + tpr)
    assert min(f for f in fpr if f > 0) <= 1 / 4000
    assert fpr == sorted(fpr) and tpr == sorted(tpr)
    # the exact low-FPR vertices are kept
    first = roc.fpr[roc.fpr > 0][0]
    assert first in fpr


def test_plot_points_reach_low_fpr_across_a_big_tie() -> None:
    # Trees: many members and non-members at exactly 1.0.
    scores = np.concatenate(
        [np.ones(600), np.linspace(0, 0.9, 400), np.ones(300), np.linspace(0, 0.9, 700)]
    )
    is_member = np.arange(2000) < 1000
    fpr, tpr = plot_points(roc_curve(scores, is_member))
    low = [(f, t) for f, t in zip(fpr, tpr, strict=True) if 0 < f <= 0.01]
    assert low and min(f for f, _ in low) == pytest.approx(1 / 1000)
    for f, t in low:  # on the tie segment from (0,0) to (0.3, 0.6)
        assert t == pytest.approx(2 * f)

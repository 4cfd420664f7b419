"""Headline: the strongest attack, with intervals corrected for having picked it."""

from __future__ import annotations

import numpy as np
import pytest
from ground_truth import gaussian_scores

from compliance_mia.assessment import AttackOutcome
from compliance_mia.metrics import StatisticsSettings, evaluate_attack, headline


def _outcomes(
    scores: dict[str, np.ndarray], is_member: np.ndarray, settings: StatisticsSettings
) -> list[AttackOutcome]:
    return [
        AttackOutcome(
            name=name,
            title=name,
            family="test",
            summary="",
            signal="",
            metrics=evaluate_attack(
                s, is_member, settings=settings, seed=0, stream=name, n_comparisons=len(scores)
            ),
        )
        for name, s in scores.items()
    ]


def test_strongest_attack_and_wider_intervals(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    base, is_member = gaussian_scores(gen, 2000, 2000, 1.2)
    scores = {
        "weak": base * 0.2 + gen.normal(size=4000),
        "strong": base,
        "medium": base + gen.normal(size=4000) * 0.7,
    }
    outcomes = _outcomes(scores, is_member, settings)
    h = headline(outcomes, scores, is_member, settings=settings, seed=0)
    assert h.strongest_attack == "strong"
    single = outcomes[1].metrics
    assert h.auc.estimate == pytest.approx(single.auc.estimate)
    assert h.auc.upper - h.auc.lower > single.auc.upper - single.auc.lower
    assert h.auc.confidence == 0.95 and h.auc.per_comparison_confidence == pytest.approx(1 - 0.05 / 3)
    assert (h.auc.scope, h.auc.comparisons) == ("simultaneous", 3)
    assert single.auc.scope == "single" and single.auc.comparisons == 1
    for hp, sp in zip(h.tpr_at_fpr, single.operating_points, strict=True):
        assert hp.tpr.lower <= sp.tpr.lower and hp.tpr.upper >= sp.tpr.upper
        assert (hp.tpr.scope, hp.tpr.comparisons) == ("simultaneous", 3)
        assert hp.tpr.tpr_counts.bound_level == pytest.approx(0.05 / 12)
    assert "strongest of 3 attacks" in h.selection_correction
    assert h.reference_fpr == 0.01
    assert h.epsilon is not None
    best = max(o.metrics.epsilon.epsilon_lower or 0 for o in outcomes)
    assert h.epsilon.epsilon_lower == pytest.approx(best)


def test_ties_broken_by_auc(settings: StatisticsSettings) -> None:
    # Five non-members score highest in both attacks, so neither finds any member at 1% FPR
    # (400 non-members: at most 4 false positives); the one that ranks better overall wins.
    n = 800
    is_member = np.arange(n) < 400
    good = np.where(is_member, 0.5, 0.0)
    flat = np.zeros(n)
    good[400:405] = flat[400:405] = 1.0
    scores = {"flat": flat, "good": good}
    outcomes = _outcomes(scores, is_member, settings)
    assert all(o.metrics.operating_points[1].tpr.estimate == 0 for o in outcomes)
    h = headline(outcomes, scores, is_member, settings=settings, seed=0)
    assert h.strongest_attack == "good"


def test_single_attack_needs_no_correction(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    s, is_member = gaussian_scores(gen, 300, 300, 0.5)
    outcomes = _outcomes({"only": s}, is_member, settings)
    h = headline(outcomes, {"only": s}, is_member, settings=settings, seed=0)
    assert "no correction" in h.selection_correction
    assert h.auc == outcomes[0].metrics.auc  # one figure, one interval
    assert h.auc.scope == "single" and h.tpr_at_fpr[1].tpr.scope == "single"


def test_selection_corrected_interval_draws_enough_resamples_for_its_tails() -> None:
    from compliance_mia.metrics._headline import TAIL_RESAMPLES, headline_resamples

    settings = StatisticsSettings(bootstrap_resamples=1000)
    assert headline_resamples(settings, 1) == 1000  # 2.5% tails: 25 draws each already
    eleven = headline_resamples(settings, 11)
    tail = settings.alpha / 22
    assert eleven * tail >= TAIL_RESAMPLES  # 0.23% tails rest on at least 10 draws
    assert headline_resamples(settings, 10_000) == 20_000  # capped


def test_comparison_runs_skip_the_auc_bootstrap_but_keep_the_estimate() -> None:
    scores, is_member = gaussian_scores(np.random.default_rng(3), 400, 400, 0.7)
    settings = StatisticsSettings(bootstrap_resamples=200)
    full = evaluate_attack(scores, is_member, settings=settings, seed=1, stream="s")
    quick = evaluate_attack(scores, is_member, settings=settings, seed=1, stream="s", auc_bootstrap=False)
    assert quick.auc.estimate == full.auc.estimate
    assert quick.auc.lower is None and quick.auc.upper is None
    assert quick.operating_points == full.operating_points

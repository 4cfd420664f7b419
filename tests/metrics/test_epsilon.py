"""ε lower bound: sound on randomized response with known ε, and close to it."""

from __future__ import annotations

import numpy as np
import pytest
from ground_truth import randomized_response

from compliance_mia.metrics import epsilon_bound, threshold_grid
from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups


def _bound(scores: np.ndarray, is_member: np.ndarray, **kw: float) -> float:
    roc = roc_from_groups(ScoreGroups.build(scores, is_member))
    b = epsilon_bound(roc, delta=kw.pop("delta", 1e-5), confidence=kw.pop("confidence", 0.95), **kw)
    return b.epsilon_lower or 0.0


@pytest.mark.parametrize("epsilon", [1.0, 2.0, 4.0])
def test_randomized_response_bound_is_sound_and_tight(
    gen: np.random.Generator, epsilon: float
) -> None:
    bounds = np.array([_bound(*randomized_response(gen, 5000, epsilon)) for _ in range(40)])
    # Sound: never above the true ε beyond the allowed 5% (Bonferroni makes it ~never).
    assert np.mean(bounds > epsilon) <= 0.05
    assert bounds.max() <= epsilon
    # Tight: with 5,000 records per side the bound gets most of the way to ε.
    assert bounds.mean() > 0.8 * epsilon


def test_bound_grows_with_sample_size(gen: np.random.Generator) -> None:
    small = _bound(*randomized_response(gen, 300, 2.0))
    large = _bound(*randomized_response(gen, 30_000, 2.0))
    assert small < large <= 2.0


def test_more_comparisons_give_a_lower_bound(gen: np.random.Generator) -> None:
    scores, is_member = randomized_response(gen, 3000, 2.0)
    assert _bound(scores, is_member, n_comparisons=10) < _bound(scores, is_member, n_comparisons=1)


def test_random_scores_show_no_epsilon(gen: np.random.Generator) -> None:
    exceed = 0
    for _ in range(40):
        scores = gen.random(1000)
        is_member = np.arange(1000) < 500
        exceed += _bound(scores, is_member) > 0
    assert exceed <= 2


def test_delta_lowers_the_bound(gen: np.random.Generator) -> None:
    scores, is_member = randomized_response(gen, 3000, 3.0)
    assert _bound(scores, is_member, delta=0.01) < _bound(scores, is_member, delta=1e-6)


def test_grid_is_fixed_in_advance() -> None:
    ks = threshold_grid(10_000)
    assert ks.size <= 100
    assert ks.min() == 1 and ks.max() == 10_000
    np.testing.assert_array_equal(ks, threshold_grid(10_000))
    assert threshold_grid(1).tolist() == [1]


def test_bound_reports_its_correction(gen: np.random.Generator) -> None:
    scores, is_member = randomized_response(gen, 2000, 2.0)
    roc = roc_from_groups(ScoreGroups.build(scores, is_member))
    b = epsilon_bound(roc, delta=1e-5, confidence=0.95, n_comparisons=3)
    assert b.thresholds_examined == 3 * threshold_grid(2000).size
    assert "Bonferroni" in b.correction and "3 attacks" in b.correction
    assert isinstance(b.epsilon_lower, float)

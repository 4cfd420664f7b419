"""The ε lower bound against a brute-force computation of the paper's p-value, and its validity rules."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from compliance_mia.audit.bound import audit_bound, epsilon_lower_bound, guess_grid, p_value


def _brute_p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """Steinke et al. Algorithm 2's p-value from exact binomial terms (fractions, no scipy)."""
    q = Fraction(1) / (1 + Fraction(math.exp(-eps)))
    pmf = [math.comb(r, j) * q**j * (1 - q) ** (r - j) for j in range(r + 1)]
    tail = sum(pmf[v:], Fraction(0))
    alpha = max((sum(pmf[v - i : v], Fraction(0)) / i for i in range(1, v + 1)), default=Fraction(0))
    return float(min(tail + alpha * Fraction(delta) * 2 * m, Fraction(1)))


@pytest.mark.parametrize(
    ("m", "r", "v", "eps", "delta"),
    [
        (100, 20, 15, 0.5, 0.0),
        (100, 20, 15, 0.5, 1e-3),
        (50, 50, 40, 1.2, 1e-5),
        (30, 10, 10, 2.0, 0.01),
        (8, 6, 0, 1.0, 0.1),
    ],
)
def test_p_value_matches_brute_force(m, r, v, eps, delta):
    assert p_value(m, r, v, eps, delta) == pytest.approx(_brute_p_value(m, r, v, eps, delta), rel=1e-9, abs=1e-15)


def test_all_guesses_right_without_delta_has_a_closed_form():
    # P[Binomial(r, q) ≥ r] = q^r = level  ⇒  q = level^(1/r), ε = ln(q / (1 − q))
    r, level = 40, 0.05
    q = level ** (1 / r)
    assert epsilon_lower_bound(100, r, r, delta=0.0, level=level) == pytest.approx(math.log(q / (1 - q)), abs=1e-9)


def test_bound_is_the_largest_rejected_epsilon():
    m, r, v, delta, level = 500, 120, 100, 1e-5, 0.05
    eps = epsilon_lower_bound(m, r, v, delta=delta, level=level)
    assert eps > 0
    assert p_value(m, r, v, eps, delta) < level  # rejected: the bound is on the valid side
    assert p_value(m, r, v, eps + 1e-6, delta) >= level  # and as large as the data support


def test_bound_grows_with_correct_guesses_and_shrinks_with_delta():
    bounds = [epsilon_lower_bound(1000, 200, v, delta=0.0, level=0.05) for v in (100, 120, 150, 180, 200)]
    assert bounds[0] == 0.0  # half right is guessing
    assert all(a < b for a, b in zip(bounds[1:], bounds[2:], strict=False))
    assert epsilon_lower_bound(1000, 200, 180, delta=1e-3, level=0.05) < bounds[3]


def test_guess_grid_is_fixed_from_m_alone_and_a_fixed_k_is_one_test():
    assert guess_grid(1000) == [10, 25, 50, 100, 250, 500]
    assert guess_grid(1000, 40) == [40]
    assert guess_grid(30, 99) == [15]


def test_grid_points_are_bonferroni_corrected():
    gen = np.random.default_rng(0)
    bits = gen.random(400) < 0.5
    scores = bits + gen.normal(0, 0.8, 400)
    one = audit_bound(scores, bits, delta=0, confidence=0.95, grid=[100], tiebreak=gen.random(400))
    many = audit_bound(scores, bits, delta=0, confidence=0.95, grid=guess_grid(400), tiebreak=gen.random(400))
    assert one.level == pytest.approx(0.05)
    assert many.level == pytest.approx(0.05 / len(guess_grid(400)))
    # the grid point k = 100 judged at the stricter level gives a smaller bound than alone
    at_100 = epsilon_lower_bound(400, 200, one.correct, delta=0, level=many.level)
    assert at_100 < one.epsilon_lower


def test_ties_are_broken_by_the_independent_key_not_by_the_answer():
    # every canary scores the same: the guesses must be the tie-break's, so about half are right
    m = 2000
    gen = np.random.default_rng(1)
    bits = gen.random(m) < 0.5
    result = audit_bound(np.zeros(m), bits, delta=0, confidence=0.95, grid=[m // 2], tiebreak=gen.random(m))
    assert result.epsilon_lower == 0.0
    assert abs(result.correct - m / 2) < 4 * math.sqrt(m / 4)


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError, match="finite"):
        audit_bound([0.0, float("nan")], [True, False], delta=0, confidence=0.95, grid=[1], tiebreak=np.zeros(2))

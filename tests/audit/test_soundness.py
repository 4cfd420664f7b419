"""Soundness (the bound never claims more than the true ε, beyond its error level) and power.

Two learners with a known ε: randomized response on the canaries' inclusion
bits (privacy loss exactly ε, the tightest case the bound can meet) and
diffprivlib's ε-DP Gaussian naive Bayes. And two that are not private, which
the audit must catch.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from compliance_mia.audit.bound import audit_bound, guess_grid
from compliance_mia.audit.canaries import population_canaries, synthetic_canaries
from compliance_mia.audit.run import audit_estimator
from compliance_mia.seeding import rng

CLASSES = np.array(["benign", "malignant"])


def randomized_response_bounds(eps: float, m: int, trials: int, seed: int) -> np.ndarray:
    """Each trial: report every inclusion bit truthfully with probability e^ε/(1+e^ε); audit the reports."""
    keep = 1 / (1 + np.exp(-eps))
    out = []
    for t in range(trials):
        gen = rng(seed, "rr", t)
        bits = gen.random(m) < 0.5
        reported = np.where(gen.random(m) < keep, bits, ~bits).astype(float)
        result = audit_bound(reported, bits, delta=0.0, confidence=0.95, grid=guess_grid(m), tiebreak=gen.random(m))
        out.append(result.epsilon_lower)
    return np.asarray(out)


@pytest.mark.parametrize("eps", [0.5, 1.0, 2.0])
def test_randomized_response_is_not_over_claimed(eps):
    trials = 30
    bounds = randomized_response_bounds(eps, m=500, trials=trials, seed=3)
    violations = int((bounds > eps).sum())
    # a 95% bound may exceed the truth in up to 5% of trials; more than this happens with probability < 1%
    assert violations <= binom.ppf(0.99, trials, 0.05), (violations, bounds.max())
    # and it is not vacuous: the mechanism is tight, so the bound comes close on average
    assert bounds.mean() > 0.5 * eps


def test_diffprivlib_laplace_on_each_bit_is_not_over_claimed(diffprivlib):
    """The Laplace mechanism of diffprivlib (sensitivity 1) on each inclusion bit: each output is ε-DP."""
    eps, m, trials = 2.0, 500, 20
    bounds = []
    for t in range(trials):
        gen = rng(11, "laplace", t)
        bits = gen.random(m) < 0.5
        mech = diffprivlib.mechanisms.Laplace(epsilon=eps, sensitivity=1.0, random_state=t)
        noisy = np.array([mech.randomise(float(b)) for b in bits])
        result = audit_bound(noisy, bits, delta=0.0, confidence=0.95, grid=guess_grid(m), tiebreak=gen.random(m))
        bounds.append(result.epsilon_lower)
    bounds = np.asarray(bounds)
    assert (bounds > eps).sum() <= binom.ppf(0.99, trials, 0.05), bounds.max()
    assert bounds.mean() > 0.4 * eps


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_diffprivlib_gaussian_nb_never_exceeds_its_epsilon(diffprivlib, tabular, eps):
    X, y, pool, _ = tabular
    lo, hi = pool.min().to_numpy(), pool.max().to_numpy()  # public bounds, fixed before training
    bounds = []
    for trial in range(4):
        cx, cy = synthetic_canaries(200, pool=pool, classes=CLASSES, seed=trial)
        audit = audit_estimator(
            diffprivlib.models.GaussianNB(epsilon=eps, bounds=(lo, hi)),
            X,
            y,
            cx,
            cy,
            seed=trial,
            claimed_epsilon=eps,
            delta=0.0,
            confidence=0.95,
        )
        bounds.append(audit.epsilon_lower)
        assert audit.verdict == "claim not contradicted"
    assert max(bounds) <= eps


def test_an_overfit_forest_contradicts_a_small_claim(tabular):
    from sklearn.ensemble import RandomForestClassifier

    X, y, pool, _ = tabular
    cx, cy = synthetic_canaries(300, pool=pool, classes=CLASSES, seed=5)
    audit = audit_estimator(
        RandomForestClassifier(n_estimators=30, n_jobs=1),
        X,
        y,
        cx,
        cy,
        seed=5,
        claimed_epsilon=1.0,
        delta=1e-5,
        confidence=0.95,
    )
    assert audit.epsilon_lower > 2.0
    assert audit.verdict == "claim contradicted"
    assert audit.correct / audit.guesses > 0.9
    assert audit.training_records == len(X) + audit.canaries_included
    assert audit.guess_grid == guess_grid(300)


def test_one_nearest_neighbour_is_caught_and_synthetic_canaries_audit_harder(tabular):
    from sklearn.neighbors import KNeighborsClassifier

    X, y, pool, pool_y = tabular
    kw = {"seed": 2, "claimed_epsilon": 0.1, "delta": 1e-5, "confidence": 0.95}
    cx, cy = synthetic_canaries(300, pool=pool, classes=CLASSES, seed=2)
    synthetic = audit_estimator(KNeighborsClassifier(1), X, y, cx, cy, **kw)
    px, py = population_canaries(300, X=pool, y=pool_y, seed=2, source="population")
    population = audit_estimator(KNeighborsClassifier(1), X, y, px, py, canary_source="population", **kw)
    assert synthetic.epsilon_lower > 0.5
    assert synthetic.verdict == "claim contradicted"
    assert synthetic.epsilon_lower > population.epsilon_lower


def test_the_audit_is_deterministic_from_the_seed(tabular):
    from sklearn.ensemble import RandomForestClassifier

    X, y, pool, _ = tabular
    cx, cy = synthetic_canaries(100, pool=pool, classes=CLASSES, seed=9)
    kw = {"seed": 9, "claimed_epsilon": 1.0, "delta": 1e-5, "confidence": 0.95}
    first = audit_estimator(RandomForestClassifier(n_estimators=10, n_jobs=1), X, y, cx, cy, **kw)
    again = audit_estimator(RandomForestClassifier(n_estimators=10, n_jobs=1), X, y, cx, cy, **kw)
    assert first == again

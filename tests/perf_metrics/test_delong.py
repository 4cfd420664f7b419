"""The AUC interval of large audits: DeLong's, computed from grouped scores."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from compliance_mia.metrics import StatisticsSettings, _evaluate
from compliance_mia.metrics._intervals import delong_auc_interval
from compliance_mia.metrics._ranking import ScoreGroups, auc_from_groups


def _pairwise_delong(x: np.ndarray, y: np.ndarray, confidence: float) -> tuple[float, float]:
    """Textbook DeLong from every member-non-member pair (ties ½)."""
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    auc = psi.mean()
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / x.size + v01.var(ddof=1) / y.size)
    z = norm.ppf(1 - (1 - confidence) / 2)
    return max(0.0, auc - z * se), min(1.0, auc + z * se)


@pytest.mark.parametrize("decimals", [None, 1])
def test_delong_matches_pairwise_definition(decimals):
    gen = np.random.default_rng(3)
    x, y = gen.normal(0.7, 1, 300), gen.normal(0, 1, 450)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    groups = ScoreGroups.build(np.r_[x, y], np.r_[np.ones(300, bool), np.zeros(450, bool)])
    got = delong_auc_interval(groups, confidence=0.95)
    want = _pairwise_delong(x, y, 0.95)
    assert got == pytest.approx(want, abs=1e-12)


def test_auc_interval_uses_delong_only_above_the_threshold(monkeypatch):
    gen = np.random.default_rng(1)
    scores = np.r_[gen.normal(0.5, 1, 400), gen.normal(0, 1, 400)]
    groups = ScoreGroups.build(scores, np.r_[np.ones(400, bool), np.zeros(400, bool)])
    settings = StatisticsSettings(bootstrap_resamples=200)
    small = _evaluate.auc_interval(groups, settings=settings, seed=1, stream="x")
    assert small.method.startswith("bootstrap-percentile")
    monkeypatch.setattr(_evaluate, "BOOTSTRAP_MAX_RECORDS", 799)
    large = _evaluate.auc_interval(groups, settings=settings, seed=1, stream="x", comparisons=11)
    assert large.method.startswith("DeLong")
    assert large.estimate == auc_from_groups(groups)
    assert (large.lower, large.upper) == delong_auc_interval(groups, confidence=1 - 0.05 / 11)
    # the two agree to within the bootstrap's Monte Carlo error
    assert abs((large.upper - large.lower) - (small.upper - small.lower)) < 0.05

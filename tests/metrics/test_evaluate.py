"""evaluate_attack: every field filled, plain floats, seeded, honest about small samples."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ground_truth import gaussian_scores

from compliance_mia.assessment import AttackMetrics
from compliance_mia.metrics import StatisticsSettings, evaluate_attack


def _plain(value: object) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _plain(v)
    elif isinstance(value, list):
        for v in value:
            _plain(v)
    else:
        assert value is None or type(value) in (bool, int, float, str), type(value)


def test_every_field_is_filled_with_plain_values(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    scores, is_member = gaussian_scores(gen, 3000, 12_000, 1.0)
    m = evaluate_attack(
        scores, is_member, settings=settings, seed=1, stream="main/x", n_comparisons=2
    )
    assert (m.n_members, m.n_non_members) == (3000, 12_000)
    _plain(m.model_dump())
    json.dumps(m.model_dump(mode="json"), allow_nan=False)
    assert AttackMetrics.model_validate_json(m.model_dump_json()) == m
    assert m.auc.lower < m.auc.estimate < m.auc.upper
    assert m.auc.estimate == pytest.approx(0.76, abs=0.02)
    assert m.advantage.lower < m.advantage.estimate < m.advantage.upper
    assert [p.fpr for p in m.operating_points] == [0.001, 0.01, 0.1]
    for p in m.operating_points:
        assert p.measurable and p.reason is None
        assert p.tpr.lower <= p.tpr.estimate <= p.tpr.upper
        assert p.tpr.n == 3000 and p.tpr.method.startswith("threshold-adjusted Clopper–Pearson")
        assert p.tpr.scope == "single" and p.tpr.comparisons == 1 and p.tpr.determinable
        assert p.ppv is not None and 0.5 < p.ppv < 1
        assert p.min_detectable_tpr is not None and p.min_detectable_tpr > p.fpr
        assert p.threshold is not None
    assert m.epsilon is not None and m.epsilon.epsilon_lower > 0
    assert len(m.roc.fpr) <= 400 and min(f for f in m.roc.fpr if f > 0) <= 1 / 12_000
    assert sum(m.histogram.members) == 3000 and sum(m.histogram.non_members) == 12_000
    assert len(m.histogram.edges) == len(m.histogram.members) + 1
    assert m.ties.distinct_scores == 15_000 and "random" in m.ties.policy


def test_seeded_and_stream_specific(gen: np.random.Generator, settings: StatisticsSettings) -> None:
    scores, is_member = gaussian_scores(gen, 200, 200, 0.5)
    a = evaluate_attack(scores, is_member, settings=settings, seed=5, stream="main/a")
    b = evaluate_attack(scores, is_member, settings=settings, seed=5, stream="main/a")
    c = evaluate_attack(scores, is_member, settings=settings, seed=5, stream="main/b")
    assert a == b
    assert a.auc.lower != c.auc.lower
    assert a.auc.estimate == c.auc.estimate


def test_small_sample_low_fpr_not_measurable(
    gen: np.random.Generator, settings: StatisticsSettings
) -> None:
    scores = gen.random(600)
    is_member = np.arange(600) < 300
    m = evaluate_attack(scores, is_member, settings=settings, seed=0, stream="s")
    by_fpr = {p.fpr: p for p in m.operating_points}
    for f in (0.001, 0.01):
        p = by_fpr[f]
        assert not p.measurable
        assert p.reason.startswith("not determinable: only ")
        assert "among 300 non-members" in p.reason and "at least 10 needed" in p.reason
        assert p.non_members_needed == round(10 / f)
        assert f"{p.non_members_needed:,}" in p.reason
        assert not p.tpr.determinable and p.tpr.note == p.reason
    assert by_fpr[0.1].measurable
    assert m.auc.lower <= 0.5 <= m.auc.upper


def test_random_scores_auc_interval_covers_half(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=200)
    covered = 0
    for i in range(40):
        scores = gen.normal(size=200)
        is_member = np.arange(200) < 100
        m = evaluate_attack(scores, is_member, settings=settings, seed=i, stream="r")
        covered += m.auc.lower <= 0.5 <= m.auc.upper
        assert m.advantage.lower == 0.0
    assert covered >= 34


def test_all_tied_scores(settings: StatisticsSettings) -> None:
    scores = np.ones(400)
    is_member = np.arange(400) < 200
    m = evaluate_attack(scores, is_member, settings=settings, seed=0, stream="t")
    assert m.auc.estimate == m.auc.lower == m.auc.upper == 0.5
    assert m.ties.largest_tie_fraction == 1.0 and m.ties.distinct_scores == 1
    for p in m.operating_points:
        assert p.tpr.estimate == pytest.approx(p.fpr)
        assert p.ppv == pytest.approx(0.5)
    assert m.epsilon.epsilon_lower is None
    assert m.histogram.members == [200]


def test_infinite_scores_are_handled(settings: StatisticsSettings) -> None:
    scores = np.array(
        [np.inf] * 5 + list(np.linspace(0, 1, 95)) + [-np.inf] * 5 + list(np.linspace(0, 1, 95))
    )
    is_member = np.arange(200) < 100
    m = evaluate_attack(scores, is_member, settings=settings, seed=0, stream="inf")
    json.dumps(m.model_dump(mode="json"), allow_nan=False)
    assert sum(m.histogram.members) == 100

"""Slices: sizes, intervals, small slices flagged not ranked, the most exposed found."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.metrics import StatisticsSettings, most_exposed_slice, slice_results


def test_exposed_group_is_found(gen: np.random.Generator, settings: StatisticsSettings) -> None:
    n = 3000
    is_member = gen.random(n) < 0.5
    group = gen.choice(["a", "b", "c"], size=n)
    shift = np.where(group == "c", 1.5, 0.3)
    scores = gen.normal(size=n) + is_member * shift
    tiny = np.where(np.arange(n) < 30, "rare", "common")
    scores[:30] = np.where(is_member[:30], 10.0, -10.0)  # perfectly exposed but tiny
    slices = slice_results(
        scores, is_member, {"site": group, "flag": tiny}, settings=settings, seed=0
    )
    assert [(s.column, s.value) for s in slices] == [
        ("site", "a"),
        ("site", "b"),
        ("site", "c"),
        ("flag", "common"),
        ("flag", "rare"),
    ]
    by = {(s.column, s.value): s for s in slices}
    rare = by[("flag", "rare")]
    assert rare.small and rare.n_members + rare.n_non_members == 30
    c = by[("site", "c")]
    assert not c.small
    assert c.n_members == int(is_member[group == "c"].sum())
    assert c.auc.lower < c.auc.estimate < c.auc.upper
    assert c.tpr_at_fpr is not None and c.fpr == settings.reference_fpr
    top = most_exposed_slice(slices)
    assert top is not None and (top.column, top.value) == ("site", "c")


def test_slice_without_members_is_small_and_empty(settings: StatisticsSettings) -> None:
    scores = np.linspace(0, 1, 200)
    is_member = np.arange(200) < 100
    col = np.where(np.arange(200) < 150, "x", "only-non")
    slices = slice_results(scores, is_member, {"g": col}, settings=settings, seed=0)
    assert all(s.value != "only-non" for s in slices)  # a group without members is suppressed
    empty = [s for s in slices if s.suppressed][0]
    assert empty.small and empty.n_members == 0 and empty.auc.estimate is None
    assert most_exposed_slice([empty]) is None


def test_slices_are_seeded(gen: np.random.Generator, settings: StatisticsSettings) -> None:
    scores = gen.normal(size=400)
    is_member = np.arange(400) < 200
    groups = {"class": np.where(gen.random(400) < 0.5, "0", "1")}
    a = slice_results(scores, is_member, groups, settings=settings, seed=3)
    b = slice_results(scores, is_member, groups, settings=settings, seed=3)
    assert a == b


def test_mismatched_column_raises(settings: StatisticsSettings) -> None:
    with pytest.raises(ValueError, match="slice column 'g'"):
        slice_results(
            np.ones(4),
            np.array([1, 0, 1, 0], bool),
            {"g": np.array(["a"])},
            settings=settings,
            seed=0,
        )


def test_many_valued_column_is_capped(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=50)
    n = 2000
    col = np.array([f"v{i % 300}" for i in range(n)])
    slices = slice_results(
        gen.normal(size=n), gen.random(n) < 0.5, {"id_like": col}, settings=settings, seed=0
    )
    assert len(slices) == 1 and slices[0].suppressed  # every one of them has < 10 members
    col = np.array([f"v{i % 60}" for i in range(12_000)])
    slices = slice_results(
        gen.normal(size=12_000), gen.random(12_000) < 0.5, {"id_like": col}, settings=settings, seed=0
    )
    assert len(slices) == 50

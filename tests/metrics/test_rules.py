"""Issue 11/12 rules: reproducible intervals, determinability, no clamping, ε attribution, suppression.

Every rule is checked against a brute-force or reference computation from the
raw scores, so each test fails if the rule is implemented differently.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ground_truth import gaussian_scores
from scipy.stats import beta, binom

from compliance_mia.assessment import AttackOutcome, OperatingPoint
from compliance_mia.metrics import (
    StatisticsSettings,
    default_delta,
    evaluate_attack,
    headline,
    roc_curve,
    slice_results,
    tpr_determinable,
)
from compliance_mia.metrics._intervals import tpr_interval


def _outcomes(scores, is_member, settings):
    return [
        AttackOutcome(
            name=name,
            title=name,
            family="test",
            summary="",
            signal="",
            metrics=evaluate_attack(s, is_member, settings=settings, seed=0, stream=name, n_comparisons=len(scores)),
        )
        for name, s in scores.items()
    ]


def _recompute(counts: dict) -> tuple[float, float]:
    """Bounds from the stored counts alone, as a reviewer would (docs/methodology.md)."""
    a, n = counts["bound_level"], counts["n_members"]
    x_lo, x_hi = counts["members_lower"], counts["members_upper"]
    lower = 0.0 if x_lo == 0 else beta.ppf(a, x_lo, n - x_lo + 1)
    upper = 1.0 if x_hi == n else beta.ppf(1 - a, x_hi + 1, n - x_hi)
    return float(lower), float(upper)


# ---------------------------------------------------------------- (a) reproducible from JSON
def test_headline_tpr_interval_recomputes_from_its_json(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=200)
    base, is_member = gaussian_scores(gen, 5000, 5000, 1.0)
    scores = {"a": base, "b": base + gen.normal(size=10_000), "c": gen.normal(size=10_000)}
    h = headline(_outcomes(scores, is_member, settings), scores, is_member, settings=settings, seed=0)
    for point in h.tpr_at_fpr:
        data = json.loads(point.model_dump_json())
        tpr = data["tpr"]
        counts = tpr["tpr_counts"]
        assert tpr["scope"] == "simultaneous" and tpr["comparisons"] == 3
        assert counts["bound_level"] == pytest.approx((1 - tpr["per_comparison_confidence"]) / 4)
        assert counts["bound_level"] == pytest.approx(0.05 / (4 * 3))
        lower, upper = _recompute(counts)
        assert lower == pytest.approx(tpr["lower"], rel=1e-12, abs=1e-15)
        assert upper == pytest.approx(tpr["upper"], rel=1e-12, abs=1e-15)
        # the stored ranks follow the stated order-statistic rule
        n0, f, a = counts["n_non_members"], counts["target_fpr"], counts["bound_level"]
        ks = np.arange(n0 + 2)
        cdf_below = binom.cdf(ks - 1, n0, f)
        assert counts["k_lower"] == max(int(ks[cdf_below <= a].max()), 0)
        assert counts["k_upper"] == int(ks[cdf_below >= 1 - a].min())
        OperatingPoint.model_validate(data)


def _brute_counts(scores, is_member, k_a, k_b):
    non = np.sort(scores[~is_member])[::-1]
    mem = scores[is_member]
    x_lo = 0 if k_a == 0 else int(np.sum(mem > non[k_a - 1]))
    x_hi = len(mem) if k_b > len(non) else int(np.sum(mem >= non[k_b - 1]))
    return x_lo, x_hi


@pytest.mark.parametrize("levels", [3, 20, 1000])
def test_stored_member_counts_match_brute_force_with_ties(levels: int) -> None:
    gen = np.random.default_rng(levels)
    for _ in range(20):
        n1, n0 = gen.integers(20, 400, size=2)
        s = np.concatenate([gen.integers(0, levels, n1) + 0.3, gen.integers(0, levels, n0)])
        s = np.floor(s)
        m = np.arange(n1 + n0) < n1
        for f in (0.01, 0.1, 0.3):
            t = tpr_interval(roc_curve(s, m), f, confidence=0.95)
            assert (t.members_lower, t.members_upper) == _brute_counts(s, m, t.k_lower, t.k_upper)


# ---------------------------------------------------------------- (c) no clamping
def test_tpr_bounds_are_the_raw_beta_quantiles_and_still_contain_the_estimate() -> None:
    gen = np.random.default_rng(7)
    for _ in range(200):
        n1, n0 = gen.integers(5, 300, size=2)
        levels = int(gen.integers(1, 30))
        s = np.concatenate([gen.integers(0, levels + 2, n1), gen.integers(0, levels, n0)])
        m = np.arange(n1 + n0) < n1
        for f in (0.001, 0.05, 0.5):
            t = tpr_interval(roc_curve(s.astype(float), m), f, confidence=0.9)
            counts = {
                "bound_level": t.bound_level,
                "n_members": t.n_members,
                "members_lower": t.members_lower,
                "members_upper": t.members_upper,
            }
            assert (t.lower, t.upper) == pytest.approx(_recompute(counts), abs=1e-15)
            assert t.lower <= t.estimate <= t.upper


def test_auc_interval_is_not_clamped(gen: np.random.Generator) -> None:
    from compliance_mia.metrics._evaluate import auc_interval
    from compliance_mia.metrics._intervals import bootstrap_auc, percentile_interval
    from compliance_mia.metrics._ranking import ScoreGroups
    from compliance_mia.seeding import rng

    s, m = gaussian_scores(gen, 40, 40, 0.3)
    groups = ScoreGroups.build(s, m)
    settings = StatisticsSettings(bootstrap_resamples=50)
    iv = auc_interval(groups, settings=settings, seed=5, stream="x")
    raw = percentile_interval(bootstrap_auc(groups, resamples=50, rng=rng(5, "bootstrap", "x")), confidence=0.95)
    assert (iv.lower, iv.upper) == raw


# ---------------------------------------------------------------- (b) determinable
def _brute_tie_share(scores, is_member, fpr):
    """Expected share of flagged records picked at random, from raw counts."""
    non = scores[~is_member]
    c = fpr * non.size
    for v in np.unique(scores)[::-1]:
        above_non = np.sum(non > v)
        at_non = np.sum(non == v)
        if above_non < c < above_non + at_non:
            at_all = np.sum(scores == v)
            r = (c - above_non) / at_non
            flagged = np.sum(scores > v) + r * at_all
            return r * at_all / flagged, at_all / scores.size
    return 0.0, 0.0


def _brute_window_tie(scores, is_member, fpr):
    t = tpr_interval(roc_curve(scores, is_member), fpr, confidence=0.95)
    non = np.sort(scores[~is_member])[::-1]
    lo, hi = max(t.k_lower, 1), min(t.k_upper, non.size)
    values = np.unique(non[lo - 1 : hi])
    return max(np.sum(scores == v) for v in values) / scores.size


def test_tie_share_matches_brute_force() -> None:
    gen = np.random.default_rng(3)
    settings = StatisticsSettings()
    for _ in range(100):
        n1, n0 = gen.integers(50, 500, size=2)
        levels = int(gen.integers(2, 40))
        s = np.concatenate([gen.integers(0, levels + 1, n1), gen.integers(0, levels, n0)])
        s = s.astype(float)
        m = np.arange(n1 + n0) < n1
        for f in (0.01, 0.1, 0.5):
            d = tpr_determinable(roc_curve(s, m), f, settings=settings)
            share, tied = _brute_tie_share(s, m, f)
            assert d.tie_share == pytest.approx(share)
            assert d.tied_records_share == pytest.approx(tied)
            window = _brute_window_tie(s, m, f)
            assert d.window_tie_share == pytest.approx(window)
            enough = f * n0 >= 10
            assert d.determinable == (enough and share <= 0.5 and window <= 0.5)


def test_gap_like_scores_are_not_determinable() -> None:
    # 97.6% of the records share the top score (e.g. "prediction correct"): any TPR read
    # at 1% FPR is the coin that breaks the tie, not the attack.
    n = 5000
    is_member = np.arange(2 * n) < n
    scores = np.ones(2 * n)
    scores[: int(0.012 * n)] = 0.0
    scores[n : n + int(0.036 * n)] = 0.0
    settings = StatisticsSettings(bootstrap_resamples=50)
    m = evaluate_attack(scores, is_member, settings=settings, seed=0, stream="gap")
    for p in m.operating_points:
        if p.fpr in (0.01, 0.1):
            assert not p.measurable and not p.tpr.determinable
            assert p.reason.startswith("not determinable: ")
            assert "of records share one score at the threshold" in p.reason
            assert p.non_members_needed is None  # more non-members would not help
            assert p.tpr.note == p.reason


def test_huge_tie_just_beyond_the_threshold_is_not_determinable() -> None:
    # 2.4% of records score above a tie holding 97.6%: at 1% FPR the threshold sits just above
    # the tie (few records picked at random), but the interval's upper threshold falls inside
    # it, so the interval would read "x% (y–99%)".
    n = 5000
    is_member = np.arange(2 * n) < n
    scores = np.zeros(2 * n)
    scores[:150] = np.linspace(2, 3, 150)  # 150 members above the tie
    scores[n : n + 48] = np.linspace(1, 2, 48)  # 48 non-members above it; c = 50
    settings = StatisticsSettings()
    roc = roc_curve(scores, is_member)
    d = tpr_determinable(roc, 0.01, settings=settings)
    assert d.tie_share < 0.5  # rule (a) alone would print it
    assert tpr_interval(roc, 0.01, confidence=0.95).upper > 0.99
    assert not d.determinable and d.window_tie_share > 0.97
    assert "share one score within the range" in d.reason


def test_expected_false_positive_rule_in_plain_words() -> None:
    s, m = gaussian_scores(np.random.default_rng(0), 287, 287, 1.0)
    d = tpr_determinable(roc_curve(s, m), 0.01, settings=StatisticsSettings())
    assert not d.determinable
    assert d.reason == (
        "not determinable: only 2.87 false positives expected among 287 non-members at a 1% "
        "false-positive rate; at least 10 needed (about 1,000 non-members)"
    )


def test_same_rule_for_attack_headline_and_slice(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=100)
    n = 6000
    is_member = gen.random(n) < 0.5
    group = np.where(np.arange(n) < 600, "small", "big")
    scores = gen.normal(size=n) + is_member
    out = _outcomes({"x": scores}, is_member, settings)
    h = headline(out, {"x": scores}, is_member, settings=settings, seed=0)
    sl = {s.value: s for s in slice_results(scores, is_member, {"g": group}, settings=settings, seed=0)}
    ref = settings.reference_fpr
    for p in [*out[0].metrics.operating_points, *h.tpr_at_fpr]:
        want = tpr_determinable(roc_curve(scores, is_member), p.fpr, settings=settings)
        assert (p.measurable, p.reason) == (want.determinable, want.reason)
    for value, mask in (("small", group == "small"), ("big", group == "big")):
        want = tpr_determinable(roc_curve(scores[mask], is_member[mask]), ref, settings=settings)
        got = sl[value].tpr_at_fpr
        assert (got.determinable, got.note) == (want.determinable, want.reason)
    small = sl["small"].tpr_at_fpr
    assert small.estimate is None and small.lower is None and small.upper is None
    assert "false positives expected among" in small.note
    assert sl["big"].tpr_at_fpr.estimate is not None


# ---------------------------------------------------------------- (d) ε stated soundly
def test_epsilon_names_its_attack_and_threshold_and_recomputes(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=50, delta=1e-5)
    n = 4000
    is_member = np.arange(2 * n) < n
    # "wide" leaks a little for everyone (best TPR at 1% FPR); "spike" exposes 3% of members
    # completely (largest ε).
    wide = gen.normal(size=2 * n) + 1.2 * is_member
    spike = gen.normal(size=2 * n)
    spike[: int(0.03 * n)] = 50.0
    scores = {"wide": wide, "spike": spike}
    out = _outcomes(scores, is_member, settings)
    h = headline(out, scores, is_member, settings=settings, seed=0)
    assert h.strongest_attack == "wide"
    e = h.epsilon
    assert e.attack == "spike"
    assert e.form == "tpr/fpr" and e.threshold_rank >= 1
    assert e.tpr_lower == pytest.approx(beta.ppf(e.per_test_level, e.members_flagged, n - e.members_flagged + 1))
    k = e.threshold_rank
    assert e.fpr_upper == pytest.approx(beta.ppf(1 - e.per_test_level, k, n - k + 1))
    assert e.epsilon_lower == pytest.approx(math.log((e.tpr_lower - e.delta) / e.fpr_upper))
    assert "random sample from the same population" in e.assumptions
    assert "lower bound valid at 95% confidence" in e.assumptions
    assert "spike" in e.correction
    brute = int(np.sum(spike[:n] > np.sort(spike[n:])[::-1][k - 1]))
    assert e.members_flagged == brute


@pytest.mark.parametrize("subjects", [1, 7, 99, 100, 1000, 50_000, 10**9])
def test_default_delta_is_strictly_below_one_over_n(subjects: int) -> None:
    d = default_delta(subjects)
    assert 0 < d < 1 / subjects and d <= 1e-3
    if subjects >= 100:
        assert d == pytest.approx(1 / (10 * subjects))


# ---------------------------------------------------------------- (e) small groups suppressed
def test_small_groups_are_never_reported_by_value(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=50)
    n = 3000
    is_member = gen.random(n) < 0.5
    ethnicity = gen.choice(["Alpha", "Beta"], size=n).astype(object)
    ethnicity[5] = "Zzyzxian"  # one person
    ethnicity[[10, 11, 12]] = "Qwertyan"  # three people
    ethnicity[np.flatnonzero(is_member[20:])[:9] + 20] = "Ninefold"  # 9 members, no non-members
    slices = slice_results(
        gen.normal(size=n), is_member, {"ethnicity": ethnicity.astype(str)}, settings=settings, seed=0
    )
    text = json.dumps([s.model_dump(mode="json") for s in slices])
    for raw in ("Zzyzxian", "Qwertyan", "Ninefold"):
        assert raw not in text
    hidden = [s for s in slices if s.suppressed]
    assert len(hidden) == 1
    row = hidden[0]
    assert row.groups_merged == 3 and row.small
    assert row.value == "fewer than 10 members or non-members (3 groups, suppressed)"
    assert row.auc.estimate is None and not row.auc.determinable and row.tpr_at_fpr is None
    assert row.n_members + row.n_non_members == 1 + 3 + 9
    assert sorted(s.value for s in slices if not s.suppressed) == ["Alpha", "Beta"]


def test_group_exactly_at_min_size_is_reported(gen: np.random.Generator) -> None:
    settings = StatisticsSettings(bootstrap_resamples=50, min_group_size=10)
    is_member = np.arange(400) < 200
    col = np.array(["big"] * 400, dtype=object)
    col[:10] = "edge"
    col[200:210] = "edge"
    col[210:219] = "under"
    col[:1] = "under"  # 1 member, 9 non-members: suppressed
    slices = slice_results(gen.normal(size=400), is_member, {"c": col.astype(str)}, settings=settings, seed=0)
    values = [s.value for s in slices]
    assert "edge" not in values  # 9 members left after "under" took one
    col[:1] = "edge"
    col[210:219] = "big"
    slices = slice_results(gen.normal(size=400), is_member, {"c": col.astype(str)}, settings=settings, seed=0)
    assert sorted(s.value for s in slices) == ["big", "edge"]


def test_strongest_is_never_chosen_on_a_figure_that_may_not_be_printed() -> None:
    # "gap": 97.6% of records tied at the top, its interpolated TPR at 1% FPR (1.3%) beats the
    # real attack's; it must not become the headline attack on that figure.
    gen = np.random.default_rng(11)
    n = 5000
    is_member = np.arange(2 * n) < n
    gap = np.ones(2 * n)
    gap[: int(0.012 * n)] = 0.0
    gap[n : n + int(0.036 * n)] = 0.0
    real = gen.normal(size=2 * n) - 0.3 * is_member  # weak: TPR at 1% FPR well below 1%
    settings = StatisticsSettings(bootstrap_resamples=50)
    scores = {"gap": gap, "real": real}
    out = _outcomes(scores, is_member, settings)
    from compliance_mia.metrics import strongest

    assert strongest(out, scores, is_member, reference_fpr=0.01) == "gap"  # the old rule
    h = headline(out, scores, is_member, settings=settings, seed=0)
    assert h.strongest_attack == "real"

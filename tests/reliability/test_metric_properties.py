"""Property-based: evaluate_attack on any valid scores and labels stays in range and ignores record order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compliance_mia.metrics import StatisticsSettings, evaluate_attack

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy overflow notes on 1e308 scores
STATS = StatisticsSettings(bootstrap_resamples=60)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
score_values = st.one_of(
    finite,
    st.sampled_from([0.0, 1.0, -1.0, 1e-300, -1e-300, 5e-324, 1e300, -1e300, 1.7976931348623157e308]),
    st.integers(-3, 3).map(float),  # many ties
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n_members = draw(st.integers(1, 40))
    n_non = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["any", "constant", "two-values", "separated"]))
    n = n_members + n_non
    if kind == "constant":
        value = draw(score_values)
        scores = [value] * n
    elif kind == "two-values":
        a, b = draw(score_values), draw(score_values)
        scores = [draw(st.sampled_from([a, b])) for _ in range(n)]
    else:
        scores = draw(st.lists(score_values, min_size=n, max_size=n))
    labels = np.array([True] * n_members + [False] * n_non)
    scores_arr = np.asarray(scores, dtype=float)
    if kind == "separated":
        scores_arr = np.where(labels, 1.0, 0.0) + np.zeros(n)
    order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n)
    return scores_arr[order], labels[order]


def _bounded(value: float | None) -> None:
    if value is not None:
        assert 0.0 <= value <= 1.0, value


def _interval(interval) -> None:  # noqa: ANN001
    _bounded(interval.estimate)
    _bounded(interval.lower)
    _bounded(interval.upper)
    if interval.lower is not None and interval.upper is not None:
        assert interval.lower <= interval.upper
        if interval.estimate is not None:
            assert interval.lower <= interval.estimate + 1e-12
            assert interval.estimate <= interval.upper + 1e-12


def _evaluate(scores: np.ndarray, labels: np.ndarray):  # noqa: ANN202
    return evaluate_attack(scores, labels, settings=STATS, seed=11, stream="property")


@SETTINGS
@given(cases())
def test_every_figure_lies_in_its_range(case: tuple[np.ndarray, np.ndarray]) -> None:
    scores, labels = case
    metrics = _evaluate(scores, labels)
    assert metrics.n_members == int(labels.sum()) and metrics.n_non_members == int((~labels).sum())
    _interval(metrics.auc)
    _interval(metrics.advantage)
    for point in metrics.operating_points:
        _interval(point.tpr)
        _bounded(point.ppv)
        _bounded(point.min_detectable_tpr)
    if metrics.epsilon is not None:
        assert metrics.epsilon.epsilon_lower is None or (
            math.isfinite(metrics.epsilon.epsilon_lower) and metrics.epsilon.epsilon_lower >= 0
        )
        _bounded(metrics.epsilon.tpr_lower)
        _bounded(metrics.epsilon.fpr_upper)
    assert all(0.0 <= v <= 1.0 for v in [*metrics.roc.fpr, *metrics.roc.tpr])


def _without_auc_interval(dump: dict) -> dict:
    auc = {k: v for k, v in dump["auc"].items() if k not in ("lower", "upper")}
    return _nan_as_text({**dump, "auc": auc})


def _nan_as_text(value):  # noqa: ANN001, ANN202 - NaN != NaN would hide an equal pair
    if isinstance(value, dict):
        return {k: _nan_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_as_text(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


@SETTINGS
@given(cases(), st.integers(0, 2**32 - 1))
def test_figures_do_not_depend_on_record_order(case: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    scores, labels = case
    order = np.random.default_rng(seed).permutation(len(scores))
    first = _evaluate(scores, labels).model_dump(mode="json")
    second = _evaluate(scores[order], labels[order]).model_dump(mode="json")
    assert _without_auc_interval(first) == _without_auc_interval(second)


@SETTINGS
@given(cases(), st.integers(0, 2**32 - 1))
@example((np.array([1.0, 0.0, 0.0, 0.0]), np.array([False, True, False, False])), 0)  # found by the search
def test_auc_interval_does_not_depend_on_record_order(case: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    scores, labels = case
    order = np.random.default_rng(seed).permutation(len(scores))
    first = _evaluate(scores, labels).auc
    second = _evaluate(scores[order], labels[order]).auc
    assert (first.lower, first.upper) == (second.lower, second.upper)


@SETTINGS
@given(cases())
@example((np.array([1.7976931348623157e308, -1e300]), np.array([True, False])))  # found by the search
def test_the_histogram_counts_every_record_on_finite_edges(case: tuple[np.ndarray, np.ndarray]) -> None:
    scores, labels = case
    histogram = _evaluate(scores, labels).histogram
    assert histogram is not None
    assert all(math.isfinite(e) for e in histogram.edges)
    assert sum(histogram.members) == int(labels.sum())
    assert sum(histogram.non_members) == int((~labels).sum())

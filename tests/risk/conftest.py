"""Builders for headlines and risk inputs, with figures chosen so the expected ratings are known."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compliance_mia.assessment import EpsilonBound, Headline, Interval, OperatingPoint
from compliance_mia.resources import policies_dir
from compliance_mia.risk import RiskInputs, RiskMatrix, load_matrix


def _interval(
    estimate: float, lower: float, upper: float, *, method: str = "clopper-pearson"
) -> Interval:
    return Interval(estimate=estimate, lower=lower, upper=upper, confidence=0.95, method=method)


def _make_headline(
    *,
    auc: tuple[float, float, float] = (0.5, 0.47, 0.53),
    tpr_1pct: tuple[float, float, float] | None = (0.01, 0.002, 0.03),
    tpr_0_1pct: tuple[float, float, float] | None = None,
    tpr_10pct: tuple[float, float, float] | None = (0.1, 0.07, 0.13),
    epsilon: float | None = None,
    attack: str = "rmia-offline",
) -> Headline:
    """A headline; a TPR given as None is reported as not measurable at that FPR."""
    points = []
    for fpr, tpr in ((0.001, tpr_0_1pct), (0.01, tpr_1pct), (0.1, tpr_10pct)):
        if tpr is None:
            points.append(
                OperatingPoint(
                    fpr=fpr,
                    tpr=_interval(0.0, 0.0, 1.0),
                    measurable=False,
                    reason="too few non-members",
                    non_members_needed=int(10 / fpr),
                )
            )
        else:
            points.append(OperatingPoint(fpr=fpr, tpr=_interval(*tpr)))
    eps = (
        EpsilonBound(
            epsilon_lower=epsilon,
            delta=1e-4,
            confidence=0.95,
            thresholds_examined=50,
            correction="Bonferroni",
        )
        if epsilon is not None
        else None
    )
    return Headline(
        strongest_attack=attack,
        auc=_interval(*auc, method="bootstrap"),
        tpr_at_fpr=points,
        epsilon=eps,
        selection_correction="Bonferroni over 3 attacks",
    )


def _make_inputs(**overrides: object) -> RiskInputs:
    base: dict[str, object] = dict(
        categories=("ordinary_personal",),
        data_subjects=1_000,
        membership_reveals_condition=False,
        outputs="probabilities",
        access="authenticated",
        rounding=None,
        top_k=None,
        query_limited=False,
        monitored=False,
        headline=_make_headline(),
        label_only_headline=None,
    )
    base.update(overrides)
    return RiskInputs(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def matrix() -> RiskMatrix:
    return load_matrix()


@pytest.fixture(scope="session")
def shipped_matrix_text() -> str:
    return (policies_dir() / "risk_matrix.yaml").read_text(encoding="utf-8")


@pytest.fixture
def write_matrix(tmp_path: Path, shipped_matrix_text: str) -> Callable[[str, str], Path]:
    """Write the shipped matrix with one exact snippet replaced; fails if the snippet is absent."""

    def write(old: str, new: str) -> Path:
        assert old in shipped_matrix_text, f"snippet not in the shipped matrix: {old!r}"
        path = tmp_path / "matrix.yaml"
        path.write_text(shipped_matrix_text.replace(old, new, 1), encoding="utf-8")
        return path

    return write


def _line_of(path: Path, snippet: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if snippet in line:
            return number
    raise AssertionError(f"{snippet!r} not in {path}")


@pytest.fixture(scope="session")
def make_headline() -> Callable[..., Headline]:
    return _make_headline


@pytest.fixture(scope="session")
def make_inputs() -> Callable[..., RiskInputs]:
    return _make_inputs


@pytest.fixture(scope="session")
def line_of() -> Callable[[Path, str], int]:
    return _line_of

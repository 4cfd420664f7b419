"""Builders for attack outcomes, exposures and ratings used by the controls tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compliance_mia.assessment import (
    AttackMetrics,
    AttackOutcome,
    CurvePoints,
    ExposureSummary,
    Headline,
    Interval,
    OperatingPoint,
    RiskRating,
)
from compliance_mia.controls import Catalogue, load_catalogue
from compliance_mia.resources import policies_dir
from compliance_mia.risk import RiskInputs, load_matrix, rate


def _interval(estimate: float, lower: float, upper: float) -> Interval:
    return Interval(estimate=estimate, lower=lower, upper=upper, confidence=0.95, method="test")


def _outcome(name: str, auc: tuple[float, float, float], family: str = "threshold") -> AttackOutcome:
    """An attack outcome with the given AUC interval and TPR at 1% FPR not demonstrated."""
    return AttackOutcome(
        name=name,
        title=name.replace("-", " ").title(),
        family=family,
        summary="test",
        signal="test",
        metrics=AttackMetrics(
            n_members=2000,
            n_non_members=2000,
            auc=_interval(*auc),
            advantage=_interval(0.1, 0.05, 0.15),
            operating_points=[OperatingPoint(fpr=0.01, tpr=_interval(0.012, 0.008, 0.018))],
            roc=CurvePoints(fpr=[0.0, 1.0], tpr=[0.0, 1.0]),
        ),
    )


def _headline(outcome: AttackOutcome) -> Headline:
    return Headline(
        strongest_attack=outcome.name,
        auc=outcome.metrics.auc,
        tpr_at_fpr=list(outcome.metrics.operating_points),
        selection_correction="none",
    )


def _exposure(**overrides: object) -> ExposureSummary:
    base: dict[str, object] = dict(
        outputs="probabilities", access="public", description="a probability for every class"
    )
    base.update(overrides)
    return ExposureSummary(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def make_outcome() -> Callable[..., AttackOutcome]:
    return _outcome


@pytest.fixture(scope="session")
def make_headline() -> Callable[[AttackOutcome], Headline]:
    return _headline


@pytest.fixture(scope="session")
def make_exposure() -> Callable[..., ExposureSummary]:
    return _exposure


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def make_rating() -> Callable[..., RiskRating]:
    matrix = load_matrix()

    def build(
        headline: Headline | None, *, categories: tuple[str, ...] = ("health",), **exposure: object
    ) -> RiskRating:
        fields: dict[str, object] = dict(
            outputs="probabilities",
            access="public",
            rounding=None,
            top_k=None,
            query_limited=False,
            monitored=False,
        )
        fields.update(exposure)
        inputs = RiskInputs(
            categories=categories,
            data_subjects=5000,
            membership_reveals_condition=False,
            headline=headline,
            **fields,  # type: ignore[arg-type]
        )
        return rate(inputs, matrix=matrix, appetite="limited")

    return build


@pytest.fixture(scope="session")
def shipped_catalogue_text() -> str:
    return (policies_dir() / "controls.yaml").read_text(encoding="utf-8")


@pytest.fixture
def write_catalogue(tmp_path: Path, shipped_catalogue_text: str) -> Callable[[str, str], Path]:
    """Write the shipped catalogue with one exact snippet replaced (the snippet must exist)."""

    def write(old: str, new: str) -> Path:
        assert old in shipped_catalogue_text, f"snippet not in the shipped catalogue: {old!r}"
        path = tmp_path / "controls.yaml"
        path.write_text(shipped_catalogue_text.replace(old, new, 1), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def line_of() -> Callable[[Path, str], int]:
    def find(path: Path, snippet: str) -> int:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if snippet in line:
                return number
        raise AssertionError(f"{snippet!r} not in {path}")

    return find

"""Session fixtures for the attack tests (helpers live in attack_helpers.py, importable by name)."""

from __future__ import annotations

import pytest
from attack_helpers import (
    N_MEMBERS,
    N_NON_MEMBERS,
    N_POPULATION,
    SEED,
    Split,
    _frame,
    forest,
    record_set,
)
from sklearn.ensemble import RandomForestClassifier


@pytest.fixture(scope="session")
def split() -> Split:
    total = N_MEMBERS + N_NON_MEMBERS + N_POPULATION + N_MEMBERS
    X, y = _frame(total, SEED)
    a, b, c = N_MEMBERS, N_MEMBERS + N_NON_MEMBERS, N_MEMBERS + N_NON_MEMBERS + N_POPULATION
    return Split(
        members=record_set(X.iloc[:a], y[:a], "members", "m"),
        non_members=record_set(X.iloc[a:b], y[a:b], "non-members", "n"),
        population=record_set(X.iloc[b:c], y[b:c], "population", "p"),
        other=record_set(X.iloc[c:], y[c:], "other", "o"),
    )


@pytest.fixture(scope="session")
def overfit_model(split: Split) -> RandomForestClassifier:
    return forest().fit(split.members.X, split.members.y)


@pytest.fixture(scope="session")
def unseen_model(split: Split) -> RandomForestClassifier:
    """Same estimator, trained on records that are neither members nor non-members."""
    return forest().fit(split.other.X, split.other.y)

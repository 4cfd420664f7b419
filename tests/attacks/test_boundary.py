"""The decision-boundary attack: its line search against a brute-force scan on a tiny model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attack_helpers import SEED, auc_ci, make_context
from sklearn.linear_model import LogisticRegression

from compliance_mia.attacks._perturb import Perturber
from compliance_mia.attacks.boundary import (
    MAX_DISTANCE,
    BoundaryDistance,
    SearchPlan,
    boundary_distances,
    directions_for,
    search_plan,
)
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import AttacksSpec
from compliance_mia.seeding import rng
from compliance_mia.targets.base import RawOutputs


def _tiny():
    """A logistic regression on two continuous columns and one categorical column.

    Along any line its label changes at most once, so the first flip found by
    a dense scan is *the* flip the binary search must bracket.
    """
    gen = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": gen.normal(0, 2.0, 300),
            "b": gen.normal(5, 0.5, 300),
            "kind": gen.integers(0, 3, 300),  # few-valued: categorical, never moved
        }
    )
    y = (X["a"] + 4 * (X["b"] - 5) + 0.3 * gen.normal(size=300) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(X, y)
    return X, y, model


def _query(model, sent: list[pd.DataFrame]):
    def ask(X: pd.DataFrame, y_index: np.ndarray):
        sent.append(X.copy())
        proba = model.predict_proba(X)
        raw = RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))
        return Exposure(outputs="label").apply(raw, y_index)

    return ask


@pytest.mark.parametrize("kind", ["random", "features"])
def test_binary_search_matches_a_brute_force_scan(kind):
    X, y, model = _tiny()
    records = X.iloc[:40].reset_index(drop=True)
    labels = y[:40]
    perturber = Perturber.fit(X, noise=1.0)
    plan = SearchPlan(directions=4, steps=6)
    sent: list[pd.DataFrame] = []
    distances, queries = boundary_distances(
        records, labels, [_query(model, sent)], perturber=perturber, plan=plan, kind=kind, seed=SEED, stream="t"
    )
    assert distances.shape == (1, 40, 4)
    assert queries == 40 * (1 + plan.queries)  # the record itself, then (1 + steps) per direction
    repeated = records["kind"].iloc[np.repeat(np.arange(40), 4)].reset_index(drop=True)
    moved = [s for s in sent if len(s) == 40 * 4]
    assert len(moved) == 1 + plan.steps
    assert all(s["kind"].equals(repeated) for s in moved)  # the categorical column is never moved

    # brute force: the same directions (same stream), a scan of 4,001 points per line
    columns = ["a", "b"]
    spreads = np.array([perturber.spreads[c] for c in columns])
    dirs = directions_for(kind, 40, 4, 2, rng(SEED, "boundary", "t", 0))
    grid = np.linspace(0, MAX_DISTANCE, 4001)
    resolution = MAX_DISTANCE / 2**plan.steps
    own_right = model.predict(records) == labels
    for i in range(40):
        for j in range(4):
            if not own_right[i]:
                assert distances[0, i, j] == 0.0
                continue
            points = records.iloc[[i] * len(grid)].reset_index(drop=True)
            for c, column in enumerate(columns):
                points[column] = points[column].to_numpy() + grid * dirs[i, j, c] * spreads[c]
            flips = np.flatnonzero(model.predict(points) != labels[i])
            if len(flips) == 0:
                assert distances[0, i, j] == MAX_DISTANCE  # censored
            else:
                true = grid[flips[0]]
                # the search returns the upper end of its last bracket: within one resolution step
                assert true - 1e-3 <= distances[0, i, j] <= true + resolution + 1e-3, (i, j, true)


def test_search_plan_spends_the_budget_and_never_more():
    for budget in range(4, 200):
        plan = search_plan(budget, "random", 5)
        assert plan.queries <= budget and plan.directions >= 1
        assert 3 <= plan.steps <= 6
    assert search_plan(31, "random", 5) == SearchPlan(directions=4, steps=6)
    assert search_plan(31, "features", 1).directions == 2  # ±e_j for the one column
    with pytest.raises(ValueError, match="at least"):
        search_plan(3, "random", 5)


def test_attack_reports_its_budget_and_finds_leakage(overfit_model, split):
    settings = AttacksSpec(boundary_queries=16)
    ctx = make_context(overfit_model, split, settings=settings)
    before = ctx.extra["query_counter"]["n"]
    result = BoundaryDistance().run(ctx)
    sent = ctx.extra["query_counter"]["n"] - before
    n = len(split.audit)
    assert result.parameters["queries_per_record"] <= 16
    assert sent == result.queries == n * result.parameters["queries_per_record"]
    assert result.parameters["held_columns"] == 1  # the few-valued "group" column
    _, lower, _ = auc_ci(result.scores, split.is_member)
    assert lower > 0.5


def test_features_directions_move_one_column_at_a_time():
    dirs = directions_for("features", 3, 4, 5, np.random.default_rng(1))
    assert np.all((dirs != 0).sum(axis=2) == 1)
    assert np.all(np.abs(dirs).sum(axis=2) == 1)
    rand = directions_for("random", 3, 4, 5, np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.norm(rand, axis=2), 1.0)

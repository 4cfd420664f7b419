"""QMIA: fitted on population records only, never scores a record it was fitted on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from attack_helpers import Split, make_context, record_set

from compliance_mia.attacks.qmia import (
    ALPHA,
    MIN_SPREAD,
    OverlapError,
    QuantileRegression,
    check_disjoint,
    encode_features,
    quantile_scores,
)
from compliance_mia.data import RecordSet


def test_refuses_to_score_records_its_regressor_is_fitted_on(overfit_model, split):
    """A population that contains audit records (same ids): the attack must refuse."""
    leaky = Split(
        members=split.members,
        non_members=split.non_members,
        population=RecordSet.concat([split.population, split.non_members], role="population"),
        other=split.other,
    )
    ctx = make_context(overfit_model, leaky)
    with pytest.raises(OverlapError, match="scored records are among"):
        QuantileRegression().run(ctx)


def test_refuses_when_population_ids_are_unknown(overfit_model, split):
    ctx = make_context(overfit_model, split)
    ctx.population_ids = None
    with pytest.raises(OverlapError, match="ids are unknown"):
        QuantileRegression().run(ctx)


def test_disjointness_check_compares_ids_as_strings():
    check_disjoint(np.array(["p1", "p2"]), np.array(["a1", "a2"]))
    with pytest.raises(OverlapError):
        check_disjoint(np.array([1, 2, 3]), np.array(["3", "4"]))


def test_score_formula_against_brute_force():
    gen = np.random.default_rng(0)
    phi, median = gen.normal(size=50), gen.normal(size=50)
    upper = median + np.abs(gen.normal(size=50))
    upper[:5] = median[:5]  # zero spread: floored, no division by zero
    expected = [
        (p - m) / max(u - m, MIN_SPREAD) for p, m, u in zip(phi, median, upper, strict=True)
    ]
    np.testing.assert_allclose(quantile_scores(phi, median, upper), expected)


def test_categories_are_learned_from_the_fitting_records_only():
    fit = pd.DataFrame({"a": [1.0, 2.0], "c": ["x", "y"]})
    other = pd.DataFrame({"a": [3.0], "c": ["z"]})  # a category the population never had
    fit_m, other_m = encode_features(fit, np.array([0, 1]), other, np.array([1]), 2)
    np.testing.assert_array_equal(fit_m, [[1, 0, 1, 0], [2, 1, 0, 1]])
    assert other_m[0, 0] == 3 and np.isnan(other_m[0, 1]) and list(other_m[0, 2:]) == [0, 1]


def test_upper_quantile_holds_on_records_the_target_never_saw(unseen_model, split):
    """For a model that never saw the audit records, they are all non-members: about a share
    ALPHA of them should exceed the predicted (1 − ALPHA) quantile (score > 1).
    """
    ctx = make_context(unseen_model, split)
    scores = QuantileRegression().run(ctx).scores
    exceed = float((scores > 1.0).mean())
    assert exceed <= 3 * ALPHA, exceed


def test_finds_members_of_an_overfit_model(overfit_model, split):
    ctx = make_context(overfit_model, split)
    result = QuantileRegression().run(ctx)
    assert "population" in result.parameters["attack_training_records"]
    assert result.reference_models == 0 and result.reference_mode is None
    member_exceed = float((result.scores[split.is_member] > 1.0).mean())
    non_member_exceed = float((result.scores[~split.is_member] > 1.0).mean())
    assert member_exceed > non_member_exceed + 0.1, (member_exceed, non_member_exceed)


def test_record_set_helper_ids_differ_between_roles(split):
    # the disjointness check relies on ids: the test split must give every role its own ids
    assert not set(split.population.ids) & set(split.audit.ids)
    assert record_set(split.members.X, split.members.y, "m", "q").ids[0] == "q00000"

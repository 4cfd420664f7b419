"""RMIA: the sorted pairwise score equals the brute-force definition; power at low FPR."""

from __future__ import annotations

import numpy as np
from attack_helpers import make_context, tpr_at_fpr

from compliance_mia.attacks.rmia import (
    A_GRID,
    DEFAULT_A,
    RmiaOffline,
    RmiaOnline,
    dominance_scores,
    offline_prior,
    tune_offline_a,
)
from compliance_mia.attacks.threshold import LossThreshold
from compliance_mia.exposure import Exposure


def test_dominance_matches_the_brute_force_pairwise_definition():
    gen = np.random.default_rng(3)
    ratio_x = np.exp(gen.normal(0, 1, 300))
    ratio_z = np.exp(gen.normal(0, 1, 500))
    ratio_x[:20] = ratio_z[:20]  # exact equalities: "> gamma" is strict
    for gamma in (1.0, 2.0):
        brute = (ratio_x[:, None] / ratio_z[None, :] > gamma).mean(axis=1)
        fast = dominance_scores(ratio_x, ratio_z, gamma=gamma)
        # same share of dominated population points (the tie-break adds less than 1/m)
        np.testing.assert_array_equal(
            np.floor(fast * len(ratio_z) + 1e-9), np.round(brute * len(ratio_z))
        )
        # and the same order as the brute force wherever that one has no tie
        order_fast = np.argsort(fast, kind="stable")
        assert np.all(np.diff(brute[order_fast]) >= 0)


def test_ties_are_broken_by_the_ratio_itself():
    ratio_z = np.array([1.0, 2.0, 3.0])
    scores = dominance_scores(np.array([10.0, 20.0, 30.0]), ratio_z)
    assert scores[0] < scores[1] < scores[2] < 1.0 + 1.0 / 3


def test_offline_prior_formula():
    mean_out = np.array([0.2, 0.9])
    np.testing.assert_allclose(offline_prior(mean_out, 1.0), mean_out)
    np.testing.assert_allclose(offline_prior(mean_out, 0.0), (mean_out + 1) / 2)


def test_a_is_tuned_on_reference_models_only(overfit_model, split):
    ctx = make_context(overfit_model, split)
    refs = ctx.references("offline")
    a, auc, how = tune_offline_a(refs, ctx.population_y_index)
    assert a in A_GRID and auc is not None and auc > 0.5 and "tuned" in how
    two = make_context(overfit_model, split, count=2).references("offline")
    a2, auc2, how2 = tune_offline_a(two, ctx.population_y_index)
    assert (a2, auc2) == (DEFAULT_A, None) and "default" in how2
    result = RmiaOffline().run(ctx)
    assert result.parameters["a"] == a
    assert "population" in result.parameters["attack_training_records"]


def test_rmia_beats_the_loss_threshold_at_low_fpr(overfit_model, split):
    ctx = make_context(overfit_model, split)
    loss = tpr_at_fpr(LossThreshold().run(ctx).scores, split.is_member, 0.01)
    offline = tpr_at_fpr(RmiaOffline().run(ctx).scores, split.is_member, 0.01)
    online = tpr_at_fpr(RmiaOnline().run(ctx).scores, split.is_member, 0.01)
    assert offline > loss + 0.05, (offline, loss)
    assert online > loss + 0.05, (online, loss)


def test_rmia_uses_only_the_exposed_rounded_outputs(overfit_model, split):
    exposure = Exposure(outputs="probabilities", rounding=1)
    ctx = make_context(overfit_model, split, exposure=exposure)
    refs = ctx.references("offline")
    raw = ctx.extra["reference_cache"]["offline"]  # the trained set, which attacks never see
    for k in range(refs.count):  # the reference models are seen through the same rounding
        shown = refs.audit_outputs(k).scores
        np.testing.assert_array_equal(shown, np.round(raw.audit_raw[k], 1))
    assert not hasattr(refs, "audit_raw") and not hasattr(refs, "models")
    scores = RmiaOffline().run(ctx).scores
    assert np.isfinite(scores).all()

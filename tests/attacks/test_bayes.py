"""BASE (offline): the vectorised score equals a record-by-record brute force of the formula."""

from __future__ import annotations

import math

import numpy as np
from attack_helpers import make_context, tpr_at_fpr

from compliance_mia.attacks._signals import reference_matrix, resolution_clip, true_probability
from compliance_mia.attacks.bayes import C_GRID, DEFAULT_C, BaseOffline, base_scores, tune_c
from compliance_mia.attacks.threshold import LossThreshold


def _brute(p_target, p_refs, c, floor, prior):
    """Log posterior odds record by record: log p − c·log(mean_k p_k) + log(π/(1−π)),
    with the mean computed as a log-sum-exp of the references' log-confidences.
    """
    out = []
    for i in range(len(p_target)):
        logs = [math.log(max(p_refs[k][i], 1e-300)) for k in range(len(p_refs))]
        top = max(logs)
        log_mean = top + math.log(sum(math.exp(v - top) for v in logs)) - math.log(len(logs))
        log_mean = max(log_mean, math.log(floor))
        out.append(math.log(max(p_target[i], floor)) - c * log_mean + math.log(prior / (1 - prior)))
    return np.array(out)


def test_score_matches_brute_force_on_tiny_data():
    gen = np.random.default_rng(5)
    p_target = gen.uniform(0.01, 1.0, 7)
    p_refs = gen.uniform(0.01, 1.0, (3, 7))
    for c in (0.3, 0.7, 1.0):
        for prior in (0.5, 0.2):
            np.testing.assert_allclose(
                base_scores(p_target, p_refs, c, floor=1e-7, prior=prior),
                _brute(p_target, p_refs, c, 1e-7, prior),
                rtol=1e-12,
            )


def test_exact_zeros_are_floored_not_infinite():
    p_target = np.array([0.0, 1.0, 0.5])
    p_refs = np.array([[0.0, 0.0, 0.5], [0.0, 1.0, 0.5]])
    scores = base_scores(p_target, p_refs, 0.7, floor=0.005)
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(scores, _brute(p_target, p_refs, 0.7, 0.005, 0.5))


def test_online_c_one_ranks_like_rmia_log_ratio():
    """With c = 1 BASE is log p − log mean p: RMIA's log ratio (the paper's equivalence)."""
    gen = np.random.default_rng(1)
    p_target, p_refs = gen.uniform(0.05, 1, 40), gen.uniform(0.05, 1, (4, 40))
    np.testing.assert_allclose(
        base_scores(p_target, p_refs, 1.0, floor=1e-7), np.log(p_target / p_refs.mean(axis=0))
    )


def test_c_is_tuned_on_reference_models_and_the_run_uses_it(overfit_model, split):
    ctx = make_context(overfit_model, split)
    refs = ctx.references("offline")
    p_target = true_probability(ctx.target, ctx.y_index)
    p_refs = reference_matrix(refs, ctx.y_index, true_probability)
    floor = resolution_clip([p_target, p_refs])
    c, auc, how = tune_c(refs, ctx.population_y_index, floor)
    assert c in C_GRID and auc is not None and auc > 0.5 and "tuned" in how
    result = BaseOffline().run(ctx)
    assert result.parameters["c"] == c
    np.testing.assert_allclose(result.scores, base_scores(p_target, p_refs, c, floor=floor))
    two = make_context(overfit_model, split, count=2)
    assert BaseOffline().run(two).parameters["c"] == DEFAULT_C


def test_base_beats_the_loss_threshold_at_low_fpr(overfit_model, split):
    ctx = make_context(overfit_model, split)
    loss = tpr_at_fpr(LossThreshold().run(ctx).scores, split.is_member, 0.01)
    base = tpr_at_fpr(BaseOffline().run(ctx).scores, split.is_member, 0.01)
    assert base > loss + 0.05, (base, loss)

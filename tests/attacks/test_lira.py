"""LiRA: numerically safe on exact 0/1 tree outputs, both variances, and power at low FPR."""

from __future__ import annotations

import numpy as np
from attack_helpers import make_context, tpr_at_fpr

from compliance_mia.attacks._signals import MIN_STD, PROB_CLIP, logit_confidence, resolution_clip
from compliance_mia.attacks.lira import LiraOffline, LiraOnline, fit_gaussians, offline_scores
from compliance_mia.attacks.threshold import LossThreshold
from compliance_mia.exposure import Exposure, Outputs


def _outputs(proba) -> Outputs:
    proba = np.asarray(proba, dtype=float)
    return Outputs(
        exposure=Exposure("probabilities"),
        n_classes=proba.shape[1],
        labels=proba.argmax(1),
        scores=proba,
    )


def test_logit_confidence_is_finite_and_exact_at_zero_and_one():
    out = _outputs([[0.0, 1.0], [1.0, 0.0], [0.3, 0.7], [1 - 1e-12, 1e-12]])
    y = np.array([1, 1, 1, 0])
    phi = logit_confidence(out, y)
    assert np.isfinite(phi).all()
    bound = np.log(1 / PROB_CLIP)
    np.testing.assert_allclose(phi[:2], [bound, -bound])
    np.testing.assert_allclose(phi[2], np.log(0.7 / 0.3))
    # p(other) = 1e-12 is computed from the other classes, not as 1 − p (no cancellation)
    np.testing.assert_allclose(phi[3], bound)


def test_logit_confidence_from_a_loss_exposure():
    loss = Outputs(exposure=Exposure("loss"), n_classes=2, loss=np.array([1e-9, np.log(2), 30.0]))
    phi = logit_confidence(loss, np.zeros(3, dtype=int))
    np.testing.assert_allclose(phi[1], 0.0, atol=1e-12)
    assert phi[0] > 16 and phi[2] < -16 and np.isfinite(phi).all()


def test_resolution_clip_matches_tree_vote_resolution():
    votes = [np.array([0.0, 0.04, 0.96, 1.0]), np.array([0.08, 1.0])]
    assert resolution_clip(votes) == 0.02
    assert resolution_clip([np.array([1e-12, 0.5])]) == PROB_CLIP
    assert resolution_clip([np.array([0.0, 1.0])]) == 0.05


def test_fitted_variances_are_floored_and_pooled():
    values = np.array([[1.0, 2.0, 5.0], [1.0, 4.0, 5.0]])  # record 0 and 2: zero spread
    mask = np.ones_like(values, dtype=bool)
    mean, std = fit_gaussians(values, mask, variance="per-record")
    np.testing.assert_allclose(mean, [1.0, 3.0, 5.0])
    np.testing.assert_allclose(std, [MIN_STD, 1.0, MIN_STD])
    _, pooled = fit_gaussians(values, mask, variance="fixed")
    np.testing.assert_allclose(pooled, np.sqrt(1 / 3))
    # one-sided offline score: no saturation far above the OUT distribution
    scores = offline_scores(np.array([0.0, 50.0, 60.0]), np.zeros(3), np.ones(3))
    assert scores[0] < scores[1] < scores[2] and np.isfinite(scores).all()


def test_lira_beats_the_loss_threshold_at_low_fpr(overfit_model, split):
    ctx = make_context(overfit_model, split)
    loss = tpr_at_fpr(LossThreshold().run(ctx).scores, split.is_member, 0.01)
    offline = LiraOffline().run(ctx)
    online = LiraOnline().run(ctx)
    assert tpr_at_fpr(offline.scores, split.is_member, 0.01) > loss + 0.05
    assert tpr_at_fpr(online.scores, split.is_member, 0.01) > loss + 0.05
    # a 25-tree forest votes in steps of 0.04: the clip sits half a step beyond
    assert offline.parameters["probability_clip"] == 0.02
    assert online.parameters["models_per_hypothesis"] == 2
    assert offline.parameters["variance"] == online.parameters["variance"] == "fixed"

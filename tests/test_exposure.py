"""The exposure transform: attacks see exactly what the deployed model returns, nothing more."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.exposure import Exposure, Signal
from compliance_mia.targets.base import RawOutputs

PROBA = np.array([[0.7, 0.2, 0.1], [0.05, 0.15, 0.8], [1.0, 0.0, 0.0]])
Y = np.array([0, 1, 0])
RAW = RawOutputs(probabilities=PROBA, labels=PROBA.argmax(axis=1))


def test_label_only_reveals_nothing_but_labels() -> None:
    out = Exposure("label").apply(RAW, Y)
    assert out.scores is None and out.loss is None
    assert out.predicted_label().tolist() == [0, 2, 0]
    assert out.correct(Y).tolist() == [True, False, True]
    with pytest.raises(PermissionError):
        out.true_class_score(Y)
    with pytest.raises(PermissionError):
        out.score_vector()
    assert Exposure("label").signals(3) == {Signal.LABEL, Signal.ARBITRARY_QUERIES}


def test_rounding_is_applied_before_any_attack_sees_scores() -> None:
    out = Exposure("probabilities", rounding=1).apply(RawOutputs(probabilities=np.array([[0.74, 0.26]])), None)
    assert out.scores.tolist() == [[0.7, 0.3]]


def test_top_k_hides_other_classes_and_fills_them_with_the_attackers_best_guess() -> None:
    out = Exposure("top_k", top_k=1).apply(RAW, Y)
    assert np.isnan(out.scores[0, 1]) and np.isnan(out.scores[0, 2])
    filled = out.score_vector()
    assert filled[0].tolist() == pytest.approx([0.7, 0.15, 0.15])
    # the true class of record 1 was not returned: the attacker only knows it is below 0.8
    assert out.true_class_score(Y)[1] == pytest.approx(0.1)
    assert np.allclose(filled.sum(axis=1), 1.0)


def test_loss_exposure_is_finite_for_zero_probability_and_binary_reveals_correctness() -> None:
    out = Exposure("loss").apply(RawOutputs(probabilities=np.array([[1.0, 0.0], [0.3, 0.7]])), np.array([1, 1]))
    assert np.isfinite(out.loss).all()
    assert out.correct(np.array([1, 1])).tolist() == [False, True]
    assert Signal.LABEL not in Exposure("loss").signals(3)
    assert Signal.LABEL in Exposure("loss").signals(2)


def test_noise_is_seeded_and_keeps_a_probability_vector() -> None:
    a = Exposure("probabilities", noise_scale=0.1, noise_seed=3).apply(RAW)
    b = Exposure("probabilities", noise_scale=0.1, noise_seed=3).apply(RAW)
    assert np.array_equal(a.scores, b.scores)
    assert not np.allclose(a.scores, PROBA)
    assert np.allclose(a.scores.sum(axis=1), 1.0) and (a.scores >= 0).all()


def test_label_only_target_cannot_serve_a_probability_exposure() -> None:
    with pytest.raises(ValueError, match="needs probabilities"):
        Exposure("probabilities").apply(RawOutputs(labels=np.array([0, 1])))


def test_predictions_file_targets_offer_no_arbitrary_queries() -> None:
    assert Signal.ARBITRARY_QUERIES not in Exposure("probabilities").signals(2, arbitrary_queries=False)


def test_a_target_that_only_reports_losses_serves_the_loss_exposure() -> None:
    out = Exposure("loss").apply(RawOutputs(loss=np.array([0.1, 2.0])), None, n_classes=2)
    assert out.loss.tolist() == [0.1, 2.0]
    assert out.true_class_score(np.array([0, 0])) == pytest.approx(np.exp([-0.1, -2.0]))
    assert out.correct(np.array([0, 0])).tolist() == [True, False]

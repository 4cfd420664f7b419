"""Invariance and power checks over every registered attack.

Every attack, whatever its family, must score each audit record exactly
once, never produce NaN, give the same scores twice, find clear leakage in a
deliberately overfit forest, and find none (AUC 0.5 within its interval) in
a forest that never saw the "members". And no attack may see more than the
policy exposes, from the target or from its own reference models: changing
what an exposure hides (in the raw outputs of both) must not change a score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from attack_helpers import SEED, auc_ci, build_context, make_context

from compliance_mia.attacks import registry
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import AttacksSpec, ReferenceModelsSpec
from compliance_mia.reference import ReferenceSet
from compliance_mia.targets.base import RawOutputs

ATTACKS = sorted(registry())


@pytest.fixture(scope="module")
def overfit_ctx(overfit_model, split):
    return make_context(overfit_model, split)


@pytest.fixture(scope="module")
def unseen_ctx(unseen_model, split):
    return make_context(unseen_model, split)


def test_registry_is_complete():
    expected = {
        "gap",
        "label-robustness",
        "label-robustness-calibrated",
        "loss",
        "confidence",
        "entropy",
        "modified-entropy",
        "calibrated-loss",
        "shadow",
        "lira-offline",
        "lira-online",
        "rmia-offline",
        "rmia-online",
        "boundary-distance",
        "bavaria-offline",
        "bavaria-online",
        "bavaria-rmia-online",
    }
    assert expected <= set(ATTACKS)
    for name, cls in registry().items():
        spec = cls.spec
        assert spec.name == name and spec.title and spec.summary and spec.citation
        assert spec.requires, f"{name} declares no needed signal"
        assert spec.cost in ("low", "medium", "high")


@pytest.mark.parametrize("name", ATTACKS)
def test_scores_shape_finite_and_deterministic(name, overfit_ctx, split):
    attack = registry()[name]()
    first = attack.run(overfit_ctx)
    second = attack.run(overfit_ctx)
    assert first.scores.shape == (len(split.audit),)
    assert np.isfinite(first.scores).all()
    np.testing.assert_array_equal(first.scores, second.scores)
    # say which records trained the attack and which were scored (never the same)
    assert first.parameters.get("scored_records", "").startswith("audit records")
    assert "attack_training_records" in first.parameters
    if attack.spec.needs_reference_models:
        assert first.reference_mode == attack.spec.reference_mode
        assert first.reference_models == 4


@pytest.mark.parametrize("name", ATTACKS)
def test_overfit_model_leaks_to_every_attack(name, overfit_ctx, split):
    result = registry()[name]().run(overfit_ctx)
    auc, lower, _ = auc_ci(result.scores, split.is_member)
    assert lower > 0.5, f"{name}: AUC {auc:.3f}, interval lower bound {lower:.3f}"
    assert auc > 0.58, f"{name}: AUC {auc:.3f}"


@pytest.mark.parametrize("name", ATTACKS)
def test_model_that_never_saw_members_shows_no_leakage(name, unseen_ctx, split):
    result = registry()[name]().run(unseen_ctx)
    auc, lower, upper = auc_ci(result.scores, split.is_member, confidence=0.99)
    assert lower <= 0.5 <= upper, f"{name}: AUC {auc:.3f} [{lower:.3f}, {upper:.3f}]"


def test_same_seed_same_scores_in_a_fresh_context(overfit_model, split, overfit_ctx):
    fresh = make_context(overfit_model, split)
    for name in ("rmia-offline", "lira-online", "label-robustness-calibrated", "shadow"):
        attack = registry()[name]()
        np.testing.assert_array_equal(attack.run(fresh).scores, attack.run(overfit_ctx).scores)


def test_another_seed_changes_reference_based_scores(overfit_model, split, overfit_ctx):
    other = make_context(overfit_model, split, seed=SEED + 1)
    attack = registry()["rmia-offline"]()
    assert not np.array_equal(attack.run(other).scores, attack.run(overfit_ctx).scores)


def test_lira_variance_setting_is_honoured(overfit_model, split):
    for setting in ("fixed", "per-record"):
        settings = AttacksSpec(lira_variance=setting, reference_models=ReferenceModelsSpec(count=4))
        ctx = make_context(overfit_model, split, settings=settings)
        for name in ("lira-offline", "lira-online"):
            result = registry()[name]().run(ctx)
            assert result.parameters["variance"] == setting
            assert np.isfinite(result.scores).all()


def test_scores_identical_whichever_backend_trained_the_references(
    overfit_model, split, overfit_ctx
):
    names = [n for n, cls in registry().items() if cls.spec.needs_reference_models]
    for backend in ("threading", "dask"):
        other = make_context(overfit_model, split, backend=backend)
        for name in names:
            attack = registry()[name]()
            np.testing.assert_array_equal(attack.run(other).scores, attack.run(overfit_ctx).scores)


# ------------------------------------------------ nothing beyond the exposure
Perturb = Callable[[np.ndarray], np.ndarray]


def _generator(proba: np.ndarray) -> np.random.Generator:
    """Noise that differs between batches but is the same for the same batch (deterministic runs)."""
    return np.random.default_rng([SEED, len(proba), int(proba.sum() * 1e6) % (2**32)])


def _keep_argmax(proba: np.ndarray) -> np.ndarray:
    """Entirely new probabilities with the same (strict) argmax: what a label-only API hides."""
    rows = np.arange(len(proba))
    top = proba.argmax(axis=1)
    new = _generator(proba).dirichlet(np.ones(proba.shape[1]), size=len(proba))
    new[rows, top] += 1.0
    return new / new.sum(axis=1, keepdims=True)


def _below_rounding(proba: np.ndarray) -> np.ndarray:
    """Every probability moved by up to 0.045 within its rounding interval (1 decimal), argmax kept."""
    rows = np.arange(len(proba))
    top = proba.argmax(axis=1)
    rounded = np.round(proba, 1)
    shift = _generator(proba).uniform(0.005, 0.04, size=proba.shape)
    new = rounded - shift
    new[rows, top] = rounded[rows, top] + shift[rows, top]
    return np.clip(new, 0.0, 1.0)


def _keep_top1(proba: np.ndarray) -> np.ndarray:
    """The top class and its probability kept exactly; every other probability scaled down."""
    rows = np.arange(len(proba))
    top = proba.argmax(axis=1)
    new = proba * _generator(proba).uniform(0.3, 0.9, size=proba.shape)
    new[rows, top] = proba[rows, top]
    return new


HIDDEN: dict[str, tuple[Exposure, Perturb]] = {
    "label only": (Exposure(outputs="label"), _keep_argmax),
    "probabilities rounded to 1 decimal": (
        Exposure(outputs="probabilities", rounding=1),
        _below_rounding,
    ),
    "top-1": (Exposure(outputs="top_k", top_k=1), _keep_top1),
}


def _raw(proba: np.ndarray) -> RawOutputs:
    return RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))


class _PerturbedModel:
    """A fitted reference model whose every answer is perturbed (for queries on new inputs)."""

    def __init__(self, model, perturb: Perturb) -> None:
        self.model, self.perturb, self.classes_ = model, perturb, model.classes_

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.perturb(self.model.predict_proba(X))


def _perturbed_references(perturb: Perturb) -> Callable[[ReferenceSet], ReferenceSet]:
    def adjust(refs: ReferenceSet) -> ReferenceSet:
        return replace(
            refs,
            audit_raw=np.stack([perturb(p) for p in refs.audit_raw]),
            population_raw=np.stack([perturb(p) for p in refs.population_raw]),
            models=[_PerturbedModel(m, perturb) for m in refs.models],
        )

    return adjust


@pytest.fixture(scope="module")
def trained_references() -> dict[str, ReferenceSet]:
    """Reference sets trained once for every exposure (the exposure never changes training)."""
    return {}


def _exposure_cases() -> list[tuple[str, str]]:
    cases = []
    for label, (exposure, _) in HIDDEN.items():
        signals = exposure.signals(2, arbitrary_queries=True)
        cases += [(label, n) for n, cls in sorted(registry().items()) if cls().can_run(signals)[0]]
    return cases


@pytest.mark.parametrize(("exposure_name", "name"), _exposure_cases())
def test_no_attack_sees_more_than_the_exposure(
    exposure_name, name, overfit_model, split, trained_references
):
    """Perturb what the exposure hides in the RAW outputs of the target and of the reference
    models (on the audit and population records and on new queries): scores must not move.
    An attack (or a context) that read raw outputs anywhere would see the perturbation.
    """
    exposure, perturb = HIDDEN[exposure_name]
    probe = overfit_model.predict_proba(split.audit.X)
    # the perturbation itself is invisible through the exposure...
    shown, hidden = exposure.apply(_raw(probe)), exposure.apply(_raw(perturb(probe)))
    for field in ("labels", "scores"):
        a, b = getattr(shown, field), getattr(hidden, field)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert not np.allclose(probe, perturb(probe))  # ...but real

    def context(raw, adjust=None):
        return build_context(
            overfit_model,
            split,
            raw=raw,
            exposure=exposure,
            adjust_references=adjust,
            reference_cache=trained_references,
        )

    clean = context(lambda X: _raw(overfit_model.predict_proba(X)))
    perturbed = context(
        lambda X: _raw(perturb(overfit_model.predict_proba(X))), _perturbed_references(perturb)
    )
    attack = registry()[name]()
    np.testing.assert_array_equal(
        attack.run(perturbed).scores,
        attack.run(clean).scores,
        err_msg=f"{name} sees more than '{exposure_name}' reveals",
    )

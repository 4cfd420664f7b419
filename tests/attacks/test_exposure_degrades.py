"""Attacks use only what the exposure reveals, and reference models are seen through it too."""

from __future__ import annotations

import numpy as np
import pandas as pd
from attack_helpers import SEED, make_context, record_set
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from compliance_mia.attacks import registry
from compliance_mia.attacks.shadow import ShadowModelAttack
from compliance_mia.attacks.threshold import ConfidenceThreshold, EntropyThreshold
from compliance_mia.exposure import Exposure


class _Split:
    def __init__(self, n_members=200, n_non=200, n_pop=500):
        X, y = make_classification(
            n_samples=n_members + n_non + n_pop,
            n_features=6,
            n_informative=4,
            n_classes=3,
            flip_y=0.1,
            random_state=SEED,
        )
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
        labels = np.array(["a", "b", "c"], dtype=object)[y]
        a, b = n_members, n_members + n_non
        self.members = record_set(frame.iloc[:a], labels[:a], "members", "m")
        self.non_members = record_set(frame.iloc[a:b], labels[a:b], "non-members", "n")
        self.population = record_set(frame.iloc[b:], labels[b:], "population", "p")
        self.audit = record_set(frame.iloc[:b], labels[:b], "audit", "a")
        self.is_member = np.r_[np.ones(a, bool), np.zeros(n_non, bool)]


def test_top1_rounded_exposure_hides_the_rest_of_the_vector():
    split = _Split()
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(
        split.members.X, split.members.y
    )
    exposure = Exposure(outputs="top_k", top_k=1, rounding=1)
    ctx = make_context(model, split, exposure=exposure)
    raw = model.predict_proba(split.audit.X)
    shown = np.round(raw.max(axis=1), 1)
    # the attacker's view of the true class: the rounded top score, or the share of what is left
    confidence = ConfidenceThreshold().run(ctx).scores
    top = raw.argmax(axis=1)
    y = ctx.y_index
    np.testing.assert_allclose(confidence[top == y], shown[top == y])
    np.testing.assert_allclose(confidence[top != y], (1 - shown[top != y]) / 2)
    # every attack the exposure allows runs on it; reference models pass through the same transform
    signals = ctx.signals
    for name, cls in sorted(registry().items()):
        attack = cls()
        if attack.can_run(signals)[0]:
            assert np.isfinite(attack.run(ctx).scores).all(), name
    refs = ctx.references("offline")
    assert np.isnan(refs.audit_outputs(0).scores).sum(axis=1).tolist() == [2] * len(y)
    # the entropy attack reads the filled vector: two records with the same top score tie
    entropy = EntropyThreshold().run(ctx).scores
    same = shown == shown[0]
    assert np.allclose(entropy[same], entropy[same][0])


def test_shadow_attack_reads_only_the_true_class_score_under_a_multiclass_loss_exposure():
    split = _Split()
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(
        split.members.X, split.members.y
    )
    ctx = make_context(model, split, exposure=Exposure(outputs="loss"))
    assert ctx.target.scores is None and ctx.target.labels is None
    result = ShadowModelAttack().run(ctx)
    assert result.parameters["features"] == "p(y|x), loss"
    assert "population" in result.parameters["attack_training_records"]
    full = ShadowModelAttack().run(make_context(model, split))
    assert full.parameters["features"] == "score vector, p(y|x), loss"
    assert np.isfinite(result.scores).all()

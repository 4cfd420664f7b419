"""Label-only attacks: perturbations, query counting, and running on labels alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from attack_helpers import auc_ci, make_context

from compliance_mia.attacks._perturb import Perturber
from compliance_mia.attacks.label_only import CalibratedLabelRobustness, GapAttack, LabelRobustness
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import AttacksSpec
from compliance_mia.seeding import rng


def _frame(n: int = 400) -> pd.DataFrame:
    gen = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "income": gen.normal(50, 10, n),
            "age": gen.integers(18, 90, n),
            "children": gen.integers(0, 3, n),  # few values: treated as categorical
            "region": pd.Series(gen.choice(["n", "s", "e"], n), dtype="string"),
            "flag": gen.random(n) > 0.5,
        }
    )


def test_perturber_column_kinds_and_dtypes():
    frame = _frame()
    perturber = Perturber.fit(frame, noise=0.1)
    assert set(perturber.spreads) == {"income", "age"}
    assert set(perturber.levels) == {"children", "region", "flag"}
    assert perturber.integer == {"age"}
    noisy = perturber.perturb(frame.iloc[:50], 8, rng(1, "test"))
    assert len(noisy) == 400
    assert list(noisy.dtypes) == list(frame.dtypes)
    # copies of record 0 are rows 0..7; continuous noise is small relative to the spread
    assert np.abs(noisy["income"].iloc[:8] - frame["income"].iloc[0]).max() < 5 * 0.1 * 10
    assert set(noisy["region"].unique()) <= {"n", "s", "e"}
    assert set(noisy["children"].unique()) <= {0, 1, 2}
    flipped = (
        noisy["region"].to_numpy() != np.repeat(frame["region"].iloc[:50].to_numpy(), 8)
    ).mean()
    assert 0 < flipped < 0.2


def test_perturbations_are_seeded():
    frame = _frame()
    perturber = Perturber.fit(frame, noise=0.05)
    a = perturber.perturb(frame.iloc[:20], 4, rng(5, "x"))
    b = perturber.perturb(frame.iloc[:20], 4, rng(5, "x"))
    c = perturber.perturb(frame.iloc[:20], 4, rng(6, "x"))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_label_only_attacks_run_on_labels_alone_and_count_queries(overfit_model, split):
    exposure = Exposure(outputs="label")
    settings = AttacksSpec(label_only_queries=6)
    ctx = make_context(overfit_model, split, exposure=exposure, settings=settings)
    assert ctx.target.scores is None  # nothing but labels is exposed
    counter = ctx.extra["query_counter"]
    result = LabelRobustness().run(ctx)
    n_audit = len(split.audit)
    assert result.queries == counter["n"] == n_audit * 6 + min(500, len(split.population)) * 6
    calibrated = CalibratedLabelRobustness().run(ctx)
    assert calibrated.queries == n_audit * 6
    for res in (result, calibrated, GapAttack().run(ctx)):
        auc, lower, _ = auc_ci(res.scores, split.is_member)
        assert lower > 0.5, auc
    # robustness refines the gap attack: more distinct scores than correct/incorrect
    assert len(np.unique(calibrated.scores)) > 2


def test_label_only_through_a_binary_loss_exposure(overfit_model, split):
    ctx = make_context(
        overfit_model,
        split,
        exposure=Exposure(outputs="loss"),
        settings=AttacksSpec(label_only_queries=4),
    )
    assert ctx.target.labels is None
    gap = GapAttack().run(ctx).scores
    np.testing.assert_array_equal(
        gap, (overfit_model.predict(split.audit.X) == split.audit.y).astype(float)
    )
    assert np.isfinite(LabelRobustness().run(ctx).scores).all()

"""Threshold attacks on a single exposed signal (Yeom et al. 2018; Song & Mittal 2021).

The model is usually more confident, and has lower loss, on records it was
trained on. These attacks need no reference models: they rank records by one
signal. They are the baseline every stronger attack must beat.
"""

from __future__ import annotations

import numpy as np

from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal


@register
class LossThreshold(Attack):
    spec = AttackSpec(
        name="loss",
        title="Loss threshold",
        family="threshold",
        summary="Flags a record as a member when the model's error on it is unusually small.",
        signal="loss of the true label, −log p(y|x)",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        cost="low",
        citation="Yeom et al., Privacy Risk in Machine Learning, CSF 2018",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        return AttackResult(scores=-ctx.target.loss_values(ctx.y_index))


@register
class ConfidenceThreshold(Attack):
    spec = AttackSpec(
        name="confidence",
        title="Confidence threshold",
        family="threshold",
        summary="Flags a record as a member when the model is unusually sure of its true label.",
        signal="probability of the true label, p(y|x)",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        cost="low",
        citation="Salem et al., ML-Leaks, NDSS 2019",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        return AttackResult(scores=ctx.target.true_class_score(ctx.y_index))

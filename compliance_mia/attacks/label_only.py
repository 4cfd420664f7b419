"""Attacks that need only the predicted label (they survive confidence masking).

Rounding or hiding probabilities does not stop these: an attacker who only
sees labels still learns which records the model gets right, and training
records are got right more often.
"""

from __future__ import annotations

import numpy as np

from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal


@register
class GapAttack(Attack):
    spec = AttackSpec(
        name="gap",
        title="Gap (label-only)",
        family="label-only",
        summary="Guesses 'member' whenever the model predicts the record's label correctly.",
        signal="whether the predicted label is correct",
        requires=frozenset({Signal.LABEL}),
        cost="low",
        citation="Yeom et al. 2018; Choquette-Choo et al., Label-Only Membership Inference, ICML 2021",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        return AttackResult(scores=ctx.target.correct(ctx.y_index).astype(float))

"""Difficulty-calibrated loss (Watson et al. 2022).

A plain loss threshold confuses *easy* records (low loss for every model)
with *memorised* ones. Subtracting the record's average loss under reference
models that never saw it removes the difficulty: what remains is how much
better the deployed model does on this record than comparable models do.
"""

from __future__ import annotations

import numpy as np

from compliance_mia.attacks._signals import reference_matrix
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Outputs, Signal


def _loss(outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
    return outputs.loss_values(y_index)


@register
class CalibratedLoss(Attack):
    spec = AttackSpec(
        name="calibrated-loss",
        title="Difficulty-calibrated loss",
        family="reference",
        summary="Flags a record as a member when the model's error on it is much smaller than the "
        "error of "
        "comparable models that never saw it.",
        signal="loss of the true label minus its mean loss on reference models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        citation="Watson et al., On the Importance of Difficulty Calibration in Membership "
        "Inference "
        "Attacks, ICLR 2022",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("offline")
        ref_loss = reference_matrix(refs, ctx.y_index, _loss)  # (K, n), all OUT offline
        target_loss = ctx.target.loss_values(ctx.y_index)
        scores = -(target_loss - ref_loss.mean(axis=0))
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": "none (reference models trained on population records "
                "only)",
                "scored_records": "audit records",
                "calibration": "mean loss over reference models that never saw the record",
            },
            reference_mode="offline",
            reference_models=refs.count,
        )

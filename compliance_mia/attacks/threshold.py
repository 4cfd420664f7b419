"""Threshold attacks on a single exposed signal (Yeom et al. 2018; Song & Mittal 2021).

The model is usually more confident, and has lower loss, on records it was
trained on. These attacks need no reference models: they rank records by one
signal. They are the baseline every stronger attack must beat.
"""

from __future__ import annotations

from compliance_mia.attacks._signals import PROB_CLIP, entropy, modified_entropy
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal

#: threshold attacks fit nothing, so no record is both used for training and scored
NO_TRAINING = {
    "attack_training_records": "none (a fixed rule, nothing is fitted)",
    "scored_records": "audit records",
}


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
        return AttackResult(
            scores=-ctx.target.loss_values(ctx.y_index), parameters=dict(NO_TRAINING)
        )


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
        return AttackResult(
            scores=ctx.target.true_class_score(ctx.y_index), parameters=dict(NO_TRAINING)
        )


@register
class EntropyThreshold(Attack):
    spec = AttackSpec(
        name="entropy",
        title="Prediction entropy",
        family="threshold",
        summary="Flags a record as a member when the model's output is unusually certain (low "
        "entropy), "
        "whatever the label.",
        signal="entropy of the returned score vector",
        requires=frozenset({Signal.SCORE_VECTOR}),
        cost="low",
        citation="Salem et al., ML-Leaks, NDSS 2019; Song & Mittal, USENIX Security 2021",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        return AttackResult(scores=-entropy(ctx.target), parameters=dict(NO_TRAINING))


@register
class ModifiedEntropyThreshold(Attack):
    spec = AttackSpec(
        name="modified-entropy",
        title="Modified entropy",
        family="threshold",
        summary="Flags a record as a member when the model is confidently right about it: "
        "certainty "
        "counts only when it points at the true label.",
        signal="modified entropy of the score vector given the true label",
        requires=frozenset({Signal.SCORE_VECTOR}),
        cost="low",
        citation="Song & Mittal, Systematic Evaluation of Privacy Risks of Machine Learning "
        "Models, "
        "USENIX Security 2021",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        parameters = {**NO_TRAINING, "probability_clip": PROB_CLIP}
        return AttackResult(
            scores=-modified_entropy(ctx.target, ctx.y_index), parameters=parameters
        )

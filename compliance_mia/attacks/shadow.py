"""Shadow-model attack (Shokri et al., IEEE S&P 2017).

The attacker trains shadow models like the deployed one on her own
(population) data, so she knows which records each shadow model saw. She
then trains an *attack classifier* that tells, from a model's output on a
record of class c, whether the record was in that model's training set; one
classifier per class, as in the original attack. Finally she applies it to
the deployed model's outputs on the audit records.

The attack classifier is trained only on shadow-model outputs on
*population* records and only scores *audit* records: no record is both
trained on and scored, which would inflate the low-FPR figures.

With a full score vector exposed the classifier reads the whole vector;
with only the true-class score (e.g. a loss exposure on a multi-class model)
it reads that alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from compliance_mia.attacks._signals import true_probability
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Outputs, Signal
from compliance_mia.seeding import int_seed, rng

if TYPE_CHECKING:
    from sklearn.ensemble import HistGradientBoostingClassifier

#: a class gets its own attack classifier when it has at least this many IN and OUT examples
MIN_PER_CLASS = 100
#: at most this many shadow outputs are used to train the attack classifiers (seeded subsample)
MAX_TRAINING_ROWS = 200_000


def features(outputs: Outputs, y_index: np.ndarray, *, full_vector: bool) -> np.ndarray:
    """Attack-classifier inputs: the score vector (if exposed), p(y|x) and the loss."""
    p_true = true_probability(outputs, y_index)
    columns = [p_true[:, None], outputs.loss_values(y_index)[:, None]]
    if full_vector:
        columns.insert(0, np.clip(outputs.score_vector(), 0.0, 1.0))
    return np.hstack(columns)


def _classifier(seed: int, *purpose: str | int) -> HistGradientBoostingClassifier:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.1,
        max_leaf_nodes=15,
        early_stopping=False,
        random_state=int_seed(seed, "shadow-attack", *purpose),
    )


def _classify(
    ctx: AttackContext,
    X_train: np.ndarray,
    is_in: np.ndarray,
    cls_train: np.ndarray,
    X_audit: np.ndarray,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Per-class attack classifiers (pooled for small classes) applied to the audit records."""
    scores = np.full(len(X_audit), np.nan)
    per_class: list[str] = []
    pooled_needed = np.ones(len(X_audit), dtype=bool)
    for c in range(ctx.n_classes):
        rows = cls_train == c
        target_rows = ctx.y_index == c
        n_in = int(is_in[rows].sum())
        if not target_rows.any() or min(n_in, int(rows.sum()) - n_in) < MIN_PER_CLASS:
            continue
        model = _classifier(ctx.seed, "class", c).fit(X_train[rows], is_in[rows])
        scores[target_rows] = model.predict_proba(X_audit[target_rows])[:, 1]
        pooled_needed &= ~target_rows
        per_class.append(str(ctx.classes[c]))
    if pooled_needed.any():
        with_class = np.hstack([X_train, cls_train[:, None]])
        model = _classifier(ctx.seed, "pooled").fit(with_class, is_in)
        audit_with_class = np.hstack([X_audit, ctx.y_index[:, None]])
        scores[pooled_needed] = model.predict_proba(audit_with_class[pooled_needed])[:, 1]
    return scores, per_class, pooled_needed


@register
class ShadowModelAttack(Attack):
    spec = AttackSpec(
        name="shadow",
        title="Shadow models (attack classifier)",
        family="reference",
        summary="Trains a classifier on look-alike models the attacker built herself to recognise "
        "what a "
        "training record's output looks like, then applies it to the deployed model.",
        signal="the returned scores, read by a classifier trained on shadow models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        needs_population=True,
        record_seconds=2e-5,
        citation="Shokri et al., Membership Inference Attacks Against Machine Learning Models, "
        "IEEE S&P 2017",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None and ctx.population_y_index is not None
        refs = ctx.references("offline")
        full = Signal.SCORE_VECTOR in ctx.signals
        y_pop = ctx.population_y_index
        blocks, labels, classes = [], [], []
        for k in range(refs.count):
            blocks.append(
                features(refs.population_outputs(k), y_pop, full_vector=full)
            )
            labels.append(refs.population_in[k])
            classes.append(y_pop)
        X_train = np.vstack(blocks)
        is_in = np.concatenate(labels)
        cls_train = np.concatenate(classes)
        if len(X_train) > MAX_TRAINING_ROWS:
            keep = np.sort(
                rng(ctx.seed, "shadow-subsample").choice(
                    len(X_train), MAX_TRAINING_ROWS, replace=False
                )
            )
            X_train, is_in, cls_train = X_train[keep], is_in[keep], cls_train[keep]

        X_audit = features(ctx.target, ctx.y_index, full_vector=full)
        # one OpenMP thread: small fits, and no slow-down when cores are shared (results identical)
        with threadpool_limits(limits=1, user_api="openmp"):
            scores, per_class, pooled_needed = _classify(ctx, X_train, is_in, cls_train, X_audit)
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": f"shadow-model outputs on {len(y_pop)} population "
                f"records ({len(X_train)} rows: {int(is_in.sum())} IN, {int((~is_in).sum())} OUT)",
                "scored_records": "audit records (never used to train the attack classifier)",
                "attack_classifier": "HistGradientBoostingClassifier, one per class",
                "classes_with_own_classifier": per_class,
                "pooled_classifier_records": int(pooled_needed.sum()),
                "features": "score vector, p(y|x), loss" if full else "p(y|x), loss",
            },
            reference_mode="offline",
            reference_models=refs.count,
        )

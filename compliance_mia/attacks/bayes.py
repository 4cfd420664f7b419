"""BASE: the practical Bayes-optimal attack (Lassila, Östman, Ngo, Graell i Amat, NeurIPS 2025).

Following Sablayrolles et al., the Bayes-optimal membership posterior of a
record x = (features, label y) given the deployed model θ is, for i.i.d.
training data and a posterior over models p(θ|D) ∝ exp(−Σ loss), a sigmoid
of a log-likelihood ratio in which the record's own term is the model's
log-confidence, log p_θ(y|x), and the normaliser over all other possible
training sets is approximated with reference models:

    BASE(x) = log p_θ(y|x) − c · log( (1/K) Σ_k p_θk(y|x) ) + log(π / (1 − π)),

posterior = sigmoid(BASE(x)), with prior membership probability π. Online
(the references are trained on random halves of population ∪ audit records,
so each record is IN for about half of them) c = 1; the paper shows this
ranks records exactly like RMIA online (log p_θ − log mean p is RMIA's log
ratio, and RMIA's comparison with population records is monotone in it).
Offline (only OUT references) the mean over references under-estimates the
normaliser for members, and the paper scales the threshold term by a factor
c < 1. This module implements the offline attack:

* the mean over the K offline references of the exposed probability of the
  true label, p̄(x) (the log-sum-exp of their log-confidences minus log K);
* c chosen on the reference models themselves, as RMIA's ``a`` is: reference
  models 0 and 1 (a complementary pair) each play the target while the
  remaining pairs serve as references, and the c on a grid with the highest
  AUC over the population records' known IN/OUT status is kept; with fewer
  than four reference models c = :data:`DEFAULT_C` (the authors' default);
* π = 1/2, so the score is the log posterior odds (it ranks like the posterior).

Relation to RMIA offline: RMIA divides p_θ by a *linear* interpolation
((1 + a)/2)·p̄ + (1 − a)/2; BASE divides by the *power* p̄^c. Both leave
records that every model finds easy (p̄ ≈ 1) unchanged and both shrink the
reference term to correct the missing IN models, but the power discounts
hard records (small p̄) far less, so a confident target on a record other
models find hard stands out more. BASE needs no population comparison set.

Probabilities are floored at the outputs' resolution
(:func:`~._signals.resolution_clip`) before logarithms: trees output exact
zeros, and a zero from one reference model must not send the score to ±∞.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._signals import reference_matrix, resolution_clip, true_probability
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal

if TYPE_CHECKING:
    from compliance_mia.reference import ExposedReferences

#: grid over which the offline threshold scale c is tuned
C_GRID = tuple(round(0.1 * i, 1) for i in range(1, 11))
#: c when too few reference models to tune it (the BASE authors' offline default)
DEFAULT_C = 0.7
#: prior membership probability π (the score is the log posterior odds; the ranking ignores π)
PRIOR = 0.5


def base_scores(
    p_target: np.ndarray, p_refs: np.ndarray, c: float, *, floor: float, prior: float = PRIOR
) -> np.ndarray:
    """Log p_θ − c·log mean_k p_θk + log(π/(1−π)), probabilities floored at ``floor``.

    ``p_refs`` has shape (K, n) and holds only the references to average
    (offline: all OUT).
    """
    log_target = np.log(np.maximum(p_target, floor))
    log_norm = np.log(np.maximum(p_refs.mean(axis=0), floor))
    return log_target - c * log_norm + np.log(prior / (1.0 - prior))


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    counts = mask.sum(axis=0)
    return np.where(mask, values, 0.0).sum(axis=0) / np.maximum(counts, 1)


def tune_c(
    refs: ExposedReferences, y_index_population: np.ndarray, floor: float
) -> tuple[float, float | None, str]:
    """Pick c by attacking reference models 0 and 1 with the other offline references."""
    pairs = refs.count // 2
    if pairs < 2:
        return DEFAULT_C, None, f"default (too few reference models to tune: {refs.count})"
    p_pop = reference_matrix(refs, y_index_population, true_probability, on="population")
    helpers = np.arange(2, 2 * pairs)
    out = ~refs.population_in[helpers]
    mean_out = _masked_mean(p_pop[helpers], out)
    log_norm = np.log(np.maximum(mean_out, floor))
    aucs = np.zeros(len(C_GRID))
    for pseudo in (0, 1):
        labels = refs.population_in[pseudo]
        if labels.all() or not labels.any():
            continue
        log_target = np.log(np.maximum(p_pop[pseudo], floor))
        for i, c in enumerate(C_GRID):
            from sklearn.metrics import roc_auc_score

            aucs[i] += roc_auc_score(labels, log_target - c * log_norm)
    best = int(np.argmax(aucs))
    return float(C_GRID[best]), float(aucs[best] / 2), "tuned on reference models 0 and 1 (max AUC)"


@register
class BaseOffline(Attack):
    spec = AttackSpec(
        name="base-offline",
        title="BASE (offline)",
        family="reference",
        summary="Scores each record by the Bayes-optimal membership odds: how much more likely the "
        "model finds it than models that never saw it do, with the comparison scaled for "
        "models that never saw it.",
        signal="log-probability of the true label minus a scaled log of its mean over reference "
        "models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        citation="Lassila, Östman, Ngo, Graell i Amat, Practical Bayes-Optimal Membership "
        "Inference Attacks, NeurIPS 2025",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("offline")
        p_target = true_probability(ctx.target, ctx.y_index)
        p_refs = reference_matrix(refs, ctx.y_index, true_probability)  # (K, n), all OUT offline
        floor = resolution_clip([p_target, p_refs])
        if ctx.population_y_index is not None and refs.count >= 4:
            c, auc, how = tune_c(refs, ctx.population_y_index, floor)
        else:
            c, auc, how = DEFAULT_C, None, "default (no population records to tune on)"
        scores = base_scores(p_target, p_refs, c, floor=floor)
        parameters = {
            "attack_training_records": "population records (reference models' known IN/OUT "
            "status, to choose c)"
            if auc is not None
            else "none (reference models trained on population records only)",
            "scored_records": "audit records",
            "score": "log p(y|x) − c·log mean_k p_k(y|x) + log(π/(1−π))",
            "c": c,
            "c_choice": how,
            "prior": PRIOR,
            "probability_floor": floor,
        }
        if auc is not None:
            parameters["c_tuning_auc"] = round(auc, 4)
        return AttackResult(
            scores=scores,
            parameters=parameters,
            reference_mode="offline",
            reference_models=refs.count,
        )

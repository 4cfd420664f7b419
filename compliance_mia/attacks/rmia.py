"""RMIA: the robust membership inference attack (Zarifzadeh et al., ICML 2024).

For a record x, compare how likely the deployed model finds it with how
likely models *in general* find it: Ratio_x = p(x|θ_target) / Pr(x), with
Pr(x) the average of p(x|θ) over reference models. Do the same for
population records z the deployed model never saw. x is scored by the share
of population records it "dominates": Ratio_x / Ratio_z > γ. Records the
deployed model likes far more than other models do stand out against the
population, which makes RMIA strong at low false-positive rates with very
few reference models.

Offline (only models that never saw x), Pr(x) is approximated from the OUT
average: Pr(x) = ((1 + a)/2)·mean_OUT + (1 − a)/2, where ``a`` is tuned by
attacking one reference model with the others (its population members and
non-members are known to the attacker), picking the ``a`` with the highest
AUC over a grid. Online, Pr(x) is the mean over all reference models (each
audit record is IN for half of them).

The score is computed by sorting the population ratios once and locating
each x with ``searchsorted``: O((n + m) log m), never an n × m matrix.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._signals import (
    masked_mean,
    rank_tiebreak,
    reference_matrix,
    true_probability,
)
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal

if TYPE_CHECKING:
    from compliance_mia.reference import ExposedReferences

log = logging.getLogger(__name__)

#: grid over which the offline ``a`` is tuned
A_GRID = tuple(round(0.1 * i, 1) for i in range(11))
#: ``a`` used when the reference models are too few to tune it (the RMIA paper's typical value)
DEFAULT_A = 0.3
#: Ratio_x / Ratio_z must exceed γ for x to dominate z (the ranking does not depend on γ)
GAMMA = 1.0
#: ratios are computed with probabilities floored here, so exact zeros (trees) stay finite
PROB_FLOOR = 1e-12


def _p(outputs, y_index):
    return true_probability(outputs, y_index)


def offline_prior(mean_out: np.ndarray, a: float) -> np.ndarray:
    """Pr(x) from the OUT-model mean: ((1 + a)/2)·mean_OUT + (1 − a)/2."""
    return (1.0 + a) / 2.0 * mean_out + (1.0 - a) / 2.0


def dominance_scores(
    ratio_x: np.ndarray, ratio_z: np.ndarray, *, gamma: float = GAMMA
) -> np.ndarray:
    """Share of population points z with Ratio_x / Ratio_z > γ, for every x.

    Ratio_x / Ratio_z > γ ⇔ Ratio_z < Ratio_x / γ (ratios are positive), so
    sorting Ratio_z once and a ``searchsorted`` per x gives the counts.
    Records beating the same number of population points are ordered by
    their own ratio (a monotone refinement: it only breaks ties).
    """
    sorted_z = np.sort(np.asarray(ratio_z, dtype=float))
    counts = np.searchsorted(sorted_z, np.asarray(ratio_x, dtype=float) / gamma, side="left")
    share = counts / max(len(sorted_z), 1)
    return rank_tiebreak(share, np.log(ratio_x), step=1.0 / max(len(sorted_z), 1))


def _ratio(p_target: np.ndarray, prior: np.ndarray) -> np.ndarray:
    return np.maximum(p_target, PROB_FLOOR) / np.maximum(prior, PROB_FLOOR)


def tune_offline_a(
    refs: ExposedReferences, y_index_population: np.ndarray
) -> tuple[float, float | None, str]:
    """Pick ``a`` by attacking reference models with the other reference models (offline).

    The first complementary pair of models (0 and 1) each plays the target in
    turn; the remaining pairs serve as references, each contributing exactly
    the one model of the pair that did not see the record (so IN and OUT
    records get the same number of OUT references). The AUC over the
    population records' known IN/OUT status is summed over both pseudo-targets.
    Returns (a, best AUC or None, how it was chosen).
    """
    count = refs.count
    pairs = count // 2
    if pairs < 2:
        return DEFAULT_A, None, f"default (too few reference models to tune: {count})"
    p_pop = reference_matrix(refs, y_index_population, _p, on="population")  # (K, m)
    helpers = np.arange(2, 2 * pairs)
    mean_out = masked_mean(p_pop[helpers], ~refs.population_in[helpers])
    from sklearn.metrics import roc_auc_score

    aucs = np.zeros(len(A_GRID))
    for pseudo in (0, 1):
        labels = refs.population_in[pseudo]
        if labels.all() or not labels.any():
            continue
        for i, a in enumerate(A_GRID):
            ratio = _ratio(p_pop[pseudo], offline_prior(mean_out, a))
            aucs[i] += roc_auc_score(labels, ratio)
    best = int(np.argmax(aucs))
    return (
        float(A_GRID[best]),
        float(aucs[best] / 2),
        "tuned on reference models 0 and 1 (max AUC over a grid)",
    )


def _result(
    ctx: AttackContext, refs: ExposedReferences, scores: np.ndarray, parameters: dict, mode: str
) -> AttackResult:
    return AttackResult(
        scores=scores,
        parameters={
            "attack_training_records": "population records (reference models' known IN/OUT status)"
            if mode == "offline"
            else "none (nothing is fitted; population records are the comparison set)",
            "scored_records": "audit records",
            "comparison_records": f"{len(ctx.population_y_index)} population records the target "
            "never saw",
            "gamma": GAMMA,
            **parameters,
        },
        reference_mode=mode,
        reference_models=refs.count,
    )


@register
class RmiaOffline(Attack):
    spec = AttackSpec(
        name="rmia-offline",
        title="RMIA (offline)",
        family="reference",
        summary="Compares how much more the model likes a record than reference models that never "
        "saw it do, "
        "against the same ratio on population records.",
        signal="probability of the true label, relative to reference models and the population",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        needs_population=True,
        citation="Zarifzadeh et al., Low-Cost High-Power Membership Inference Attacks, ICML 2024",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None and ctx.population_target is not None
        refs = ctx.references("offline")
        y_pop = ctx.population_y_index
        a, tuned_auc, how = tune_offline_a(refs, y_pop)
        p_audit_refs = reference_matrix(refs, ctx.y_index, _p)  # all OUT offline
        ratio_x = _ratio(_p(ctx.target, ctx.y_index), offline_prior(p_audit_refs.mean(axis=0), a))
        p_pop_refs = reference_matrix(refs, y_pop, _p, on="population")
        mean_out_z = masked_mean(p_pop_refs, ~refs.population_in)
        mean_out_z = np.where(np.isnan(mean_out_z), p_pop_refs.mean(axis=0), mean_out_z)
        ratio_z = _ratio(_p(ctx.population_target, y_pop), offline_prior(mean_out_z, a))
        scores = dominance_scores(ratio_x, ratio_z)
        parameters = {"a": a, "a_choice": how}
        if tuned_auc is not None:
            parameters["a_tuning_auc"] = round(tuned_auc, 4)
        return _result(ctx, refs, scores, parameters, "offline")


@register
class RmiaOnline(Attack):
    spec = AttackSpec(
        name="rmia-online",
        title="RMIA (online)",
        family="reference",
        summary="As RMIA, with reference models trained on halves of the audited records too, so "
        "the "
        "record's typical probability is measured rather than approximated.",
        signal="probability of the true label, relative to reference models and the population",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="online",
        cost="high",
        needs_population=True,
        citation="Zarifzadeh et al., Low-Cost High-Power Membership Inference Attacks, ICML 2024",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None and ctx.population_target is not None
        refs = ctx.references("online")
        y_pop = ctx.population_y_index
        prior_x = reference_matrix(refs, ctx.y_index, _p).mean(axis=0)
        ratio_x = _ratio(_p(ctx.target, ctx.y_index), prior_x)
        prior_z = reference_matrix(refs, y_pop, _p, on="population").mean(axis=0)
        ratio_z = _ratio(_p(ctx.population_target, y_pop), prior_z)
        scores = dominance_scores(ratio_x, ratio_z)
        return _result(
            ctx, refs, scores, {"prior": "mean over all reference models (IN and OUT)"}, "online"
        )

"""LiRA: the likelihood ratio attack (Carlini et al., IEEE S&P 2022).

For each record, the attacker models the deployed model's logit-scaled
confidence φ = log p(y|x) − log Σ_{y'≠y} p(y'|x) under two hypotheses with
Gaussians fitted to reference models: models trained *with* the record (IN)
and models trained *without* it (OUT).

* **Online** (reference models on random halves of population ∪ audit
  records, so each audit record is IN for half of them): score = log N(φ;
  μ_in, σ_in) − log N(φ; μ_out, σ_out).
* **Offline** (only OUT models): a one-sided test of how far above the OUT
  distribution φ lies; the score is −log of the one-sided p-value,
  −log(1 − Φ((φ − μ_out)/σ_out)), which ranks like Φ but does not saturate
  at 1 for extreme records, so the low-FPR end stays ordered.

**Variance.** *Per-record* σ is fitted to each record's own reference
values; *fixed* (pooled) σ averages the within-record variances over all
records. With few models per hypothesis per-record variances are noise and
saturate the scores, so ``auto`` uses the pooled variance below
:data:`PER_RECORD_MIN_MODELS` models per hypothesis (the LiRA paper finds
fixed variance better with few shadow models).

**Exact 0/1 probabilities.** Trees and rounded outputs give p = 1 or 0
exactly. A fixed clip such as 1e-7 puts those at φ = ±16.1, far from every
other value (a forest of 25 trees otherwise tops out at φ = log(0.96/0.04)
≈ 3.2), so IN and OUT distributions become bimodal and the Gaussians fit
badly. φ is therefore computed with a clip matched to the outputs'
resolution (:func:`~._signals.resolution_clip`: half the smallest non-zero
distance from 0 or 1 in the exposed outputs of the target and the reference
models, between 1e-7 and 0.05), which places an exact 1 one step beyond the
most confident value the model otherwise returns. Continuous outputs keep
the 1e-7 clip. Every σ is floored at :data:`~._signals.MIN_STD`. Records
whose φ sits at the clip for the target *and* every reference model carry no
evidence and score as unremarkable rather than as infinitely suspicious.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._signals import (
    MIN_STD,
    logit_confidence,
    masked_mean,
    masked_var,
    resolution_clip,
    true_probability,
)
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal

if TYPE_CHECKING:
    from compliance_mia.reference import ExposedReferences

#: below this many reference models per hypothesis, ``auto`` uses the pooled (fixed) variance
PER_RECORD_MIN_MODELS = 16


def logit_signals(
    ctx: AttackContext, refs: ExposedReferences
) -> tuple[np.ndarray, np.ndarray, float]:
    """φ of the target (n,) and of each reference model (K, n) on the audit records; the clip."""
    ref_outputs = [refs.audit_outputs(k) for k in range(refs.count)]
    clip = resolution_clip([true_probability(o, ctx.y_index) for o in [ctx.target, *ref_outputs]])
    phi_target = logit_confidence(ctx.target, ctx.y_index, clip=clip)
    phi_refs = np.stack([logit_confidence(o, ctx.y_index, clip=clip) for o in ref_outputs])
    return phi_target, phi_refs, clip


def _variance_choice(setting: str, models_per_side: int) -> str:
    if setting in ("fixed", "per-record"):
        return setting
    return "per-record" if models_per_side >= PER_RECORD_MIN_MODELS else "fixed"


def fit_gaussians(
    values: np.ndarray, mask: np.ndarray, *, variance: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per record of ``values`` (K, n) where ``mask``.

    ``variance="fixed"`` pools the within-record variances over records (and
    falls back to the spread of all values when no record has two samples);
    every σ is floored at MIN_STD.
    """
    mean = masked_mean(values, mask)
    var = masked_var(values, mask)
    if variance == "per-record":
        std = np.sqrt(np.where(np.isnan(var), MIN_STD**2, var))
    else:
        enough = mask.sum(axis=0) >= 2
        pooled = (
            float(np.mean(var[enough]))
            if enough.any()
            else float(np.var(values[mask]))
            if mask.any()
            else 0.0
        )
        std = np.full(values.shape[1], np.sqrt(pooled))
    return mean, np.maximum(std, MIN_STD)


def offline_scores(phi_target: np.ndarray, mean_out: np.ndarray, std_out: np.ndarray) -> np.ndarray:
    """−log P(OUT model has φ ≥ φ_target): large when φ is far above the OUT Gaussian."""
    from scipy.stats import norm

    return -norm.logsf(phi_target, loc=mean_out, scale=std_out)


def online_scores(phi_target, mean_in, std_in, mean_out, std_out) -> np.ndarray:
    """Online score: log N(φ; μ_in, σ_in) − log N(φ; μ_out, σ_out)."""
    from scipy.stats import norm

    return norm.logpdf(phi_target, mean_in, std_in) - norm.logpdf(phi_target, mean_out, std_out)


def _parameters(variance: str, setting: str, mode: str, clip: float) -> dict:
    return {
        "attack_training_records": (
            "none (Gaussians fitted per audit record to reference models trained on population "
            "records only)"
            if mode == "offline"
            else "none (Gaussians fitted per audit record to reference models trained on random "
            "halves of "
            "population and audit records; membership of the audit records in the target is never "
            "read)"
        ),
        "scored_records": "audit records",
        "signal": "logit-scaled confidence φ = log p(y|x) − log Σ p(other classes)",
        "probability_clip": clip,
        "probability_clip_rule": "half the smallest non-zero distance from 0 or 1 in the exposed "
        "outputs "
        "(between 1e-7 and 0.05)",
        "min_std": MIN_STD,
        "variance": variance,
        "variance_setting": setting,
    }


@register
class LiraOffline(Attack):
    spec = AttackSpec(
        name="lira-offline",
        title="LiRA (offline)",
        family="reference",
        summary="Tests, record by record, whether the model's confidence is too high to come from "
        "a model "
        "that never saw the record, using reference models as the yardstick.",
        signal="logit-scaled confidence of the true label against reference models that never saw "
        "the record",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        citation="Carlini et al., Membership Inference Attacks From First Principles, IEEE S&P "
        "2022",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("offline")
        setting = ctx.settings.lira_variance
        variance = _variance_choice(setting, refs.count)
        phi_target, phi_refs, clip = logit_signals(ctx, refs)
        mean_out, std_out = fit_gaussians(
            phi_refs, np.ones_like(phi_refs, dtype=bool), variance=variance
        )
        scores = offline_scores(phi_target, mean_out, std_out)
        return AttackResult(
            scores=scores,
            parameters=_parameters(variance, setting, "offline", clip),
            reference_mode="offline",
            reference_models=refs.count,
        )


@register
class LiraOnline(Attack):
    spec = AttackSpec(
        name="lira-online",
        title="LiRA (online)",
        family="reference",
        summary="Compares, record by record, how well the model's confidence matches models "
        "trained with "
        "the record against models trained without it.",
        signal="logit-scaled confidence of the true label against IN and OUT reference models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="online",
        cost="high",
        citation="Carlini et al., Membership Inference Attacks From First Principles, IEEE S&P "
        "2022",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("online")
        setting = ctx.settings.lira_variance
        per_side = int(min(refs.audit_in.sum(axis=0).min(), (~refs.audit_in).sum(axis=0).min()))
        variance = _variance_choice(setting, per_side)
        phi_target, phi_refs, clip = logit_signals(ctx, refs)
        mean_in, std_in = fit_gaussians(phi_refs, refs.audit_in, variance=variance)
        mean_out, std_out = fit_gaussians(phi_refs, ~refs.audit_in, variance=variance)
        scores = online_scores(phi_target, mean_in, std_in, mean_out, std_out)
        # a record with no IN (or no OUT) model cannot be tested online: use its offline score
        missing = np.isnan(mean_in) | np.isnan(mean_out)
        if missing.any():
            fallback = offline_scores(phi_target, np.nan_to_num(mean_out), std_out)
            scores = np.where(missing, fallback, scores)
        parameters = _parameters(variance, setting, "online", clip)
        parameters["models_per_hypothesis"] = per_side
        return AttackResult(
            scores=scores,
            parameters=parameters,
            reference_mode="online",
            reference_models=refs.count,
        )

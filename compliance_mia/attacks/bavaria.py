"""BaVarIA: LiRA with a Bayesian (normal-inverse-gamma) per-record variance (Brännvall 2026).

Brännvall ("Exponential-Family Membership Inference: From LiRA and RMIA to
BaVarIA", arXiv 2603.11799) shows LiRA, RMIA and BASE are one
log-likelihood-ratio test under different distributional assumptions, and
that with few reference models the bottleneck is the *variance*: LiRA's
per-record variance is noise below a few dozen models, its pooled variance
ignores that records differ, and the usual fix is a threshold that switches
between the two (``lira_variance: auto`` here). BaVarIA replaces the switch
with a conjugate prior on each record's variance.

What is implemented here (per hypothesis, IN and OUT separately):

* φ is LiRA's logit-scaled confidence with the same resolution clip
  (:func:`compliance_mia.attacks.lira.logit_signals`).
* Each record's k reference values have sample mean m and sum of squares
  S (k − 1 degrees of freedom). The record's variance has a scaled
  inverse-χ² prior (ν₀, σ₀²) — the variance part of a normal-inverse-gamma
  prior; the mean gets a flat prior (κ₀ = 0), so it is the sample mean.
* **Empirical Bayes, no tuning knob:** ν₀ and σ₀² are fitted by maximum
  likelihood to all records' sample variances at once, using that
  s²/σ₀² follows an F(k − 1, ν₀) distribution under this prior.
* Posterior: ν = ν₀ + k − 1, σ² = (ν₀σ₀² + S)/ν; the predictive of a new
  model's φ is a Student-t with ν degrees of freedom, location m and scale
  σ·√(1 + 1/k) (BaVarIA-t). Records with many models get their own
  variance; records with few are shrunk towards σ₀² by as much as the
  spread of variances across records warrants.
* Online score: log t_IN(φ) − log t_OUT(φ); offline: −log P(t_OUT ≥ φ).

Differences from the paper: only the t predictive (not BaVarIA-n); the
prior's hyperparameters are fitted by the F-distribution likelihood above
(our choice; the paper's estimator may differ); a flat prior on the mean;
and the signal is one φ per record (no augmented queries).
"""

from __future__ import annotations

import numpy as np

from compliance_mia.attacks._signals import MIN_STD
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.attacks.lira import logit_signals
from compliance_mia.exposure import Signal

CITATION = (
    "Brännvall, Exponential-Family Membership Inference: From LiRA and RMIA to BaVarIA, "
    "arXiv 2603.11799, 2026; Carlini et al., IEEE S&P 2022 (LiRA)"
)
#: bounds of the prior's degrees of freedom ν₀ (a very large ν₀ is the pooled variance)
NU_BOUNDS = (0.5, 1e4)


def fit_prior(sample_var: np.ndarray, dof: np.ndarray) -> tuple[float, float]:
    """(σ₀², ν₀) maximising the likelihood of the sample variances: s²/σ₀² ~ F(dof, ν₀).

    Only records with at least one degree of freedom count. Without any,
    there is nothing to learn a spread from: the prior is MIN_STD² with
    ν₀ = 1 (weak), and every variance is that floor.
    """
    from scipy import optimize, stats

    ok = dof >= 1
    if not ok.any():
        return MIN_STD**2, 1.0
    s2 = np.maximum(sample_var[ok], MIN_STD**2)
    d = dof[ok].astype(float)
    start = np.array([np.log(float(np.mean(s2))), np.log(4.0)])

    def nll(theta: np.ndarray) -> float:
        scale = np.exp(theta[0])
        nu = float(np.clip(np.exp(theta[1]), *NU_BOUNDS))
        return float(-(stats.f.logpdf(s2 / scale, d, nu) - theta[0]).sum())

    result = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    theta = result.x if np.isfinite(result.fun) else start
    return float(np.exp(theta[0])), float(np.clip(np.exp(theta[1]), *NU_BOUNDS))


def posterior_predictive(
    values: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    """Student-t predictive per record of ``values`` (K, n) where ``mask``: (location, scale, dof, prior).

    Records with no value on this side get NaN location (the caller falls
    back), the prior's scale and ν₀ degrees of freedom.
    """
    k = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, np.where(mask, values, 0.0).sum(axis=0) / np.maximum(k, 1), np.nan)
    centred = np.where(mask, values - np.nan_to_num(mean), 0.0)
    ss = (centred**2).sum(axis=0)
    dof = np.maximum(k - 1, 0)
    sample_var = np.where(dof > 0, ss / np.maximum(dof, 1), np.nan)
    s0, nu0 = fit_prior(sample_var, dof)
    nu = nu0 + dof
    var = (nu0 * s0 + ss) / nu
    scale = np.sqrt(var * (1.0 + 1.0 / np.maximum(k, 1)))
    return mean, np.maximum(scale, MIN_STD), nu, (s0, nu0)


def _parameters(mode: str, clip: float, priors: dict[str, tuple[float, float]]) -> dict:
    return {
        "attack_training_records": (
            "none (Student-t predictives fitted per audit record to reference models trained on "
            + ("population records only)" if mode == "offline" else "random halves of the reference "
               "pool; membership of the audit records in the target is never read)")
        ),
        "scored_records": "audit records",
        "signal": "logit-scaled confidence φ = log p(y|x) − log Σ p(other classes)",
        "probability_clip": clip,
        "variance": "per-record, with a scaled inverse-χ² prior fitted by empirical Bayes (BaVarIA-t)",
        **{f"prior_{side}_sigma2": round(p[0], 6) for side, p in priors.items()},
        **{f"prior_{side}_nu": round(p[1], 3) for side, p in priors.items()},
    }


@register
class BavariaOffline(Attack):
    spec = AttackSpec(
        name="bavaria-offline",
        title="BaVarIA (offline)",
        family="reference",
        summary="As offline LiRA, but each record's spread under reference models is estimated with "
        "a prior learnt from all records, so few reference models still give stable scores.",
        signal="logit-scaled confidence of the true label against reference models that never saw "
        "the record (Student-t)",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        citation=CITATION,
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        from scipy import stats

        assert ctx.references is not None
        refs = ctx.references("offline")
        phi_target, phi_refs, clip = logit_signals(ctx, refs)
        mean, scale, nu, prior = posterior_predictive(phi_refs, np.ones_like(phi_refs, dtype=bool))
        scores = -stats.t.logsf(phi_target, nu, loc=mean, scale=scale)
        return AttackResult(
            scores=scores,
            parameters=_parameters("offline", clip, {"out": prior}),
            reference_mode="offline",
            reference_models=refs.count,
        )


@register
class BavariaOnline(Attack):
    spec = AttackSpec(
        name="bavaria-online",
        title="BaVarIA (online)",
        family="reference",
        summary="As online LiRA, but each record's spread under models trained with and without it "
        "is estimated with a prior learnt from all records, so few reference models still give "
        "stable scores.",
        signal="logit-scaled confidence of the true label against IN and OUT reference models "
        "(Student-t)",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="online",
        cost="high",
        citation=CITATION,
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        from scipy import stats

        assert ctx.references is not None
        refs = ctx.references("online")
        phi_target, phi_refs, clip = logit_signals(ctx, refs)
        m_in, s_in, nu_in, prior_in = posterior_predictive(phi_refs, refs.audit_in)
        m_out, s_out, nu_out, prior_out = posterior_predictive(phi_refs, ~refs.audit_in)
        missing = np.isnan(m_in) | np.isnan(m_out)
        scores = stats.t.logpdf(phi_target, nu_in, np.nan_to_num(m_in), s_in) - stats.t.logpdf(
            phi_target, nu_out, np.nan_to_num(m_out), s_out
        )
        if missing.any():  # no IN (or OUT) model for a record: its one-sided offline score
            fallback = -stats.t.logsf(phi_target, nu_out, np.nan_to_num(m_out), s_out)
            scores = np.where(missing, fallback, scores)
        parameters = _parameters("online", clip, {"in": prior_in, "out": prior_out})
        parameters["records_without_both_hypotheses"] = int(missing.sum())
        return AttackResult(
            scores=scores,
            parameters=parameters,
            reference_mode="online",
            reference_models=refs.count,
        )


@register
class BavariaRmiaOnline(Attack):
    """The mean of BaVarIA online's and RMIA online's ranks over the audit records.

    The two read the same reference models differently: BaVarIA compares
    φ with each record's own IN and OUT distributions (strong when a record's
    IN and OUT values separate), RMIA compares the record's likelihood ratio
    with those of population records (strong at the low-FPR end, where a
    per-record Gaussian is least reliable). On HI · RandomForest (see
    docs/attack-benchmark.md) their rank average beats both at every count
    of reference models tried. No weight is learnt and no membership is read:
    the ranks are taken over the audit records' scores alone, so a record's
    score depends on the other audit records' scores but not on their labels.
    """

    spec = AttackSpec(
        name="bavaria-rmia-online",
        title="BaVarIA + RMIA (online, rank average)",
        family="reference",
        summary="Averages how suspicious each record looks to BaVarIA and to RMIA, two attacks that "
        "read the same reference models in different ways.",
        signal="mean rank of BaVarIA online's and RMIA online's scores",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="online",
        cost="high",
        needs_population=True,
        citation=CITATION + "; Zarifzadeh et al., ICML 2024 (RMIA)",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        from scipy.stats import rankdata

        from compliance_mia.attacks.rmia import RmiaOnline

        bavaria = BavariaOnline().run(ctx)
        rmia = RmiaOnline().run(ctx)
        n = max(len(bavaria.scores), 1)
        scores = (rankdata(bavaria.scores) + rankdata(rmia.scores)) / (2 * n)
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": "none (no weight is learnt: a fixed average of two "
                "attacks' ranks over the audit records; their membership is never read)",
                "scored_records": "audit records",
                "combination": "mean of the ranks (ties averaged) of bavaria-online and rmia-online, "
                "divided by the number of audit records",
                "bavaria": {k: v for k, v in bavaria.parameters.items() if k.startswith("prior_")},
            },
            reference_mode="online",
            reference_models=bavaria.reference_models,
        )

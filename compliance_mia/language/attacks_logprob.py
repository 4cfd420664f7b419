"""Text attacks that read token log-probabilities (loss, zlib, Min-K%, Min-K%++, reference).

A model assigns its training texts higher likelihood than texts it never saw;
these attacks differ in how they turn the per-token log-probabilities into
one number per text, and in what they calibrate against (the text's own
compressibility, its least likely tokens, the model's distribution at each
position, or a reference model). Definitions follow the papers and MIMIR's
implementations (Duan et al. 2024); docs/methodology-text.md states each
formula and every deviation.
"""

from __future__ import annotations

import zlib

import numpy as np

from compliance_mia.language.attacks_base import (
    LOGPROB_TOLERANCE,
    TextAttack,
    TextAttackContext,
    TextAttackError,
    TextAttackSpec,
    TextScoresError,
    checked_logprobs,
    fraction_setting,
    lowest_fraction_mean,
    register,
)

#: Min-K% and Min-K%++ default: the 20% least likely tokens (Shi et al. 2024; MIMIR's default).
DEFAULT_MIN_K_FRACTION = 0.2
#: Min-K%++ divides by σ; a flat visible distribution has σ = 0, so σ is floored here (nats).
SIGMA_FLOOR = 1e-3

_TOKEN_LOGPROBS = (
    "the deployment returns the log-probability of each token of a submitted text "
    "(e.g. an API with echo and logprobs); nothing else is needed"
)


@register
class LossAttack(TextAttack):
    spec = TextAttackSpec(
        name="loss",
        title="Loss (perplexity)",
        summary="Flags a text as a member when the model finds it unusually likely (low perplexity).",
        family="threshold",
        needs="token_logprobs",
        needs_reference=False,
        threat_model=_TOKEN_LOGPROBS,
        citation="Yeom et al., Privacy Risk in Machine Learning, CSF 2018; Carlini et al., "
        "Extracting Training Data from Large Language Models, USENIX Security 2021",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        return np.array([lp.mean() for lp in checked_logprobs(ctx, ctx.scores)])


def zlib_bytes(text: str) -> int:
    """The zlib entropy of a text: its length in bytes after zlib compression (default level)."""
    return len(zlib.compress(text.encode("utf-8")))


@register
class ZlibAttack(TextAttack):
    spec = TextAttackSpec(
        name="zlib",
        title="zlib entropy ratio",
        summary="Flags a text as a member when the model finds it more likely than its compressibility "
        "explains (repetitive text is easy for any model).",
        family="calibrated",
        needs="token_logprobs",
        needs_reference=False,
        threat_model=_TOKEN_LOGPROBS,
        citation="Carlini et al., Extracting Training Data from Large Language Models, USENIX Security 2021",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        logprobs = checked_logprobs(ctx, ctx.scores)
        # Carlini et al.: log-perplexity / zlib entropy, low for members; negated, higher = member.
        return np.array([lp.mean() / zlib_bytes(text) for lp, text in zip(logprobs, ctx.texts, strict=True)])


@register
class MinKAttack(TextAttack):
    spec = TextAttackSpec(
        name="min-k",
        title="Min-K% Prob",
        summary="Flags a text as a member when even its least likely tokens are fairly likely "
        "(an unseen text tends to hold a few very unlikely words).",
        family="threshold",
        needs="token_logprobs",
        needs_reference=False,
        threat_model=_TOKEN_LOGPROBS,
        citation="Shi et al., Detecting Pretraining Data from Large Language Models, ICLR 2024",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        fraction = fraction_setting(ctx, "min_k_fraction", DEFAULT_MIN_K_FRACTION)
        return np.array([lowest_fraction_mean(lp, fraction) for lp in checked_logprobs(ctx, ctx.scores)])


def min_k_plus_plus_tokens(logprobs: np.ndarray, top_logprobs: np.ndarray) -> np.ndarray:
    """Min-K%++'s per-token score (log p(x_t) − μ_t) / σ_t from the visible top-k alternatives.

    μ_t and σ_t are the mean and standard deviation of log p(z) for z drawn
    from the model's next-token distribution. Only the top k alternatives are
    visible, so the distribution is renormalised over them (weights
    q_j = p_j / Σ p_i). Renormalising shifts every log-probability by the
    same constant, which cancels in both log p(x_t) − μ_t and σ_t, so it does
    not matter whether μ is taken over log p or log q. With the whole
    vocabulary visible this is the paper's formula exactly. Non-finite
    entries are alternatives the target did not return and are ignored.
    """
    top = np.asarray(top_logprobs, dtype=float)
    visible = np.isfinite(top)
    safe = np.where(visible, top, -np.inf)
    peak = safe.max(axis=1, keepdims=True)
    weights = np.where(visible, np.exp(safe - peak), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    filled = np.where(visible, top, 0.0)
    mu = (weights * filled).sum(axis=1)
    var = (weights * (filled - mu[:, None]) ** 2).sum(axis=1)
    sigma = np.maximum(np.sqrt(np.maximum(var, 0.0)), SIGMA_FLOOR)
    return (logprobs - mu) / sigma


@register
class MinKPlusPlusAttack(TextAttack):
    spec = TextAttackSpec(
        name="min-k-plus-plus",
        title="Min-K%++",
        summary="Flags a text as a member when its tokens stand out as the model's most likely choices "
        "at each position, compared with the alternatives it returns.",
        family="calibrated",
        needs="top_k_logprobs",
        needs_reference=False,
        threat_model="the deployment returns, for each token of a submitted text, its log-probability and "
        "the log-probabilities of the k most likely alternatives (e.g. an API with echo and logprobs=k); "
        "μ and σ are computed over those k only (an approximation of the paper's full distribution)",
        citation="Zhang et al., Min-K%++: Improved Baseline for Detecting Pre-Training Data from Large "
        "Language Models, ICLR 2025",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        fraction = fraction_setting(ctx, "min_k_fraction", DEFAULT_MIN_K_FRACTION)
        logprobs = checked_logprobs(ctx, ctx.scores)
        assert ctx.scores is not None  # checked_logprobs refused None
        out = []
        for i, (lp, s) in enumerate(zip(logprobs, ctx.scores, strict=True)):
            top = s.top_logprobs
            if top is None or top.shape[1] == 0:
                raise TextAttackError(
                    f"Min-K%++ needs the top-k alternatives' log-probabilities, and the target returned none for "
                    f"{ctx.name_of(i)}; use exposure token_logprobs, or a target that returns them"
                )
            visible = np.isfinite(top)
            if (top[visible] > LOGPROB_TOLERANCE).any():
                raise TextScoresError(
                    f"the target returned an alternative's log-probability above 0 for {ctx.name_of(i)}", index=i
                )
            if not visible.any(axis=1).all():
                raise TextScoresError(
                    f"the target returned no finite alternative log-probability at some position of {ctx.name_of(i)}",
                    index=i,
                )
            out.append(lowest_fraction_mean(min_k_plus_plus_tokens(lp, top), fraction))
        return np.array(out)


@register
class ReferenceAttack(TextAttack):
    spec = TextAttackSpec(
        name="reference",
        title="Reference-model calibration",
        summary="Flags a text as a member when the model finds it more likely than a reference model "
        "trained without it does (what is merely easy text is likely under both).",
        family="calibrated",
        needs="token_logprobs",
        needs_reference=True,
        threat_model="as for the loss attack, plus a reference language model trained without the audited "
        "texts (e.g. a smaller or earlier model) whose token log-probabilities the attacker computes "
        "itself, reduced to the same exposure",
        citation="Carlini et al., Extracting Training Data from Large Language Models, USENIX Security 2021; "
        "Mireshghallah et al., Quantifying Privacy Risks of Masked Language Models Using Membership "
        "Inference Attacks, EMNLP 2022",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        target = checked_logprobs(ctx, ctx.scores)
        reference = checked_logprobs(ctx, ctx.reference_scores, what="the reference model")
        # target log-likelihood − reference log-likelihood = reference loss − target loss.
        return np.array([t.mean() - r.mean() for t, r in zip(target, reference, strict=True)])

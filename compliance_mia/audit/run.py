"""Train the recipe once with random canaries, score them, and set the bound against the claim.

One training run is the whole point of Steinke, Nasr & Jagielski's audit:
instead of training hundreds of models to estimate one record's influence,
m canaries are each included with probability ½ in one training set, and
the guesses on all of them at once support an ε lower bound
(:mod:`compliance_mia.audit.bound`). The recipe is the assessed model's
estimator (a fresh copy, as the what-if recipes use) or the one the policy
names, trained on the members plus the included canaries.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from compliance_mia.assessment import PrivacyAudit
from compliance_mia.audit.bound import audit_bound, guess_grid
from compliance_mia.audit.canaries import inclusion_bits, population_canaries, synthetic_canaries
from compliance_mia.errors import PolicyError, Problem
from compliance_mia.seeding import int_seed, rng

if TYPE_CHECKING:
    import pandas as pd

    from compliance_mia.data import AuditData
    from compliance_mia.policy.schema import PrivacyAuditSpec
    from compliance_mia.targets.base import Target

log = logging.getLogger(__name__)

__all__ = ["audit_estimator", "canary_scores", "run_privacy_audit"]

METHOD = (
    "One-run audit (Steinke, Nasr & Jagielski 2023, Algorithm 2): m canaries each included with "
    "probability 1/2, one training run, k canaries with the highest scores guessed in and the k lowest out; "
    "the bound is the largest ε rejected by the binomial tail with δ, Bonferroni-corrected over a grid of k "
    "fixed from m before any score was seen."
)
SCORE = "log-probability the trained model gives the canary's label (higher = guessed in)"
SCORE_LABEL = "prediction equals the canary's label (the estimator has no predict_proba; ties broken at random)"


def canary_scores(model: Any, X: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, str]:
    """Higher = more likely trained on: log p(label) if the model gives probabilities, else correctness."""
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        classes = list(getattr(model, "classes_", []))
        index = {c: i for i, c in enumerate(classes)}
        p = np.array([proba[j, index[label]] if label in index else 0.0 for j, label in enumerate(y.tolist())])
        return np.log(np.clip(p, 1e-300, 1.0)), SCORE
    return (np.asarray(model.predict(X)) == y).astype(float), SCORE_LABEL


def _seeded(template: Any, seed: int) -> Any:
    """Unset random states seeded from the policy seed; the recipe's own settings are kept."""
    try:
        params = template.get_params()
    except Exception:  # noqa: BLE001 - estimators outside sklearn may not implement it fully
        return template
    seeds = {
        k: int_seed(seed, "privacy-audit", "train", k)
        for k, v in params.items()
        if (k == "random_state" or k.endswith("__random_state")) and v is None
    }
    return template.set_params(**seeds) if seeds else template


def audit_estimator(
    template: Any,
    base_X: pd.DataFrame,
    base_y: np.ndarray,
    canary_X: pd.DataFrame,
    canary_y: np.ndarray,
    *,
    seed: int,
    claimed_epsilon: float,
    delta: float,
    confidence: float,
    guesses: int | None = None,
    canary_source: str = "synthetic",
) -> PrivacyAudit:
    """Train ``template`` once on the base records plus the included canaries and audit it.

    The inclusion bits and the tie-break key come from ``seed`` alone, so
    the same policy gives the same audit, and nothing the guesser sees
    depends on the bits except through the trained model.
    """
    import pandas as pd
    from sklearn.base import clone

    m = len(canary_X)
    included = inclusion_bits(m, seed=seed)
    X_train = pd.concat([base_X, canary_X[included]], ignore_index=True)
    y_train = np.concatenate([np.asarray(base_y).astype(object), np.asarray(canary_y)[included].astype(object)])
    y_train = np.asarray(y_train.tolist())
    try:
        model = clone(_seeded(template, seed)).fit(X_train, y_train)
        scores, score_text = canary_scores(model, canary_X, np.asarray(canary_y))
    except Exception as exc:  # noqa: BLE001 - any estimator error is the recipe's, reported to the analyst
        raise PolicyError(
            Problem(
                f"the audited recipe could not be trained or scored with the canaries ({type(exc).__name__}: {exc})",
                field="privacy_audit.estimator",
            )
        ) from None
    tiebreak = rng(seed, "privacy-audit", "tiebreak").random(m)
    bound = audit_bound(
        scores, included, delta=delta, confidence=confidence, grid=guess_grid(m, guesses), tiebreak=tiebreak
    )
    contradicted = bound.epsilon_lower > claimed_epsilon
    return PrivacyAudit(
        epsilon_lower=math.floor(bound.epsilon_lower * 1e6) / 1e6,  # down: stored digits never overstate it
        confidence=confidence,
        delta=delta,
        claimed_epsilon=claimed_epsilon,
        verdict="claim contradicted" if contradicted else "claim not contradicted",
        canaries=m,
        canaries_included=int(included.sum()),
        canary_source=canary_source,  # type: ignore[arg-type]
        guesses=bound.guesses,
        guesses_in=bound.guesses_in,
        guesses_out=bound.guesses_out,
        correct=bound.correct,
        guess_grid=list(bound.grid),
        per_test_level=bound.level,
        estimator=type(model).__name__,
        training_records=len(X_train),
        score=score_text,
        method=METHOD,
    )


def _template(spec: PrivacyAuditSpec, target: Target) -> Any:
    if spec.estimator is not None:
        from compliance_mia.estimators import estimator_from_spec

        return estimator_from_spec(spec.estimator)
    template = target.estimator_template()
    if template is None:
        raise PolicyError(
            Problem(
                "the assessed model cannot be copied (not a scikit-learn artifact), so its training cannot be "
                "repeated; name the recipe to audit under privacy_audit.estimator (class, params)",
                field="privacy_audit.estimator",
            )
        )
    return template


def run_privacy_audit(spec: PrivacyAuditSpec, *, target: Target, data: AuditData, seed: int) -> PrivacyAudit:
    """The policy's one-run audit: canaries from the audit data, the recipe trained on members + canaries."""
    import pandas as pd

    template = _template(spec, target)
    members = data.members
    if spec.canary_source == "synthetic":
        pool = pd.concat([members.X, data.non_members.X], ignore_index=True)
        classes = np.unique(np.asarray(members.y).astype(str))
        labels = {str(v): v for v in np.asarray(members.y).tolist()}
        canary_X, canary_y = synthetic_canaries(spec.canaries, pool=pool, classes=classes, seed=seed)
        canary_y = np.asarray([labels[str(v)] for v in canary_y.tolist()])
    else:
        source = data.population if data.population is not None else data.non_members
        canary_X, canary_y = population_canaries(
            spec.canaries,
            X=source.X,
            y=source.y,
            seed=seed,
            source="population" if data.population is not None else "non-members",
        )
    log.info("privacy audit: %d canaries, training %s once", spec.canaries, type(template).__name__)
    return audit_estimator(
        template,
        members.X,
        members.y,
        canary_X,
        canary_y,
        seed=seed,
        claimed_epsilon=spec.claimed_epsilon,
        delta=spec.delta,
        confidence=spec.confidence,
        guesses=spec.guesses,
        canary_source=spec.canary_source,
    )

"""A learned combination of the suite's per-record signals, trained on reference models only.

Each attack of the suite reads one statistic of a record: its loss (φ, the
logit-scaled confidence), its loss calibrated by reference models
(calibrated loss), its z-score against the OUT references (LiRA offline),
its log-probability against the references' mean probability (BASE / RMIA's
ratio). Which of them separates members best, and how to weigh them,
depends on the model. This attack learns the weights with a logistic
regression whose training data come from the attacker's *own* reference
models, whose training sets she chose and therefore knows:

* **Leave one reference out.** Reference model k plays the target. Its
  population records are labelled member / non-member by whether k trained
  on them (``population_in[k]``); their features are computed from model
  k's outputs against the *other* reference models that did not train on
  the record (the offline view). Every reference model takes the role once,
  so the regression sees K × (population size) labelled rows.
* **Apply.** The fitted regression scores the audit records with the
  deployed model's outputs against all K offline references (none trained on
  an audit record). The score is the regression's log-odds.

The audit records' membership is never read: it is not in the attack
context, and the regression is fitted before the audit records are touched.

Features (all from exposed outputs of the true label; probabilities clipped
at the outputs' resolution, see :func:`~._signals.resolution_clip`):

1. φ of the (pseudo-)target (what the loss attack thresholds);
2. mean φ over the OUT references (the record's difficulty; with 1. the
   regression can form the calibrated loss);
3. LiRA offline's −log p-value of φ against the OUT references (one pooled σ);
4. log p of the (pseudo-)target and 5. log of the OUT references' mean p
   (with 4. the regression forms BASE's log p − c·log p̄ for any c);
6. log(½·mean p + ½), RMIA's Pr(x) at a = 0;
7. φ minus its non-member median given the record, predicted by QMIA's
   regression (a gradient-boosted quantile regressor from the record's
   features and label to φ). For the deployed model it is fitted on the
   population records and scores the audit records (ids checked disjoint);
   for pseudo-target k it is fitted on k's non-members among the population
   and cross-fitted over two folds, so no row is scored by a regressor that
   was fitted on it.

The online variant (:class:`CombinedOnline`) uses LiRA online's and RMIA
online's statistics instead and no regression feature; its pseudo-targets
learn from population *and* audit records (reference model k's IN/OUT split
of both is the attacker's own choice), so it also works when online
reference models train on halves of the audit records only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._signals import (
    MIN_STD,
    logit_confidence,
    masked_mean,
    masked_var,
    reference_matrix,
    resolution_clip,
    true_probability,
)
from compliance_mia.attacks._workers import fit_workers, run_fits
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.attacks.qmia import check_disjoint, encode_features, fit_quantile
from compliance_mia.exposure import Outputs, Signal
from compliance_mia.seeding import int_seed, rng

if TYPE_CHECKING:
    from compliance_mia.reference import ExposedReferences

FEATURES = (
    "phi",
    "mean_phi_out",
    "lira_offline",
    "log_p",
    "log_mean_p_out",
    "log_rmia_prior",
    "phi_above_nonmember_median",
)
#: boosting iterations of the non-member median regressors (QMIA's idea, one quantile)
MEDIAN_ITER = 100
#: inverse regularisation strength of the logistic regression (on standardised features)
C_REG = 1.0


def signal_features(
    phi_t: np.ndarray,
    p_t: np.ndarray,
    phi_refs: np.ndarray,
    p_refs: np.ndarray,
    out: np.ndarray,
    *,
    clip: float,
    std: float,
) -> np.ndarray:
    """Feature matrix (n, len(FEATURES)) of one (pseudo-)target against its OUT references.

    ``phi_refs`` / ``p_refs`` have shape (K, n); ``out`` marks the
    references that did not train on each record (at least one per record);
    ``std`` is the pooled within-record σ of φ over OUT references (one
    number, the same for training rows and audit records).
    """
    mean_phi = masked_mean(phi_refs, out)
    from scipy.stats import norm

    lira = -norm.logsf(phi_t, loc=mean_phi, scale=max(std, MIN_STD))
    mean_p = masked_mean(p_refs, out)
    log_p = np.log(np.maximum(p_t, clip))
    log_mean_p = np.log(np.maximum(mean_p, clip))
    log_rmia_prior = np.log(0.5 * mean_p + 0.5)  # RMIA's Pr(x) at a = 0
    return np.column_stack([phi_t, mean_phi, lira, log_p, log_mean_p, log_rmia_prior])


def cross_fitted_median(
    features: np.ndarray, phi: np.ndarray, non_member: np.ndarray, folds: np.ndarray, seed: int
) -> np.ndarray:
    """Predicted non-member median of ``phi`` for every row, never from a regressor fitted on it.

    Two folds: the regressor fitted on one fold's non-member rows predicts
    the other fold's rows (QMIA's regression, cross-fitted so that a
    pseudo-target's own non-members are scored by a regressor that did not
    see them).
    """
    median = np.zeros(len(phi))
    for fold in (False, True):
        fit_rows = (folds == fold) & non_member
        scored = folds != fold
        model = fit_quantile(features[fit_rows], phi[fit_rows], 0.5, seed, max_iter=MEDIAN_ITER)
        median[scored] = model.predict(features[scored])
    return median


def _target_median(features: np.ndarray, phi: np.ndarray, seed: int, scored: np.ndarray) -> np.ndarray:
    """The deployed model's non-member median of φ: fitted on every population record, predicted for ``scored``."""
    return fit_quantile(features, phi, 0.5, seed, max_iter=MEDIAN_ITER).predict(scored)


def pseudo_target_references(k: int, count: int) -> np.ndarray:
    """References that may serve when model k plays the target: all but k and its pair partner.

    Reference models come in complementary pairs (2j, 2j + 1). Model k's
    partner trained on exactly the records k did not, so keeping it would
    give k's non-members one OUT reference fewer than its members, and the
    regression would learn that count instead of the signals. Without it,
    every other pair contributes exactly one OUT reference to every record.
    """
    partner = k ^ 1
    return np.array([j for j in range(count) if j != k and j != partner], dtype=int)


def _too_few(ctx: AttackContext, refs, mode: str) -> AttackResult:
    """With too few reference models to hold one out, fall back to BASE's score.

    Offline: log p − c·log mean p with the BASE authors' c = 0.7; online:
    c = 1 (RMIA online's log ratio). The parameters say so.
    """
    from compliance_mia.attacks.bayes import DEFAULT_C, base_scores

    p_target = true_probability(ctx.target, ctx.y_index)
    p_refs = reference_matrix(refs, ctx.y_index, true_probability)
    floor = resolution_clip([p_target, p_refs])
    c = DEFAULT_C if mode == "offline" else 1.0
    needed = 3 if mode == "offline" else 4
    return AttackResult(
        scores=base_scores(p_target, p_refs, c, floor=floor),
        parameters={
            "attack_training_records": "none (too few reference models to learn weights: "
            f"{refs.count} < {needed}; BASE's score used instead)",
            "scored_records": "audit records",
            "fallback": f"log p − {c}·log mean_k p_k (BASE)",
        },
        reference_mode=mode,
        reference_models=refs.count,
    )


@register
class CombinedOffline(Attack):
    spec = AttackSpec(
        name="combined-offline",
        title="Learned combination of signals (offline)",
        family="reference",
        summary="Weighs the loss, reference-calibrated and likelihood-ratio signals of each record "
        "with weights learned on the attacker's own reference models, whose members she knows.",
        signal="loss, LiRA and BASE/RMIA statistics of the true label, weighted by a logistic "
        "regression trained on reference models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="offline",
        cost="medium",
        needs_population=True,
        citation="Combination of Carlini et al. (IEEE S&P 2022), Zarifzadeh et al. (ICML 2024) "
        "and Lassila et al. (NeurIPS 2025) statistics by a leave-one-reference-out "
        "logistic regression (compliance-mia)",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None and ctx.population_y_index is not None
        refs = ctx.references("offline")
        if refs.count < 3:
            return _too_few(ctx, refs, "offline")
        y_pop = ctx.population_y_index
        s = _ReferenceSignals.of(ctx, refs)
        p_pop, p_aud, p_target, clip, phi = s.p_pop, s.p_aud, s.p_target, s.clip, s.phi
        phi_pop, phi_aud, population_in = s.phi_pop, s.phi_aud, s.population_in
        # pooled within-record σ of φ over OUT references, from the population records
        std = _pooled_std(phi_pop, ~population_in)

        # QMIA's non-member median of φ given the record (features and label), learned
        # from population records; the target's regressor never scores a record it was
        # fitted on (ids checked), the pseudo-targets' regressors are cross-fitted
        check_disjoint(ctx.population_ids, ctx.audit_ids)
        pop_features, audit_X = encode_features(ctx.population_X, y_pop, ctx.audit_X, ctx.y_index, ctx.n_classes)
        seed = int_seed(ctx.seed, "combined-offline")
        folds = rng(ctx.seed, "combined-offline", "folds").integers(0, 2, len(y_pop)).astype(bool)

        # every regressor is independent and seeded: fit them side by side (attacks/_workers.py)
        pseudo_targets = [k for k in range(refs.count) if len(pseudo_target_references(k, refs.count))]
        assert ctx.population_target is not None
        target_phi_pop = phi(ctx.population_target, y_pop)
        medians = run_fits(
            [
                *[
                    (
                        cross_fitted_median,
                        (pop_features, phi_pop[k], ~population_in[k], folds, int_seed(seed, "median", k)),
                    )
                    for k in pseudo_targets
                ],
                (_target_median, (pop_features, target_phi_pop, seed, audit_X)),
            ],
            workers=fit_workers(ctx.settings),
            rows=len(pop_features),
        )
        target_median = medians.pop()
        rows, labels = [], []
        for k, median in zip(pseudo_targets, medians, strict=True):
            others = pseudo_target_references(k, refs.count)
            out = ~population_in[others]
            usable = out.any(axis=0)  # a record with no OUT reference left gives no row
            features = signal_features(
                phi_pop[k, usable],
                p_pop[k, usable],
                phi_pop[others][:, usable],
                p_pop[others][:, usable],
                out[:, usable],
                clip=clip,
                std=std,
            )
            rows.append(np.column_stack([features, phi_pop[k, usable] - median[usable]]))
            labels.append(population_in[k, usable])
        if not rows:
            raise ValueError("combined-offline needs at least three reference models")
        X_train, y_train = np.vstack(rows), np.concatenate(labels)
        if y_train.all() or not y_train.any():
            raise ValueError("the reference models' population records are all IN or all OUT")
        model = _weighing_model()
        model.fit(X_train, y_train)

        phi_target = phi(ctx.target, ctx.y_index)
        audit_features = signal_features(
            phi_target,
            p_target,
            phi_aud,
            p_aud,
            np.ones_like(p_aud, dtype=bool),
            clip=clip,
            std=std,
        )
        audit_features = np.column_stack([audit_features, phi_target - target_median])
        scores = model.decision_function(audit_features)
        weights = model[-1].coef_[0] / model[0].scale_
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": f"{len(y_train)} rows: population records of each "
                "reference model, labelled by whether that model trained on them "
                "(leave one reference out)",
                "scored_records": "audit records",
                "features": list(FEATURES),
                "weights": {n: round(float(w), 4) for n, w in zip(FEATURES, weights, strict=True)},
                "regularisation_C": C_REG,
                "probability_clip": clip,
                "nonmember_median": "HistGradientBoostingRegressor (quantile 0.5) fitted on "
                "population records: the deployed model's outputs for the audit records "
                "(population and audit ids checked disjoint), each reference model's for its "
                "pseudo-members, cross-fitted over two folds",
            },
            reference_mode="offline",
            reference_models=refs.count,
        )


ONLINE_FEATURES = (
    "phi",
    "mean_phi_in",
    "mean_phi_out",
    "lira_online",
    "log_p",
    "log_mean_p_in",
    "log_mean_p_out",
    "log_mean_p_all",
)


def online_features(
    phi_t: np.ndarray,
    p_t: np.ndarray,
    phi_refs: np.ndarray,
    p_refs: np.ndarray,
    is_in: np.ndarray,
    *,
    clip: float,
    std_in: float,
    std_out: float,
) -> np.ndarray:
    """Feature matrix (n, len(ONLINE_FEATURES)) against IN and OUT references.

    ``is_in`` (K, n) marks the references that trained on each record (every
    record needs at least one IN and one OUT reference); ``std_in`` and
    ``std_out`` are pooled σ of φ (the same numbers for training rows and
    audit records). ``log_mean_p_all`` is RMIA online's log Pr(x); with
    ``log_p`` it forms BASE / RMIA online's log ratio.
    """
    mean_in, mean_out = masked_mean(phi_refs, is_in), masked_mean(phi_refs, ~is_in)
    from scipy.stats import norm

    lira = norm.logpdf(phi_t, mean_in, max(std_in, MIN_STD)) - norm.logpdf(phi_t, mean_out, max(std_out, MIN_STD))

    def log_mean(mask):
        return np.log(np.maximum(masked_mean(p_refs, mask), clip))

    return np.column_stack(
        [
            phi_t,
            mean_in,
            mean_out,
            lira,
            np.log(np.maximum(p_t, clip)),
            log_mean(is_in),
            log_mean(~is_in),
            np.log(np.maximum(p_refs.mean(axis=0), clip)),
        ]
    )


@dataclass(frozen=True)
class _ReferenceSignals:
    """p(y|x) and logit-scaled φ of the target and every reference model, computed once per run.

    Both combined attacks read the same statistics; φ is clipped at the
    resolution of all these outputs together so target and references share it.
    """

    p_pop: np.ndarray  #: (K, m) reference models on the population records
    p_aud: np.ndarray  #: (K, n) reference models on the audit records
    p_target: np.ndarray  #: (n,) the target on the audit records
    clip: float
    phi_pop: np.ndarray
    phi_aud: np.ndarray
    population_in: np.ndarray  #: (K, m) which reference model trained on which population record

    def phi(self, outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
        return logit_confidence(outputs, y_index, clip=self.clip)

    @classmethod
    def of(cls, ctx: AttackContext, refs: ExposedReferences) -> _ReferenceSignals:
        assert ctx.population_y_index is not None
        y_pop = ctx.population_y_index
        p_pop = reference_matrix(refs, y_pop, true_probability, on="population")
        p_aud = reference_matrix(refs, ctx.y_index, true_probability)
        p_target = true_probability(ctx.target, ctx.y_index)
        clip = resolution_clip([p_pop, p_aud, p_target])

        def phi(outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
            return logit_confidence(outputs, y_index, clip=clip)

        return cls(
            p_pop=p_pop,
            p_aud=p_aud,
            p_target=p_target,
            clip=clip,
            phi_pop=reference_matrix(refs, y_pop, phi, on="population"),
            phi_aud=reference_matrix(refs, ctx.y_index, phi),
            population_in=np.asarray(refs.population_in, dtype=bool),
        )


def _pooled_std(values: np.ndarray, mask: np.ndarray) -> float:
    enough = mask.sum(axis=0) >= 2
    if not enough.any():
        return MIN_STD
    return float(np.sqrt(np.mean(masked_var(values, mask)[enough])))


@register
class CombinedOnline(Attack):
    spec = AttackSpec(
        name="combined-online",
        title="Learned combination of signals (online)",
        family="reference",
        summary="Weighs LiRA's and RMIA's online statistics of each record with weights learned on "
        "the attacker's own reference models, some of which trained on the record.",
        signal="LiRA online and BASE/RMIA online statistics of the true label, weighted by a "
        "logistic regression trained on reference models",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode="online",
        cost="high",
        needs_population=True,
        citation="Combination of Carlini et al. (IEEE S&P 2022), Zarifzadeh et al. (ICML 2024) "
        "and Lassila et al. (NeurIPS 2025) statistics by a leave-one-reference-out "
        "logistic regression (compliance-mia)",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None and ctx.population_y_index is not None
        refs = ctx.references("online")
        if refs.count < 4:
            return _too_few(ctx, refs, "online")
        s = _ReferenceSignals.of(ctx, refs)
        p_pop, p_aud, p_target, clip, phi = s.p_pop, s.p_aud, s.p_target, s.clip, s.phi
        phi_pop, phi_aud, population_in = s.phi_pop, s.phi_aud, s.population_in
        audit_in = np.asarray(refs.audit_in, dtype=bool)
        std_in = _pooled_std(phi_pop, population_in)
        std_out = _pooled_std(phi_pop, ~population_in)

        # pseudo-targets learn from every record the attacker's own models split into IN and OUT:
        # population records and audit records alike (reference model k's membership is her
        # choice; the *target's* membership of the audit records is never read)
        phi_pool = np.hstack([phi_pop, phi_aud])
        p_pool = np.hstack([p_pop, p_aud])
        pool_in = np.hstack([population_in, audit_in])
        if not population_in.any():  # online_pool: audit, population records are OUT everywhere
            std_in, std_out = _pooled_std(phi_aud, audit_in), _pooled_std(phi_aud, ~audit_in)
        rows, labels = [], []
        for k in range(refs.count):
            others = pseudo_target_references(k, refs.count)
            is_in = pool_in[others]
            usable = is_in.any(axis=0) & (~is_in).any(axis=0)
            if not usable.any():
                continue
            rows.append(
                online_features(
                    phi_pool[k, usable],
                    p_pool[k, usable],
                    phi_pool[others][:, usable],
                    p_pool[others][:, usable],
                    is_in[:, usable],
                    clip=clip,
                    std_in=std_in,
                    std_out=std_out,
                )
            )
            labels.append(pool_in[k, usable])
        if not rows:
            raise ValueError("no population record has both IN and OUT references to learn from")
        X_train, y_train = np.vstack(rows), np.concatenate(labels)
        model = _weighing_model()
        model.fit(X_train, y_train)

        usable = audit_in.any(axis=0) & (~audit_in).any(axis=0)
        features = online_features(
            phi(ctx.target, ctx.y_index),
            p_target,
            phi_aud,
            p_aud,
            audit_in,
            clip=clip,
            std_in=std_in,
            std_out=std_out,
        )
        features = np.where(usable[:, None], features, np.nan_to_num(features))
        scores = model.decision_function(features)
        weights = model[-1].coef_[0] / model[0].scale_
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": f"{len(y_train)} rows: population and audit records of "
                "each reference model, labelled by whether that model trained on them (leave one "
                "reference out; the target's membership of the audit records is never read)",
                "scored_records": "audit records",
                "features": list(ONLINE_FEATURES),
                "weights": {n: round(float(w), 4) for n, w in zip(ONLINE_FEATURES, weights, strict=True)},
                "regularisation_C": C_REG,
                "probability_clip": clip,
                "records_without_in_and_out_references": int((~usable).sum()),
            },
            reference_mode="online",
            reference_models=refs.count,
        )


def _weighing_model():
    """The logistic regression that weighs the signals (scikit-learn imported only when an attack runs)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C_REG, max_iter=1000))

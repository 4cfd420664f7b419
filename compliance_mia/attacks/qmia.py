"""QMIA: membership inference by quantile regression (Bertran et al., NeurIPS 2023).

Reference-free. The attacker fits, on her *population* records only (records
the deployed model never saw), a regressor from a record (its features and
its label) to quantiles of the deployed model's exposed score on that
record, the logit-scaled confidence φ = log p(y|x) − log Σ_{y'≠y} p(y'|x).
Because the population records are non-members, the fitted quantiles
describe what φ looks like for a *non-member like x*: a record whose φ is far
above its predicted upper quantile is suspicious. This replaces the per-record
OUT distribution LiRA obtains from reference models with one regression
model, so no model of the target's architecture is trained.

Score of an audit record x: (φ(x) − q̂_{0.5}(x)) / (q̂_{1−α}(x) − q̂_{0.5}(x)),
how many "upper half-widths" φ lies above the typical non-member value. At
level 1 the record sits on the predicted (1−α) quantile, so thresholding the
score at 1 is the paper's test at false-positive rate α; other thresholds
rank records for every FPR with one pair of regressors (the paper fits one
regressor per FPR, or a Gaussian per record). The half-width is floored
(:data:`MIN_SPREAD`) so records whose non-member quantiles coincide (a tree
that gives p = 1 to every such record) do not divide by zero.

**Never scoring a training row.** The regressors are fitted on the population
records and score only the audit records. The attack checks this by record
id and refuses to run when the two overlap: scoring the records a quantile
regressor was fitted on inflates low-FPR figures several-fold (its quantiles
are too tight on its own training rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._signals import logit_confidence, resolution_clip, true_probability
from compliance_mia.attacks._workers import fit_workers, run_fits
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Signal
from compliance_mia.seeding import int_seed

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor

#: the upper quantile level: the test at threshold 1 has false-positive rate ALPHA
ALPHA = 0.05
#: smallest half-width (q_{1−α} − q_{0.5}) the score divides by, in units of φ
MIN_SPREAD = 0.1
#: boosting iterations of each quantile regressor (no early stopping: deterministic, no
#: validation split drawn from the population)
MAX_ITER = 150
MAX_LEAF_NODES = 15


class OverlapError(ValueError):
    """The records a model was fitted on include records it is asked to score."""


def check_disjoint(fitted_ids: np.ndarray | None, scored_ids: np.ndarray) -> None:
    """Refuse when any scored record id is among the fitted record ids (or ids are unknown)."""
    if fitted_ids is None:
        raise OverlapError(
            "the population records' ids are unknown, so it cannot be checked that the "
            "quantile regressor never scores a record it was fitted on"
        )
    shared = np.intersect1d(np.asarray(fitted_ids).astype(str), np.asarray(scored_ids).astype(str))
    if len(shared):
        raise OverlapError(
            f"{len(shared)} scored records are among the records the quantile regressor is "
            f"fitted on (e.g. {', '.join(map(str, shared[:3]))}); scoring them would overstate "
            "the attack"
        )


def encode_features(
    fit_X: pd.DataFrame, fit_y: np.ndarray, X: pd.DataFrame, y: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Numeric matrices for the regressor: numeric columns as they are, other columns as
    codes learned from the fitting records only (unseen values → NaN), plus the label one-hot.
    """
    import pandas as pd

    def encode(frame: pd.DataFrame, labels: np.ndarray, categories: dict) -> np.ndarray:
        columns = []
        for name in frame.columns:
            column = frame[name]
            if name in categories:
                lookup = {value: float(i) for i, value in enumerate(categories[name])}
                columns.append(column.astype(object).map(lookup).to_numpy(dtype=float))
            else:
                columns.append(pd.to_numeric(column, errors="coerce").to_numpy(dtype=float))
        onehot = np.zeros((len(frame), n_classes))
        valid = labels >= 0
        onehot[np.flatnonzero(valid), labels[valid]] = 1.0
        return np.column_stack([*columns, onehot]) if columns else onehot

    categories = {
        name: pd.unique(fit_X[name].astype(object))
        for name in fit_X.columns
        if not pd.api.types.is_numeric_dtype(fit_X[name])
    }
    return encode(fit_X, fit_y, categories), encode(X, y, categories)


def fit_quantile(
    features: np.ndarray, target: np.ndarray, quantile: float, seed: int, *, max_iter: int = MAX_ITER
) -> HistGradientBoostingRegressor:
    """A gradient-boosted regressor of the ``quantile`` of ``target`` given ``features``."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        loss="quantile",
        quantile=quantile,
        max_iter=max_iter,
        max_leaf_nodes=MAX_LEAF_NODES,
        learning_rate=0.1,
        early_stopping=False,
        random_state=seed,
    )
    return model.fit(features, target)


def _quantile_task(
    features: np.ndarray, target: np.ndarray, quantile: float, seed: int, scored: np.ndarray
) -> np.ndarray:
    """The ``quantile`` regressor's predictions for ``scored`` (a unit of work for run_fits)."""
    return fit_quantile(features, target, quantile, seed).predict(scored)


def quantile_scores(
    phi: np.ndarray, median: np.ndarray, upper: np.ndarray, *, min_spread: float = MIN_SPREAD
) -> np.ndarray:
    """(φ − q_{0.5}) / max(q_{1−α} − q_{0.5}, min_spread)."""
    return (phi - median) / np.maximum(upper - median, min_spread)


@register
class QuantileRegression(Attack):
    spec = AttackSpec(
        name="qmia",
        title="Quantile-regression MIA",
        family="threshold",  # a per-record threshold on one exposed score, learned on the population
        summary="Learns from records the model never saw how confident the model typically is on "
        "a record like each one, and flags records on which it is far more confident than that.",
        signal="logit-scaled confidence of the true label against its predicted non-member quantiles",
        requires=frozenset({Signal.TRUE_CLASS_SCORE}),
        reference_mode=None,
        cost="medium",
        needs_population=True,
        citation="Bertran et al., Scalable Membership Inference Attacks via Quantile Regression, NeurIPS 2023",
        record_seconds=2e-5,
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        if ctx.population_target is None or ctx.population_X is None:
            raise ValueError("qmia needs the attacker's population records and the target's outputs on them")
        check_disjoint(ctx.population_ids, ctx.audit_ids)
        y_pop = ctx.population_y_index
        clip = resolution_clip(
            [true_probability(ctx.population_target, y_pop), true_probability(ctx.target, ctx.y_index)]
        )
        phi_pop = logit_confidence(ctx.population_target, y_pop, clip=clip)
        phi = logit_confidence(ctx.target, ctx.y_index, clip=clip)
        fit_features, features = encode_features(ctx.population_X, y_pop, ctx.audit_X, ctx.y_index, ctx.n_classes)
        seed = int_seed(ctx.seed, "qmia")
        median, upper = run_fits(
            [(_quantile_task, (fit_features, phi_pop, q, seed, features)) for q in (0.5, 1.0 - ALPHA)],
            workers=fit_workers(ctx.settings),
            rows=len(fit_features),
        )
        scores = quantile_scores(phi, median, upper)
        return AttackResult(
            scores=scores,
            parameters={
                "attack_training_records": f"{len(phi_pop)} population records (the target's "
                "outputs on them; checked disjoint from the scored records by id)",
                "scored_records": "audit records",
                "signal": "logit-scaled confidence φ = log p(y|x) − log Σ p(other classes)",
                "regressor": f"HistGradientBoostingRegressor, quantile loss, {MAX_ITER} "
                f"iterations, {MAX_LEAF_NODES} leaves",
                "quantiles": [0.5, 1.0 - ALPHA],
                "score": "(φ − q0.5) / max(q(1−α) − q0.5, min_spread)",
                "min_spread": MIN_SPREAD,
                "probability_clip": clip,
            },
        )

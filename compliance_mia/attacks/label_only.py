"""Attacks that need only the predicted label (they survive confidence masking).

Rounding or hiding probabilities does not stop these: an attacker who only
sees labels still learns which records the model gets right, and training
records are got right more often. Sending slightly perturbed copies of a
record shows more: the model's label is more *stable* around records it was
trained on (Choquette-Choo et al. 2021).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._perturb import Perturber
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.exposure import Outputs, Signal
from compliance_mia.seeding import rng

if TYPE_CHECKING:
    import pandas as pd

#: most perturbed rows sent in one query batch (bounds memory, not results)
BATCH_ROWS = 50_000
#: population records whose robustness calibrates the uncalibrated attack's per-class baseline
CALIBRATION_RECORDS = 500

LABEL_ONLY_CITATION = "Choquette-Choo et al., Label-Only Membership Inference Attacks, ICML 2021"


@register
class GapAttack(Attack):
    spec = AttackSpec(
        name="gap",
        title="Gap (label-only)",
        family="label-only",
        summary="Guesses 'member' whenever the model predicts the record's label correctly.",
        signal="whether the predicted label is correct",
        requires=frozenset({Signal.LABEL}),
        cost="low",
        citation="Yeom et al. 2018; Choquette-Choo et al., Label-Only Membership Inference, ICML "
        "2021",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        return AttackResult(
            scores=ctx.target.correct(ctx.y_index).astype(float),
            parameters={
                "attack_training_records": "none (a fixed rule)",
                "scored_records": "audit records",
            },
        )


def _correct(outputs: Outputs, y_index: np.ndarray) -> np.ndarray:
    return outputs.correct(y_index)


def query_workers(n_jobs: int, backend: str, models: int) -> int:
    """Threads that query models at once: the reference models' ``n_jobs``, at most one per model.

    Perturbed queries go to models held in this process (the target and the
    fitted reference models), so they run in threads rather than in the
    reference-training backend's processes or cluster: shipping every fitted
    model to a worker for each batch would cost more than the prediction, and
    scikit-learn's tree and linear predictions release the GIL. ``sequential``
    keeps one thread.
    """
    if backend == "sequential":
        return 1
    cores = os.cpu_count() or 1
    wanted = cores if n_jobs is None or n_jobs < 0 else max(1, n_jobs)
    return max(1, min(wanted, models))


def robustness(
    X: pd.DataFrame,
    y_index: np.ndarray,
    models: list[Callable[[pd.DataFrame, np.ndarray], Outputs]],
    *,
    perturber: Perturber,
    copies: int,
    seed: int,
    stream: str,
    workers: int = 1,
) -> np.ndarray:
    """Share of ``copies`` perturbed queries each model labels correctly, shape (len(models), n).

    Every model is queried with the *same* perturbed inputs (drawn once per
    batch from the stream ``stream``), so differences between models are not
    noise from different perturbations.

    The models of a batch are queried in ``workers`` threads at once, while
    this thread draws the next batch's perturbations. Each model still sees
    its batches one after the other, in order (a deployed API's query count
    and budget advance exactly as before), and every result lands in its own
    row and columns, so the figures do not depend on ``workers``.
    """
    n = len(X)
    out = np.zeros((len(models), n))
    per_batch = max(1, BATCH_ROWS // copies)
    starts = list(range(0, n, per_batch))

    def perturbed(batch: int) -> tuple[int, int, pd.DataFrame, np.ndarray]:
        start = starts[batch]
        stop = min(n, start + per_batch)
        gen = rng(seed, "label-only", stream, batch)
        return start, stop, perturber.perturb(X.iloc[start:stop], copies, gen), np.repeat(y_index[start:stop], copies)

    def answer(m: int, start: int, stop: int, noisy: pd.DataFrame, y_rep: np.ndarray) -> None:
        correct = _correct(models[m](noisy, y_rep), y_rep).reshape(stop - start, copies)
        out[m, start:stop] = correct.mean(axis=1)

    if not starts:
        return out
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="label-only") as pool:
        current = perturbed(0)
        for batch in range(len(starts)):
            start, stop, noisy, y_rep = current
            futures = [pool.submit(answer, m, start, stop, noisy, y_rep) for m in range(len(models))]
            if batch + 1 < len(starts):
                current = perturbed(batch + 1)  # drawn here while the threads query this batch
            for future in futures:
                future.result()  # re-raises a model's error (e.g. an exhausted query budget)
    return out


def _workers(ctx: AttackContext, models: int) -> int:
    spec = ctx.settings.reference_models
    return query_workers(spec.n_jobs, spec.backend, models)


def target_query(ctx: AttackContext) -> Callable[[pd.DataFrame, np.ndarray], Outputs]:
    assert ctx.query_target is not None
    query = ctx.query_target
    if ctx.exposure.outputs == "loss":  # the loss exposure needs the labels of the queried records
        return lambda X, y: query(X, y)  # type: ignore[call-arg]
    return lambda X, y: query(X)


def fit_perturber(ctx: AttackContext, noise: float) -> Perturber:
    """A perturber fitted on the attacker's population records (the audit records if there are none)."""
    background = (
        ctx.population_X if ctx.population_X is not None and len(ctx.population_X) else ctx.audit_X
    )
    return Perturber.fit(background, noise=noise)


def _perturber(ctx: AttackContext) -> Perturber:
    return fit_perturber(ctx, ctx.settings.label_only_noise)


def _common(ctx: AttackContext, perturber: Perturber) -> dict:
    return {
        "scored_records": "audit records",
        "queries_per_record": ctx.settings.label_only_queries,
        "noise": ctx.settings.label_only_noise,
        "continuous_columns": len(perturber.spreads),
        "categorical_columns": len(perturber.levels),
        "perturbation": "Gaussian noise of noise × standard deviation on continuous columns; "
        "another observed value with probability noise on categorical ones",
    }


@register
class LabelRobustness(Attack):
    spec = AttackSpec(
        name="label-robustness",
        title="Label-only robustness",
        family="label-only",
        summary="Sends slightly perturbed copies of each record and counts how often the label "
        "stays right: "
        "models are more stable around their training records.",
        signal="stability of the predicted label under small input noise",
        requires=frozenset({Signal.LABEL, Signal.ARBITRARY_QUERIES}),
        cost="medium",
        needs_population=True,
        perturbs_inputs=True,
        citation=LABEL_ONLY_CITATION,
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        perturber = _perturber(ctx)
        copies = ctx.settings.label_only_queries
        query = target_query(ctx)
        scores = robustness(
            ctx.audit_X,
            ctx.y_index,
            [query],
            perturber=perturber,
            copies=copies,
            seed=ctx.seed,
            stream="audit",
            workers=_workers(ctx, 1),
        )[0]
        queries = len(ctx.audit_X) * copies
        calibration = "none (no population records)"
        if (
            ctx.population_X is not None
            and ctx.population_y_index is not None
            and len(ctx.population_X)
        ):
            # per-class baseline: how robust the target is on records it never saw, class by class
            m = len(ctx.population_X)
            take = np.sort(
                rng(ctx.seed, "label-only", "calibration-sample").permutation(m)[
                    :CALIBRATION_RECORDS
                ]
            )
            X_pop = ctx.population_X.iloc[take].reset_index(drop=True)
            y_pop = ctx.population_y_index[take]
            base = robustness(
                X_pop,
                y_pop,
                [query],
                perturber=perturber,
                copies=copies,
                seed=ctx.seed,
                stream="population",
                workers=_workers(ctx, 1),
            )[0]
            queries += len(X_pop) * copies
            overall = float(base.mean())
            for c in np.unique(ctx.y_index):
                rows = y_pop == c
                baseline = float(base[rows].mean()) if rows.sum() >= 10 else overall
                scores = np.where(ctx.y_index == c, scores - baseline, scores)
            calibration = (
                f"per-class mean robustness of the target on {len(X_pop)} population records "
                "(subtracted; classes with fewer than 10 use the overall mean)"
            )
        parameters = {
            "attack_training_records": f"population records (calibration only): {calibration}",
            **_common(ctx, perturber),
        }
        return AttackResult(scores=scores, parameters=parameters, queries=queries)


@register
class CalibratedLabelRobustness(Attack):
    spec = AttackSpec(
        name="label-robustness-calibrated",
        title="Label-only robustness, calibrated",
        family="label-only",
        summary="As label-only robustness, but compares each record's stability with its "
        "stability under "
        "reference models that never saw it, so records that are simply easy do not look like "
        "members.",
        signal="stability of the predicted label under small input noise, relative to reference "
        "models",
        requires=frozenset({Signal.LABEL, Signal.ARBITRARY_QUERIES}),
        reference_mode="offline",
        cost="high",
        perturbs_inputs=True,
        citation=LABEL_ONLY_CITATION + "; Watson et al., ICLR 2022 (difficulty calibration)",
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("offline")
        perturber = _perturber(ctx)
        copies = ctx.settings.label_only_queries
        models = [target_query(ctx)] + [
            (lambda X, y, k=k: refs.query(k, X, y)) for k in range(refs.count)
        ]
        values = robustness(
            ctx.audit_X,
            ctx.y_index,
            models,
            perturber=perturber,
            copies=copies,
            seed=ctx.seed,
            stream="audit",
            workers=_workers(ctx, len(models)),
        )
        scores = values[0] - values[1:].mean(axis=0)
        parameters = {
            "attack_training_records": "none (reference models trained on population records only)",
            "calibration": "mean robustness of the same perturbed records under reference models "
            "that never "
            "saw them (subtracted)",
            **_common(ctx, perturber),
        }
        return AttackResult(
            scores=scores,
            parameters=parameters,
            queries=len(ctx.audit_X) * copies,
            reference_mode="offline",
            reference_models=refs.count,
        )

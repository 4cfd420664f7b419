"""Label-only decision-boundary distance for tabular models, under a query budget.

A model's decision boundary lies further from its training records than
from records it never saw (Choquette-Choo et al. 2021; Li & Zhang 2021):
so the distance from a record to the nearest input the model labels
differently is a membership signal that needs labels only. ART's
``LabelOnlyDecisionBoundary`` finds that distance with HopSkipJump, which
takes hours for a few thousand tabular records. Here the search is a
*line search*:

* **Directions.** ``boundary_directions: random`` draws unit directions at
  random in the space of the continuous columns, each column scaled by its
  standard deviation in the attacker's background data (so "distance 1"
  means one spread of every column at once); ``features`` moves one
  continuous column at a time, up or down. Categorical and few-valued
  columns (one-hot indicators among them) are held at the record's own
  value: moving a one-hot block continuously creates inputs no encoder
  produces, and flipping a category is not a distance. Integer columns are
  rounded back, as for the robustness attack.
* **Search.** Along each direction the label is read at
  :data:`MAX_DISTANCE` spreads; if it still equals the true label the
  distance is censored at :data:`MAX_DISTANCE`, otherwise a binary search
  brackets the first flip. A record the model already mislabels has
  distance 0.
* **Budget.** ``boundary_queries`` queries per record and model: one for
  the record itself, and each direction costs ``1 + steps`` queries, with as many binary-search steps
  as the budget allows (at least :data:`MIN_STEPS`, at most
  :data:`MAX_STEPS`) and the rest spent on directions.
* **Score.** The distance to the nearest flip over the directions, minus
  the mean of the same distance under offline reference models (the same
  directions and the same search on models that never saw the record:
  difficulty calibration, Watson et al. 2022), so records that are simply
  far from any boundary do not look like members.

All directions come from a seeded stream drawn once per batch of records,
and the target and every reference model answer the same queries: the
search sends, step by step, one batch of ``records × directions`` rows to
each model.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.attacks._perturb import Perturber
from compliance_mia.attacks.base import Attack, AttackContext, AttackResult, AttackSpec, register
from compliance_mia.attacks.label_only import fit_perturber, query_workers, target_query
from compliance_mia.exposure import Outputs, Signal
from compliance_mia.seeding import rng

if TYPE_CHECKING:
    import pandas as pd

#: farthest point searched, in spreads (standard deviations) of the continuous columns
MAX_DISTANCE = 2.0
#: fewest and most binary-search steps per direction (resolution MAX_DISTANCE / 2**steps)
MIN_STEPS, MAX_STEPS = 3, 6
#: most query rows sent to one model at a time (bounds memory, not results)
BATCH_ROWS = 60_000

CITATION = (
    "Choquette-Choo et al., Label-Only Membership Inference Attacks, ICML 2021; Li & Zhang, "
    "Membership Leakage in Label-Only Exposures, CCS 2021; Watson et al., ICLR 2022 "
    "(difficulty calibration)"
)

Query = Callable[["pd.DataFrame", np.ndarray], Outputs]


@dataclass(frozen=True)
class SearchPlan:
    """How the query budget is spent per record: directions × (1 + steps) queries."""

    directions: int
    steps: int

    @property
    def queries(self) -> int:
        return self.directions * (1 + self.steps)


def search_plan(budget: int, kind: str, n_columns: int) -> SearchPlan:
    """Split ``budget`` queries per record into directions and binary-search steps.

    Steps get priority up to :data:`MAX_STEPS` while at least two directions
    remain (one direction is a poor estimate of the *nearest* flip);
    ``features`` never uses more directions than the 2 × columns it has.
    """
    if budget < 1 + MIN_STEPS:
        raise ValueError(f"boundary_queries must be at least {1 + MIN_STEPS}, got {budget}")
    steps = MAX_STEPS
    while steps > MIN_STEPS and budget // (1 + steps) < 2:
        steps -= 1
    directions = max(1, budget // (1 + steps))
    if kind == "features":
        directions = min(directions, 2 * max(n_columns, 1))
    return SearchPlan(directions=directions, steps=steps)


def directions_for(
    kind: str, n_records: int, n_directions: int, n_columns: int, gen: np.random.Generator
) -> np.ndarray:
    """Unit directions in scaled column space, shape (n_records, n_directions, n_columns).

    ``random``: Gaussian draws normalised to length 1, a fresh set per
    record. ``features``: ±e_j, the columns in a random order per record
    (up before down), so a budget smaller than 2 × columns still spreads
    over different columns for different records.
    """
    if kind == "random":
        d = gen.normal(size=(n_records, n_directions, n_columns))
        norms = np.linalg.norm(d, axis=2, keepdims=True)
        return d / np.where(norms > 0, norms, 1.0)
    if kind == "features":
        out = np.zeros((n_records, n_directions, n_columns))
        for i in range(n_records):
            order = gen.permutation(n_columns)
            moves = [(c, s) for c in order for s in (1.0, -1.0)][:n_directions]
            for j, (c, s) in enumerate(moves):
                out[i, j, c] = s
        return out
    raise ValueError(f"unknown boundary direction kind '{kind}'; use random or features")


def _moved(
    X: pd.DataFrame, columns: list[str], spreads: np.ndarray, integer: frozenset[str], steps: np.ndarray
) -> pd.DataFrame:
    """Rows of ``X`` repeated once per direction and moved by ``steps`` (n, D, C) spreads."""
    n, d, _ = steps.shape
    out = X.iloc[np.repeat(np.arange(n), d)].reset_index(drop=True)
    flat = steps.reshape(n * d, -1)
    for c, column in enumerate(columns):
        values = out[column].to_numpy(dtype=float) + flat[:, c] * spreads[c]
        if column in integer and not np.isnan(values).any():
            out[column] = np.round(values).astype(out[column].dtype)
        else:
            out[column] = values
    return out


def boundary_distances(
    X: pd.DataFrame,
    y_index: np.ndarray,
    models: list[Query],
    *,
    perturber: Perturber,
    plan: SearchPlan,
    kind: str,
    seed: int,
    stream: str,
    workers: int = 1,
) -> tuple[np.ndarray, int]:
    """Distance to the first label flip along each direction, shape (len(models), n, directions).

    Returns the distances (in spreads, censored at :data:`MAX_DISTANCE`;
    0 where the model mislabels the record itself) and the number of
    queries sent to *each* model. Every model answers the same queries.
    Up to ``workers`` models are searched at once in threads; each model's
    own queries stay in order, so the figures do not depend on ``workers``.
    """
    columns = [c for c in X.columns if c in perturber.spreads and perturber.spreads[c] > 0]
    n, m = len(X), len(models)
    out = np.zeros((m, n, plan.directions))
    if not columns or n == 0:
        return out, 0
    spreads = np.array([perturber.spreads[c] for c in columns])
    per_batch = max(1, BATCH_ROWS // plan.directions)
    queries = 0
    for batch, start in enumerate(range(0, n, per_batch)):
        stop = min(n, start + per_batch)
        Xb, yb = X.iloc[start:stop].reset_index(drop=True), y_index[start:stop]
        k = stop - start
        dirs = directions_for(kind, k, plan.directions, len(columns), rng(seed, "boundary", stream, batch))
        y_rep = np.repeat(yb, plan.directions)

        def search(j: int, Xb=Xb, yb=yb, k=k, dirs=dirs, y_rep=y_rep, start=start, stop=stop) -> None:
            query = models[j]
            own = query(Xb, yb).correct(yb)  # a mislabelled record sits on the wrong side already
            far = query(_moved(Xb, columns, spreads, perturber.integer, dirs * MAX_DISTANCE), y_rep)
            flipped = ~far.correct(y_rep).reshape(k, plan.directions)
            lo = np.zeros((k, plan.directions))
            hi = np.full((k, plan.directions), MAX_DISTANCE)
            for _ in range(plan.steps):
                mid = (lo + hi) / 2
                answer = query(_moved(Xb, columns, spreads, perturber.integer, dirs * mid[..., None]), y_rep)
                flip = ~answer.correct(y_rep).reshape(k, plan.directions)
                hi = np.where(flip, mid, hi)
                lo = np.where(flip, lo, mid)
            dist = np.where(flipped, hi, MAX_DISTANCE)  # no flip within reach: censored
            out[j, start:stop] = np.where(own[:, None], dist, 0.0)

        # each model's search is its own sequence of queries: models are searched side by side
        # in threads (as label-only robustness does), every result landing in its own row
        with ThreadPoolExecutor(max_workers=max(1, min(workers, m)), thread_name_prefix="boundary") as pool:
            for future in [pool.submit(search, j) for j in range(m)]:
                future.result()  # re-raises a model's error (e.g. an exhausted query budget)
        queries += k * (1 + plan.queries)
    return out, queries


@register
class BoundaryDistance(Attack):
    spec = AttackSpec(
        name="boundary-distance",
        title="Label-only decision-boundary distance",
        family="label-only",
        summary="Moves each record step by step until the model's label changes, and compares that "
        "distance with the distance under reference models: models keep their decision boundary "
        "further from records they were trained on.",
        signal="distance to the nearest label change along a few directions, relative to reference models",
        requires=frozenset({Signal.LABEL, Signal.ARBITRARY_QUERIES}),
        reference_mode="offline",
        cost="high",
        perturbs_inputs=True,
        query_setting="boundary_queries",
        citation=CITATION,
    )

    def run(self, ctx: AttackContext) -> AttackResult:
        assert ctx.references is not None
        refs = ctx.references("offline")
        perturber = fit_perturber(ctx, noise=1.0)
        kind = ctx.settings.boundary_directions
        n_columns = sum(1 for c in ctx.audit_X.columns if perturber.spreads.get(c, 0.0) > 0)
        plan = search_plan(ctx.settings.boundary_queries - 1, kind, n_columns)  # one query: the record
        spec = ctx.settings.reference_models
        models = [target_query(ctx)] + [(lambda X, y, k=k: refs.query(k, X, y)) for k in range(refs.count)]
        distances, queries = boundary_distances(
            ctx.audit_X,
            ctx.y_index,
            models,
            perturber=perturber,
            plan=plan,
            kind=kind,
            seed=ctx.seed,
            stream="audit",
            workers=query_workers(spec.n_jobs, spec.backend, len(models)),
        )
        nearest = distances.min(axis=2)  # (models, n)
        scores = nearest[0] - nearest[1:].mean(axis=0)
        parameters = {
            "attack_training_records": "none (reference models trained on population records only)",
            "scored_records": "audit records",
            "queries_per_record": queries // max(len(ctx.audit_X), 1),
            "query_budget": ctx.settings.boundary_queries,
            "directions": plan.directions,
            "direction_kind": kind,
            "binary_search_steps": plan.steps,
            "max_distance_spreads": MAX_DISTANCE,
            "resolution_spreads": MAX_DISTANCE / 2**plan.steps,
            "moved_columns": n_columns,
            "held_columns": len(ctx.audit_X.columns) - n_columns,
            "score": "nearest label flip of the target minus its mean under reference models "
            "(in spreads of the continuous columns; censored at the maximum distance)",
        }
        if n_columns == 0:
            parameters["note"] = "no continuous column to move: every distance is 0 and the attack is at chance"
        return AttackResult(
            scores=scores,
            parameters=parameters,
            queries=queries,
            reference_mode="offline",
            reference_models=refs.count,
        )

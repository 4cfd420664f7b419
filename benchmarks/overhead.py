"""What an assessment costs beyond the models it must train (issue 13).

Runs the demo policy (Ecdat HI, random forest on 5,000 records, 8 offline
reference models, what-if with one retraining recipe) once with
:func:`~compliance_mia.runner.run_assessment` and a cold reference-model cache,
then, in the same process, the bare floor: the same reference models
(same estimator, same seeds, same halves of the same pool, trained with
joblib on the same backend and worker count) and one query of the target and
of every reference model on every audit and population record. Prints

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

Usage: python benchmarks/overhead.py [--keep DIR] [--json FILE] [--warm]
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
    """Train the same reference models and query target + references on every record; seconds."""
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

    Parallel(n_jobs=spec.n_jobs, backend=spec.backend if spec.backend in ("loky", "threading") else "loky")(
        delayed(fit_predict)(k) for k in range(spec.count)
    )
    target.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="also write the rendered report here")
    parser.add_argument("--json", type=Path, help="also write the run's assessment.json (for jsondiff.py)")
    parser.add_argument("--warm", action="store_true", help="also re-run on the warm reference cache")
    args = parser.parse_args()

    _instrument()
    from compliance_mia import report
    from compliance_mia.demo import ensure_builtin_inputs
    from compliance_mia.runner import load_policy, run_assessment

    inputs = ensure_builtin_inputs()
    policy = load_policy(inputs.policy, materialise_builtins=True)
    with tempfile.TemporaryDirectory(prefix="cmia-overhead-") as tmp:
        ref = policy.attacks.reference_models.model_copy(update={"cache_dir": Path(tmp) / "cache", "use_cache": True})
        policy = policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"reference_models": ref})})
        clock = StageClock()
        _fresh_workers()
        start = time.perf_counter()
        assessment = run_assessment(policy, policy_path=inputs.policy, progress=clock)
        clock.close()
        run_seconds = time.perf_counter() - start
        run_timers = dict(TIMERS)

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
            again = run_assessment(policy, policy_path=inputs.policy)
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
        print(f"  {run_timers.get(name, 0.0):7.2f} s  {name}  ({CALLS.get(name, 0)} calls)")
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

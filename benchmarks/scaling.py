"""Wall time and peak memory of a whole assessment as the audit grows.

Synthetic tabular data (``sklearn.datasets.make_classification``, 12
features) and the demo's kind of model (an unregularised random forest of 60
trees, which overfits and so leaks membership), written as CSV + skops like
a user's files. For each size N (members = non-members = N/2, population =
N) and each reference-model count K, one ``run_assessment`` in a fresh
process with a cold reference cache, what-if analysis off (its cost is a
multiple of the main run's), attacks ``auto``. Prints wall seconds, the
main process's peak RSS (loky workers training reference models are
separate processes, not included), and the share of the time spent training
reference models, then the slope of log(time) against log(N), and a
least-squares fit of reference-model time ∝ N^a × K^b over all rows.

Besides wall time each row reports CPU seconds (this process and its
reaped children, the loky workers included): on a shared machine wall time
swings with other people's jobs, CPU time much less.

``--workers 1 2`` instead measures the parallel speed-up of reference
training alone: ``build_reference_set`` on loky with 1 and with 2 workers
(no cache, worker pool started beforehand so start-up is not counted),
``--repeat`` paired runs, medians.

Usage: python benchmarks/scaling.py [--sizes 10000 100000] [--refs 2 8 32] [--estimator logistic]
       python benchmarks/scaling.py --workers 1 2 --sizes 10000 --refs 8 [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: the audited model: ``forest`` is the demo's kind (60 unpruned trees, overfits);
#: ``logistic`` trains in about a second on 500,000 records, so the 1,000,000-record
#: rows with 32 reference models finish on a laptop and the tool's own work is a larger share
ESTIMATORS = ("forest", "logistic")


def _model(kind: str):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if kind == "logistic":
        return LogisticRegression(max_iter=200)
    return RandomForestClassifier(n_estimators=60, random_state=0, n_jobs=1)


def _inputs(directory: Path, n: int, refs: int, estimator: str = "forest") -> Path:
    import numpy as np
    import pandas as pd
    import skops.io as sio
    import yaml
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=2 * n, n_features=12, n_informative=6, flip_y=0.05, random_state=1)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)])
    frame.insert(0, "record_id", [f"r{i}" for i in range(2 * n)])
    frame["label"] = np.where(y == 1, "yes", "no")
    half = n // 2
    members, non_members, population = frame.iloc[:half], frame.iloc[half:n], frame.iloc[n:]
    features = [f"f{i}" for i in range(12)]
    model = _model(estimator).fit(members[features], members["label"])
    for name, part in (("members", members), ("non_members", non_members), ("population", population)):
        part.to_csv(directory / f"{name}.csv", index=False)
    sio.dump(model, directory / "model.skops")
    policy = {
        "policy_version": 1,
        "system": {"name": "scaling benchmark", "owner": "bench", "assessment_type": "pre-deployment"},
        "model": {"format": "skops", "artifact": "model.skops", "classes": ["no", "yes"]},
        "data": {
            "members": "members.csv",
            "non_members": "non_members.csv",
            "population": "population.csv",
            "id_column": "record_id",
            "label_column": "label",
            "categories": ["financial"],
            "data_subjects": half,
        },
        "exposure": {"outputs": "probabilities", "access": "authenticated"},
        "seed": 1,
        "attacks": {
            "select": "auto",
            "reference_models": {"count": refs, "mode": "offline", "cache_dir": str(directory / "cache")},
        },
        "controls": {"what_if": False},
    }
    path = directory / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    return path


def _cpu_seconds() -> float:
    self_, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


def _reap_workers() -> None:
    """Stop joblib's reusable loky workers so their CPU time is counted (RUSAGE_CHILDREN)."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _one(n: int, refs: int, estimator: str) -> dict:
    import compliance_mia.runner.session as session
    from compliance_mia.runner import load_policy, run_assessment

    spent = [0.0]
    original = session.build_reference_set

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    session.build_reference_set = timed
    with tempfile.TemporaryDirectory(prefix="cmia-scaling-") as tmp:
        policy_path = _inputs(Path(tmp), n, refs, estimator)
        policy = load_policy(policy_path)
        cpu = _cpu_seconds()
        start = time.perf_counter()
        run_assessment(policy, policy_path=policy_path)
        seconds = time.perf_counter() - start
        _reap_workers()
        cpu = _cpu_seconds() - cpu
    return {
        "n": n,
        "refs": refs,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "reference_seconds": spent[0],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _warm_worker(seconds: float) -> None:
    """Import a training task's libraries in a worker, and hold it so the next task goes to another."""
    import pandas  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    import compliance_mia.reference._set  # noqa: F401

    time.sleep(seconds)


def _train_only(n: int, refs: int, workers: int) -> float:
    """Seconds for ``build_reference_set`` (loky, ``workers`` processes, no cache) on the scaling data."""
    from joblib import Parallel, delayed

    from compliance_mia.data import load_audit_data
    from compliance_mia.reference import build_reference_set
    from compliance_mia.runner import load_policy
    from compliance_mia.targets import open_target

    with tempfile.TemporaryDirectory(prefix="cmia-workers-") as tmp:
        policy = load_policy(_inputs(Path(tmp), n, refs))
        target = open_target(policy)
        spec = policy.attacks.reference_models
        data = load_audit_data(
            policy.data, seed=policy.seed, population_fraction=spec.population_fraction, need_population=True
        )
        # start the workers and let each import what a training task needs (start-up is not training)
        Parallel(n_jobs=workers, backend="loky")(delayed(_warm_worker)(0.5) for _ in range(2 * workers))
        start = time.perf_counter()
        build_reference_set(
            estimator=target.estimator_template(),
            surrogate=False,
            mode="offline",
            count=refs,
            audit=data.audit,
            population=data.population,
            classes=target.classes,
            seed=policy.seed,
            backend="loky",
            n_jobs=workers,
            use_cache=False,
        )
        return time.perf_counter() - start


def _fit(rows: list[dict], key: str) -> tuple[float, float] | None:
    """Least-squares (a, b) of log(row[key]) = c + a·log(N) + b·log(K); None without enough spread."""
    import numpy as np

    if len({r["n"] for r in rows}) < 2 or len({r["refs"] for r in rows}) < 2:
        return None
    design = np.array([[1.0, math.log(r["n"]), math.log(r["refs"])] for r in rows])
    target = np.array([math.log(r[key]) for r in rows])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return float(coef[1]), float(coef[2])


def workers_main(sizes: list[int], refs: list[int], workers: list[int], repeat: int) -> None:
    import statistics

    print(f"{'records':>9} {'refs':>5} " + " ".join(f"{w:>3} worker(s) s" for w in workers) + "  speed-up")
    for n in sizes:
        for k in refs:
            times: dict[int, list[float]] = {w: [] for w in workers}
            for _ in range(repeat):
                for w in workers:  # paired: each repetition runs every worker count in turn
                    run = subprocess.run(
                        [sys.executable, __file__, "--train-only", str(n), str(k), str(w)],
                        capture_output=True, text=True, check=True,
                    )
                    times[w].append(float(run.stdout.strip().splitlines()[-1]))
            med = {w: statistics.median(v) for w, v in times.items()}
            cells = " ".join(f"{med[w]:>15.2f}" for w in workers)
            print(f"{n:>9,} {k:>5} {cells}  {med[workers[0]] / med[workers[-1]]:.2f}×  (runs: {times})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--refs", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--workers", type=int, nargs="+", help="measure reference training with these worker counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--estimator", choices=ESTIMATORS, default="forest", help="the audited model's kind")
    parser.add_argument("--one", nargs=2, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--train-only", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(*args.one, args.estimator)))
        return
    if args.train_only:
        print(_train_only(*args.train_only))
        return
    if args.workers:
        workers_main(args.sizes, args.refs, args.workers, args.repeat)
        return
    print(
        f"{'records':>9} {'refs':>5} {'wall s':>8} {'CPU s':>8} {'references s':>13} {'other s':>8} "
        f"{'peak RSS MiB':>13}"
    )
    rows = []
    for refs in args.refs:
        for n in args.sizes:
            run = subprocess.run(
                [sys.executable, __file__, "--one", str(n), str(refs), "--estimator", args.estimator],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(run.stdout.strip().splitlines()[-1])
            rows.append(r)
            print(
                f"{n:>9,} {refs:>5} {r['seconds']:>8.1f} {r['cpu_seconds']:>8.1f} {r['reference_seconds']:>13.1f} "
                f"{r['seconds'] - r['reference_seconds']:>8.1f} {r['peak_rss_mib']:>13.0f}",
                flush=True,
            )
    for refs in args.refs:
        mine = sorted((r for r in rows if r["refs"] == refs), key=lambda r: r["n"])
        if len(mine) >= 2:
            a, b = mine[0], mine[-1]
            slope = math.log(b["seconds"] / a["seconds"]) / math.log(b["n"] / a["n"])
            print(f"{refs} reference models: time grows as N^{slope:.2f} from {a['n']:,} to {b['n']:,} records")
    fits = (
        ("reference_seconds", "reference-model time"),
        ("seconds", "wall time"),
        ("cpu_seconds", "CPU time"),
        ("peak_rss_mib", "peak memory"),
    )
    for key, what in fits:
        fit = _fit(rows, key)
        if fit is not None:
            print(f"{what} ∝ N^{fit[0]:.2f} × K^{fit[1]:.2f} (least squares over {len(rows)} rows)")


if __name__ == "__main__":
    main()

"""Time and peak memory of every per-attack figure at audit scale.

For n members and n non-members with continuous Gaussian scores (every score
distinct: the worst case for the exact ROC and the bootstrap), measures in a
fresh process per size:

* ``roc``: grouping the scores and the exact ROC;
* ``evaluate``: :func:`~compliance_mia.metrics.evaluate_attack` (AUC with its
  bootstrap interval, advantage, TPR at every FPR level with its
  threshold-adjusted Clopper-Pearson interval, the ε bound, plot points,
  histogram) with the default 1,000 resamples;
* ``slices``: :func:`~compliance_mia.metrics.slice_results` over a 2-valued
  and a 5-valued slice column (7 slices, each with its own bootstrap);
* ``records``: :func:`~compliance_mia.metrics.record_risks` (per-record risk).

Peak memory is the process's maximum resident set size (``resource``), which
includes the interpreter and numpy (about 60-80 MiB), and tracemalloc's peak
of Python and numpy allocations during the step.

Usage: python benchmarks/metrics_scale.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc


def _one(n: int) -> dict:
    import numpy as np

    from compliance_mia.metrics import StatisticsSettings, evaluate_attack, record_risks, slice_results
    from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups

    gen = np.random.default_rng(0)
    scores = np.concatenate([gen.normal(0.5, 1.0, n), gen.normal(0.0, 1.0, n)])
    is_member = np.concatenate([np.ones(n, bool), np.zeros(n, bool)])
    ids = np.arange(2 * n)
    slice_groups = {
        "class": gen.integers(0, 2, 2 * n).astype(str),
        "region": gen.integers(0, 5, 2 * n).astype(str),
    }
    settings = StatisticsSettings()
    steps = {
        "roc": lambda: roc_from_groups(ScoreGroups.build(scores, is_member)),
        "evaluate": lambda: evaluate_attack(scores, is_member, settings=settings, seed=0, stream="bench"),
        "slices": lambda: slice_results(scores, is_member, slice_groups, settings=settings, seed=0),
        "records": lambda: record_risks(scores, is_member, ids, settings=settings),
    }
    out: dict = {"n": n}
    for name, step in steps.items():
        tracemalloc.start()
        start = time.perf_counter()
        step()
        out[name] = time.perf_counter() - start
        out[name + "_traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["total"] = sum(out[k] for k in steps)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one)))
        return
    cols = ["roc", "evaluate", "slices", "records", "total"]
    header = f"{'per side':>10} " + " ".join(f"{c + ' s':>10}" for c in cols)
    print(header + f" {'peak RSS MiB':>13} {'traced MiB':>11}")
    for n in args.sizes:
        run = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        traced = max(r[c + "_traced_mib"] for c in cols[:-1])
        print(
            f"{n:>10,} " + " ".join(f"{r[c]:>10.2f}" for c in cols) + f" {r['peak_rss_mib']:>13.0f} {traced:>11.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Where an assessment's CPU time goes: training and querying models, or the tool's own work.

Issue 13 asks that an assessment cost little more than the models it must
train and query. ``overhead.py`` compares wall times with a bare floor; this
script instead samples the whole run, main process and worker processes
alike, with py-spy (100 samples per second of CPU activity, idle threads
left out) and sorts every sample by what it was doing, from its call stack:

* **training** — inside a scikit-learn ``fit`` called for the reference
  models, the what-if recipe's candidate or its reference models;
* **model queries** — inside a model's ``predict``/``predict_proba``/
  ``transform`` (the target or a reference model, on audit, population or
  perturbed records);
* **attack models** — inside a ``fit`` an attack makes of its own (QMIA's and
  the combined attack's quantile regressors, the shadow attack's classifier,
  the combined attack's logistic regression);
* **imports** — loading Python modules;
* **statistics** — ``compliance_mia.metrics`` (ROC, bootstrap, TPR bounds, ε);
* **attack arithmetic** — the rest of ``compliance_mia.attacks``;
* **data** — reading and checking the CSV files (``compliance_mia.data``);
* **other** — everything else (the runner, risk rules, joblib hand-offs);
* **native threads** — samples with no Python frame: the OpenMP or BLAS
  threads of a fit or prediction (counted apart: their caller is unknown).

Samples whose innermost frame is a blocking call (a lock, queue, socket or
``select``) are left out: py-spy's idle test misses some of them.

The first three are the models' own cost, which no implementation can avoid
once the attacks are chosen; the rest is the tool's. The run is the demo
policy with a cold reference cache, as ``overhead.py`` runs it.

Needs py-spy (``pip install py-spy``; on Linux it reads other processes'
memory, which may need root or ``kernel.yama.ptrace_scope = 0``).

Usage: python benchmarks/cpu_breakdown.py [--rate 100] [--stacks FILE] [--policy POLICY.yaml]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

DRIVER = """
import sys, tempfile
from pathlib import Path
from compliance_mia.runner import load_policy, run_assessment
from compliance_mia.demo import ensure_builtin_inputs

path = Path(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else ensure_builtin_inputs().policy
policy = load_policy(path, materialise_builtins=True)
with tempfile.TemporaryDirectory(prefix="cmia-breakdown-") as tmp:
    ref = policy.attacks.reference_models.model_copy(update={"cache_dir": Path(tmp) / "cache", "use_cache": True})
    policy = policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"reference_models": ref})})
    run_assessment(policy, policy_path=path)
"""

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
MODEL_PACKAGES = ("sklearn/", "skops/", "onnxruntime/", "xgboost/", "lightgbm/")
FIT = re.compile(r"^(_?fit\w*|_fit_and_score|partial_fit)$")
QUERY = re.compile(r"^(predict\w*|decision_function|transform|score_samples|_transform\w*|run)$")  # run: onnxruntime
ORDER = (
    "training",
    "model queries",
    "attack models",
    "imports",
    "statistics",
    "attack arithmetic",
    "data",
    "other",
    "native threads",
)


def _frames(stack: str) -> list[tuple[str, str]]:
    out = []
    for part in stack.split(";"):
        match = FRAME.match(part)
        if match:
            out.append((match["func"].rsplit(".", 1)[-1], match["file"]))  # "Pipeline.predict" → "predict"
    return out


#: innermost functions of a thread that is blocked, not computing (py-spy's idle test misses some)
WAITING = frozenset({"wait", "select", "acquire", "_recv", "recv", "recv_bytes", "get", "poll", "_poll", "sleep"})


def classify(stack: str) -> str:
    """The kind of work one sampled call stack (outermost frame first) was doing."""
    frames = _frames(stack)
    if not frames:
        return "native threads"  # no Python frame: OpenMP/BLAS threads of a fit or a prediction
    if frames[-1][0] in WAITING:
        return "waiting"
    if any("importlib" in file for _, file in frames):
        return "imports"
    ours = None  # the innermost compliance_mia file seen so far
    for func, file in frames:
        if "compliance_mia/" in file:
            ours = file
            continue
        if any(pkg in file for pkg in MODEL_PACKAGES):
            if FIT.match(func):  # who asked for the fit: an attack, or the reference set / recipe
                return "attack models" if ours is not None and "compliance_mia/attacks/" in ours else "training"
            if QUERY.match(func):
                return "model queries"
    files = [file for _, file in frames]
    if any("compliance_mia/metrics/" in f for f in files):
        return "statistics"
    if any("compliance_mia/attacks/" in f for f in files):
        return "attack arithmetic"
    if any("compliance_mia/data.py" in f for f in files):
        return "data"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--stacks", type=Path, help="keep py-spy's raw stacks here (or read them, if it exists)")
    parser.add_argument("--policy", type=Path, help="a policy to run instead of the demo's")
    args = parser.parse_args()

    if args.stacks is not None and args.stacks.exists():
        raw = args.stacks.read_text(encoding="utf-8", errors="replace")
    else:
        if shutil.which("py-spy") is None:
            sys.exit("py-spy is not installed: pip install py-spy")
        with tempfile.TemporaryDirectory(prefix="cmia-pyspy-") as tmp:
            out = Path(tmp) / "stacks.txt"
            driver = Path(tmp) / "driver.py"
            driver.write_text(DRIVER, encoding="utf-8")
            subprocess.run(
                [
                    "py-spy",
                    "record",
                    "--rate",
                    str(args.rate),
                    "--format",
                    "raw",
                    "--subprocesses",
                    "--output",
                    str(out),
                    "--",
                    sys.executable,
                    str(driver),
                    str(args.policy or ""),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            raw = out.read_text(encoding="utf-8", errors="replace")
        if args.stacks is not None:
            args.stacks.write_text(raw, encoding="utf-8")

    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        counts[classify(stack)] += int(count)
    waiting = counts.pop("waiting", 0)
    total = sum(counts.values())
    seconds = total / args.rate
    print(f"CPU time sampled: {seconds:.1f} s ({total} samples at {args.rate}/s, all processes)\n")
    print(f"(left out: {waiting / args.rate:.1f} s of samples in threads blocked on a lock, queue or socket)\n")
    print(f"{'kind of work':<20} {'CPU s':>7} {'share':>7}")
    for kind in ORDER:
        print(f"{kind:<20} {counts[kind] / args.rate:>7.1f} {counts[kind] / max(total, 1):>7.1%}")
    models = sum(counts[k] for k in ("training", "model queries"))
    attack_models = counts["attack models"]
    print(f"\nmodels' own cost (training + queries):            {models / max(total, 1):.1%}")
    print(f"... and the attacks' own model fits:               {(models + attack_models) / max(total, 1):.1%}")
    print(f"the tool's own work (everything else):            {1 - (models + attack_models) / max(total, 1):.1%}")


if __name__ == "__main__":
    main()

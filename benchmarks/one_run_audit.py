"""Soundness and power of the one-run privacy audit (Steinke, Nasr & Jagielski 2023).

Runs many independent audits of learners whose privacy is known and prints,
for each, the largest and mean ε lower bound and how often it exceeded the
nominal ε (a violation). A 95% bound may exceed the truth in up to 5% of
trials; the table also gives the one-sided 95% upper limit of the violation
rate, so "sound" reads as: that limit is compatible with 5%.

* randomized response on the canaries' inclusion bits: each bit reported
  truthfully with probability e^ε/(1+e^ε), privacy loss exactly ε (pure DP):
  the tightest case, where a sound bound must come close to ε but not over;
* diffprivlib's Laplace mechanism (sensitivity 1) on each inclusion bit:
  each canary's output is ε-DP, with the library's own noise;
* diffprivlib's GaussianNB(epsilon=ε) (pure ε-DP), trained on 200
  breast-cancer records plus the included synthetic canaries, scored by the
  log-probability of each canary's label, exactly as the policy's audit does;
* non-private learners (an overfit random forest, 1-nearest-neighbour): the
  audit must give a bound clearly above 0; and the same learners audited
  with synthetic and with real records as canaries (m = 300: the pool holds
  369 real records), to show why synthetic canaries are the default.

Usage: python benchmarks/one_run_audit.py [--trials N] [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy.stats import beta

from compliance_mia.audit.bound import audit_bound, guess_grid
from compliance_mia.audit.canaries import population_canaries, synthetic_canaries
from compliance_mia.audit.run import audit_estimator
from compliance_mia.seeding import rng

CLASSES = np.array(["benign", "malignant"])


def _diffprivlib():
    """Import diffprivlib 0.6.6 under scikit-learn ≥ 1.8 (see tests/audit/conftest.py: two removed dtype names)."""
    import sklearn.tree._tree as tree

    for name, dtype in (("DOUBLE", np.float64), ("DTYPE", np.float32)):
        if not hasattr(tree, name):
            setattr(tree, name, dtype)
    import diffprivlib

    return diffprivlib


def _data():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    X = bunch.data
    y = np.where(bunch.target == 1, "benign", "malignant")
    order = np.random.default_rng(0).permutation(len(X))
    rest = order[200:]
    return X.iloc[order[:200]].reset_index(drop=True), y[order[:200]], X.iloc[rest].reset_index(drop=True), y[rest]


def randomized_response(eps: float, m: int, trial: int) -> float:
    gen = rng(2026, "bench-rr", int(eps * 1000), m, trial)
    bits = gen.random(m) < 0.5
    reported = np.where(gen.random(m) < 1 / (1 + np.exp(-eps)), bits, ~bits).astype(float)
    return audit_bound(
        reported, bits, delta=0.0, confidence=0.95, grid=guess_grid(m), tiebreak=gen.random(m)
    ).epsilon_lower


def laplace_bits(dpl, eps: float, m: int, trial: int) -> float:
    """Diffprivlib's Laplace mechanism (sensitivity 1) on each inclusion bit: each canary's output is ε-DP."""
    gen = rng(2026, "bench-laplace", int(eps * 1000), m, trial)
    bits = gen.random(m) < 0.5
    mech = dpl.mechanisms.Laplace(epsilon=eps, sensitivity=1.0, random_state=int(gen.integers(2**31)))
    noisy = np.array([mech.randomise(float(b)) for b in bits])
    result = audit_bound(noisy, bits, delta=0.0, confidence=0.95, grid=guess_grid(m), tiebreak=gen.random(m))
    return result.epsilon_lower


def learner_audit(
    make: Callable[[], object], m: int, trial: int, data, delta: float, source: str = "synthetic"
) -> float:
    X, y, pool, pool_y = data
    if source == "synthetic":
        cx, cy = synthetic_canaries(m, pool=pool, classes=CLASSES, seed=trial)
    else:
        cx, cy = population_canaries(m, X=pool, y=pool_y, seed=trial, source="population")
    return audit_estimator(
        make(), X, y, cx, cy, seed=trial, claimed_epsilon=1.0, delta=delta, confidence=0.95, canary_source=source
    ).epsilon_lower


def _upper95(violations: int, trials: int) -> float:
    return 1.0 if violations == trials else float(beta.ppf(0.95, violations + 1, trials - violations))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per randomized-response row")
    parser.add_argument("--quick", action="store_true", help="a few trials per row")
    args = parser.parse_args()
    rr_trials = 20 if args.quick else args.trials
    learner_trials = 5 if args.quick else 30
    data = _data()
    lo, hi = data[2].min().to_numpy(), data[2].max().to_numpy()  # public bounds, fixed before any training
    dpl = _diffprivlib()
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier

    rows: list[tuple[str, float | None, int, int, Callable[[int], float]]] = []
    for eps in (0.5, 1.0, 2.0, 4.0):
        rows.append(("randomized response", eps, 1000, rr_trials, lambda t, e=eps: randomized_response(e, 1000, t)))
    for eps in (1.0, 4.0):
        rows.append(
            ("diffprivlib Laplace on each bit", eps, 1000, rr_trials, lambda t, e=eps: laplace_bits(dpl, e, 1000, t))
        )
    for eps in (0.5, 1.0, 4.0, 8.0):
        rows.append(
            (
                "diffprivlib GaussianNB",
                eps,
                500,
                learner_trials,
                lambda t, e=eps: learner_audit(
                    lambda: dpl.models.GaussianNB(epsilon=e, bounds=(lo, hi)), 500, t, data, 0.0
                ),
            )
        )
    rows.append(
        (
            "RandomForest (30 trees, not private)",
            None,
            500,
            learner_trials,
            lambda t: learner_audit(lambda: RandomForestClassifier(n_estimators=30, n_jobs=1), 500, t, data, 1e-5),
        )
    )
    rows.append(
        (
            "1-nearest-neighbour (not private)",
            None,
            500,
            learner_trials,
            lambda t: learner_audit(lambda: KNeighborsClassifier(1), 500, t, data, 1e-5),
        )
    )
    for name, make in (
        ("RandomForest", lambda: RandomForestClassifier(n_estimators=30, n_jobs=1)),
        ("1-nearest-neighbour", lambda: KNeighborsClassifier(1)),
    ):
        for source in ("synthetic", "population"):
            rows.append(
                (
                    f"{name}, {source} canaries",
                    None,
                    300,
                    learner_trials,
                    lambda t, f=make, s=source: learner_audit(f, 300, t, data, 1e-5, s),
                )
            )
    print("| learner | nominal ε | m | trials | max bound | mean bound | violations (rate; 95% upper limit) |", end="")
    print(" s/trial |")
    print("|---|---|---|---|---|---|---|---|")
    for name, eps, m, trials, fn in rows:
        start = time.perf_counter()
        bounds = np.array([fn(t) for t in range(trials)])
        seconds = (time.perf_counter() - start) / trials
        if eps is None:
            viol = "n/a (no ε claimed)"
            nominal = "none (∞)"
        else:
            v = int((bounds > eps).sum())
            viol = f"{v} ({v / trials:.1%}; ≤ {_upper95(v, trials):.1%})"
            nominal = f"{eps:g}"
        figures = f"{bounds.max():.3f} | {bounds.mean():.3f}"
        print(f"| {name} | {nominal} | {m} | {trials} | {figures} | {viol} | {seconds:.2f} |")


if __name__ == "__main__":
    main()

"""Measured coverage of compliance-mia's intervals and soundness of its ε bound.

Draws scores from distributions whose true figures are known and reports how
often the intervals contain the truth over repeated seeds:

* AUC: stratified percentile bootstrap, Gaussian scores (AUC = Φ(shift/√2));
* TPR at a fixed FPR: the threshold-adjusted Clopper–Pearson interval used in
  reports, next to a members-only Clopper–Pearson interval at the empirical
  threshold (what many tools print) to show why the adjustment is needed;
* advantage: DKW–Massart interval (true advantage 2Φ(shift/2) − 1);
* ε lower bound: randomized response with known ε (pure ε-DP) and Gaussian
  scores (the exact (ε, δ) curve of a shift-μ Gaussian pair), reporting the
  mean and largest bound and how often it exceeded the true ε;
* the time evaluate_attack takes on larger audits.

Usage: python benchmarks/statistics_coverage.py [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from compliance_mia.metrics import StatisticsSettings, clopper_pearson, evaluate_attack
from compliance_mia.metrics._epsilon import epsilon_bound
from compliance_mia.metrics._intervals import (
    advantage_interval,
    bootstrap_auc,
    percentile_interval,
    tpr_interval,
)
from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups

CONF = 0.95


def gaussian(gen: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    scores = np.concatenate([gen.normal(shift, 1, n), gen.normal(0, 1, n)])
    return scores, np.arange(2 * n) < n


def table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)))


def auc_and_tpr(reps: int, resamples: int, sizes: list[int]) -> None:
    gen = np.random.default_rng(1)
    auc_rows, tpr_rows, adv_rows = [], [], []
    for shift in (0.0, 0.5, 1.0, 2.0):
        for n in sizes:
            true_auc = norm.cdf(shift / np.sqrt(2))
            true_adv = 2 * norm.cdf(shift / 2) - 1
            fprs = [f for f in (0.001, 0.01, 0.1) if f * n >= 10]
            hits = {"auc": 0, "adv": 0}
            width = {"auc": 0.0, "adv": 0.0}
            t_hits = {f: [0, 0] for f in fprs}
            t_width = {f: [0.0, 0.0] for f in fprs}
            for _ in range(reps):
                s, m = gaussian(gen, n, shift)
                groups = ScoreGroups.build(s, m)
                roc = roc_from_groups(groups)
                lo, hi = percentile_interval(
                    bootstrap_auc(groups, resamples=resamples, rng=gen), confidence=CONF
                )
                hits["auc"] += lo <= true_auc <= hi
                width["auc"] += hi - lo
                adv = float(np.max(roc.tpr - roc.fpr))
                alo, ahi = advantage_interval(adv, n, n, confidence=CONF)
                hits["adv"] += alo <= true_adv <= ahi
                width["adv"] += ahi - alo
                for f in fprs:
                    truth = norm.sf(norm.isf(f) - shift)
                    t = tpr_interval(roc, f, confidence=CONF)
                    t_hits[f][0] += t.lower <= truth <= t.upper
                    t_width[f][0] += t.upper - t.lower
                    k = int(round(f * n))
                    x = int(roc.tp[np.searchsorted(roc.fp, k, side="right") - 1])
                    nlo, nhi = clopper_pearson(x, n, confidence=CONF)
                    t_hits[f][1] += nlo <= truth <= nhi
                    t_width[f][1] += nhi - nlo
            auc_rows.append(
                [
                    shift,
                    n,
                    f"{true_auc:.3f}",
                    f"{hits['auc'] / reps:.3f}",
                    f"{width['auc'] / reps:.3f}",
                ]
            )
            adv_rows.append(
                [
                    shift,
                    n,
                    f"{true_adv:.3f}",
                    f"{hits['adv'] / reps:.3f}",
                    f"{width['adv'] / reps:.3f}",
                ]
            )
            for f in fprs:
                tpr_rows.append(
                    [
                        shift,
                        n,
                        f,
                        f"{norm.sf(norm.isf(f) - shift):.3f}",
                        f"{t_hits[f][0] / reps:.3f}",
                        f"{t_width[f][0] / reps:.3f}",
                        f"{t_hits[f][1] / reps:.3f}",
                        f"{t_width[f][1] / reps:.3f}",
                    ]
                )
    hdr = ["shift", "n/side", "true AUC", "coverage", "mean width"]
    table(f"AUC, bootstrap percentile ({resamples} resamples), nominal {CONF:.0%}", hdr, auc_rows)
    table(
        f"TPR at FPR, nominal {CONF:.0%}: threshold-adjusted CP (reported) vs members-only CP",
        ["shift", "n/side", "FPR", "true TPR", "adj cov", "adj width", "naive cov", "naive width"],
        tpr_rows,
    )
    hdr = ["shift", "n/side", "true adv", "coverage", "mean width"]
    table(f"Advantage, DKW-Massart, nominal {CONF:.0%}", hdr, adv_rows)


def randomized_response(gen: np.random.Generator, n: int, eps: float):
    p = np.exp(eps) / (1 + np.exp(eps))
    s = np.concatenate([gen.random(n) < p, gen.random(n) < 1 - p]).astype(float)
    return s, np.arange(2 * n) < n


def gaussian_true_epsilon(mu: float, delta: float) -> float:
    """ε at δ for the pair N(μ,1) vs N(0,1) (Balle & Wang 2018)."""

    def d(eps: float) -> float:
        return norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * norm.cdf(-eps / mu - mu / 2) - delta

    return brentq(d, 0.0, 100.0)


def epsilon(reps: int, sizes: list[int], delta: float) -> None:
    gen = np.random.default_rng(2)
    rows = []
    for eps in (1.0, 2.0, 4.0):
        for n in sizes:
            b = []
            for _ in range(reps):
                s, m = randomized_response(gen, n, eps)
                roc = roc_from_groups(ScoreGroups.build(s, m))
                b.append(epsilon_bound(roc, delta=delta, confidence=CONF).epsilon_lower or 0.0)
            b = np.array(b)
            rows.append([eps, n, f"{b.mean():.3f}", f"{b.max():.3f}", f"{np.mean(b > eps):.3f}"])
    hdr = ["true eps", "n/side", "mean bound", "max bound", "exceed rate"]
    table(f"ε lower bound, randomized response (δ={delta:g}, {CONF:.0%})", hdr, rows)
    rows = []
    for mu in (0.5, 1.0, 2.0):
        truth = gaussian_true_epsilon(mu, delta)
        for n in sizes:
            b = []
            for _ in range(max(reps // 4, 5)):
                s, m = gaussian(gen, n, mu)
                roc = roc_from_groups(ScoreGroups.build(s, m))
                b.append(epsilon_bound(roc, delta=delta, confidence=CONF).epsilon_lower or 0.0)
            b = np.array(b)
            rows.append(
                [
                    mu,
                    f"{truth:.3f}",
                    n,
                    f"{b.mean():.3f}",
                    f"{b.max():.3f}",
                    f"{np.mean(b > truth):.3f}",
                ]
            )
    hdr = ["shift", "true eps(δ)", "n/side", "mean bound", "max bound", "exceed rate"]
    table(f"ε lower bound, Gaussian scores (δ={delta:g}, {CONF:.0%})", hdr, rows)


def timing(sizes: list[int]) -> None:
    gen = np.random.default_rng(3)
    settings = StatisticsSettings()
    rows = []
    for n in sizes:
        s, m = gaussian(gen, n // 2, 1.0)
        start = time.perf_counter()
        evaluate_attack(s, m, settings=settings, seed=0, stream="bench", n_comparisons=5)
        rows.append([n, settings.bootstrap_resamples, f"{time.perf_counter() - start:.2f}"])
    table("evaluate_attack wall time (one attack)", ["records", "resamples", "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="repetitions per cell")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and sizes")
    args = parser.parse_args()
    reps = 100 if args.quick else args.reps
    auc_and_tpr(reps, 500 if args.quick else 1000, [200] if args.quick else [200, 2000])
    epsilon(reps // 2, [1000, 10_000] if args.quick else [1000, 10_000, 100_000], 1e-5)
    timing([20_000] if args.quick else [20_000, 100_000, 500_000])


if __name__ == "__main__":
    main()

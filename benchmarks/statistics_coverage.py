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
* ties: TPR intervals on rounded scores, where the threshold can fall inside a
  group of tied scores; coverage is counted over the figures the
  determinability rule lets through, and the share let through is shown;
* heavily tied scores (as label-only attacks give): how often the
  determinability rule lets a TPR through;
* simultaneous (headline) intervals: m attacks with identically distributed
  scores, the strongest picked by its TPR at 1% FPR (the selection that
  biases a per-attack interval most), its AUC and TPR intervals Bonferroni-
  corrected over the m attacks, next to the uncorrected per-attack intervals;
* slices: intervals computed within groups of records of several sizes, as
  slice_results does (TPR only where determinable);
* how often an interval does not contain its own estimate (never corrected);
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
from compliance_mia.metrics._evaluate import auc_interval, tpr_interval_record
from compliance_mia.metrics._headline import headline_resamples
from compliance_mia.metrics._intervals import (
    advantage_interval,
    bootstrap_auc,
    percentile_interval,
    tpr_interval,
)
from compliance_mia.metrics._ranking import ScoreGroups, roc_from_groups

CONF = 0.95
#: [intervals not containing their own estimate, intervals computed], by kind
OUTSIDE: dict[str, list[int]] = {"auc": [0, 0], "tpr": [0, 0], "sim auc": [0, 0], "sim tpr": [0, 0]}


def roc_auc(groups: ScoreGroups) -> float:
    from compliance_mia.metrics._ranking import auc_from_groups

    return auc_from_groups(groups)


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
                lo, hi = percentile_interval(bootstrap_auc(groups, resamples=resamples, rng=gen), confidence=CONF)
                hits["auc"] += lo <= true_auc <= hi
                width["auc"] += hi - lo
                auc_hat = float(roc_auc(groups))
                OUTSIDE["auc"][0] += not lo <= auc_hat <= hi
                OUTSIDE["auc"][1] += 1
                adv = float(np.max(roc.tpr - roc.fpr))
                alo, ahi = advantage_interval(adv, n, n, confidence=CONF)
                hits["adv"] += alo <= true_adv <= ahi
                width["adv"] += ahi - alo
                for f in fprs:
                    truth = norm.sf(norm.isf(f) - shift)
                    t = tpr_interval(roc, f, confidence=CONF)
                    t_hits[f][0] += t.lower <= truth <= t.upper
                    OUTSIDE["tpr"][0] += not t.lower <= t.estimate <= t.upper
                    OUTSIDE["tpr"][1] += 1
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


def discrete_truth(shift: float, step: float, fpr: float) -> float:
    """TPR at ``fpr`` (random tie-breaking) when N(shift,1) and N(0,1) scores are rounded to ``step``."""
    v = np.arange(-8.0, 8.0 + shift + step, step)[::-1]
    upper = v + step / 2
    lower = v - step / 2
    p1 = norm.cdf(upper - shift) - norm.cdf(lower - shift)
    p0 = norm.cdf(upper) - norm.cdf(lower)
    fpr_curve = np.concatenate([[0.0], np.cumsum(p0)])
    tpr_curve = np.concatenate([[0.0], np.cumsum(p1)])
    return float(np.interp(fpr, fpr_curve, tpr_curve))


def ties(reps: int, sizes: list[int]) -> None:
    """TPR at FPR on rounded scores: coverage among figures judged determinable."""
    gen = np.random.default_rng(4)
    settings = StatisticsSettings()
    rows = []
    for step in (0.25, 1.0):
        for shift in (0.5, 1.5):
            for n in sizes:
                for f in (0.01, 0.1):
                    if f * n < settings.min_false_positives:
                        continue
                    truth = discrete_truth(shift, step, f)
                    printed = covered = 0
                    for _ in range(reps):
                        s, m = gaussian(gen, n, shift)
                        s = np.round(s / step) * step
                        roc = roc_from_groups(ScoreGroups.build(s, m))
                        iv, det = tpr_interval_record(roc, f, settings=settings)
                        if det.determinable:
                            printed += 1
                            covered += iv.lower <= truth <= iv.upper
                    cov = f"{covered / printed:.3f}" if printed else "-"
                    rows.append([step, shift, n, f, f"{truth:.3f}", f"{printed / reps:.2f}", cov])
    table(
        f"TPR at FPR on tied (rounded) scores, nominal {CONF:.0%}: coverage of determinable figures",
        ["round to", "shift", "n/side", "FPR", "true TPR", "share printed", "coverage"],
        rows,
    )


def heavy_ties(reps: int, sizes: list[int]) -> None:
    """Label-only-like scores: most records share one score. How often is a TPR printed?"""
    gen = np.random.default_rng(7)
    settings = StatisticsSettings()
    rows = []
    for where in ("top", "bottom"):
        for tied in (0.976, 0.8):
            for n in sizes:
                for f in (0.01, 0.1):
                    printed = 0
                    width: dict[bool, list[float]] = {True: [], False: []}
                    for _ in range(reps):
                        s, m = gaussian(gen, n, 1.0)
                        tie = gen.random(2 * n) < tied
                        s[tie] = 10.0 if where == "top" else -10.0
                        roc = roc_from_groups(ScoreGroups.build(s, m))
                        iv, det = tpr_interval_record(roc, f, settings=settings)
                        printed += det.determinable
                        width[det.determinable].append(iv.upper - iv.lower)
                    w = {k: f"{np.mean(v):.3f}" if v else "-" for k, v in width.items()}
                    rows.append([where, tied, n, f, f"{printed / reps:.2f}", w[True], w[False]])
    table(
        "Heavily tied scores (a share of records, members or not, given one score): share of TPR "
        "figures printed; mean interval width of printed and of withheld figures",
        ["tie at", "tied share", "n/side", "FPR", "share printed", "width printed", "width withheld"],
        rows,
    )


def simultaneous(reps: int, sizes: list[int], m_attacks: list[int]) -> None:
    """Strongest of m attacks picked after the fact: corrected vs uncorrected coverage."""
    gen = np.random.default_rng(5)
    settings = StatisticsSettings()
    f = settings.reference_fpr
    rows = []
    for shift in (0.0, 1.0):
        true_auc = norm.cdf(shift / np.sqrt(2))
        true_tpr = norm.sf(norm.isf(f) - shift)
        for m in m_attacks:
            b = headline_resamples(settings, m)
            for n in sizes:
                hit = {"auc": 0, "tpr": 0, "auc1": 0, "tpr1": 0}
                for r in range(reps):
                    best = None
                    for _ in range(m):
                        s, lab = gaussian(gen, n, shift)
                        groups = ScoreGroups.build(s, lab)
                        roc = roc_from_groups(groups)
                        key = float(np.interp(f, roc.fpr, roc.tpr))
                        if best is None or key > best[0]:
                            best = (key, groups, roc)
                    _, groups, roc = best
                    kw = {"settings": settings, "seed": r, "stream": "sim"}
                    a_sim = auc_interval(groups, comparisons=m, resamples=b, **kw)
                    a_one = auc_interval(groups, **kw)
                    t_sim, _ = tpr_interval_record(roc, f, settings=settings, comparisons=m)
                    t_one, _ = tpr_interval_record(roc, f, settings=settings)
                    hit["auc"] += a_sim.lower <= true_auc <= a_sim.upper
                    hit["auc1"] += a_one.lower <= true_auc <= a_one.upper
                    hit["tpr"] += t_sim.lower <= true_tpr <= t_sim.upper
                    hit["tpr1"] += t_one.lower <= true_tpr <= t_one.upper
                    OUTSIDE["sim auc"][0] += not a_sim.lower <= a_sim.estimate <= a_sim.upper
                    OUTSIDE["sim auc"][1] += 1
                    OUTSIDE["sim tpr"][0] += not t_sim.lower <= t_sim.estimate <= t_sim.upper
                    OUTSIDE["sim tpr"][1] += 1
                rows.append(
                    [
                        shift,
                        m,
                        n,
                        f"{hit['auc'] / reps:.3f}",
                        f"{hit['auc1'] / reps:.3f}",
                        f"{hit['tpr'] / reps:.3f}",
                        f"{hit['tpr1'] / reps:.3f}",
                    ]
                )
    table(
        f"Strongest of m attacks (picked by TPR at {f:.0%} FPR), nominal {CONF:.0%}: simultaneous "
        "(Bonferroni over m, reported in the headline) vs per-attack interval of the picked attack",
        ["shift", "m", "n/side", "AUC sim cov", "AUC single cov", "TPR sim cov", "TPR single cov"],
        rows,
    )


def slices(reps: int, resamples: int) -> None:
    """Intervals within groups of records of several sizes, as slice_results computes them."""
    gen = np.random.default_rng(6)
    settings = StatisticsSettings(bootstrap_resamples=resamples)
    f = settings.reference_fpr
    rows = []
    for shift in (0.5, 1.5):
        true_auc = norm.cdf(shift / np.sqrt(2))
        true_tpr = norm.sf(norm.isf(f) - shift)
        for n in (50, 300, 1500):
            auc_hit = printed = tpr_hit = 0
            for r in range(reps):
                s, lab = gaussian(gen, n, shift)
                groups = ScoreGroups.build(s, lab)
                a = auc_interval(groups, settings=settings, seed=r, stream="slice")
                auc_hit += a.lower <= true_auc <= a.upper
                t, det = tpr_interval_record(roc_from_groups(groups), f, settings=settings)
                if det.determinable:
                    printed += 1
                    tpr_hit += t.lower <= true_tpr <= t.upper
            tcov = f"{tpr_hit / printed:.3f}" if printed else "- (never printed)"
            rows.append([shift, n, f"{auc_hit / reps:.3f}", f"{printed / reps:.2f}", tcov])
    table(
        f"Slice intervals (one group of n members + n non-members), nominal {CONF:.0%}",
        ["shift", "n/side", "AUC cov", f"TPR@{f:.0%} printed", "TPR cov (printed)"],
        rows,
    )


def outside() -> None:
    rows = [[k, v[1], v[0]] for k, v in OUTSIDE.items()]
    table("Intervals not containing their own estimate (no clamping)", ["kind", "intervals", "outside"], rows)


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
    parser.add_argument("--no-timing", action="store_true", help="skip the wall-time table")
    args = parser.parse_args()
    reps = 100 if args.quick else args.reps
    auc_and_tpr(reps, 500 if args.quick else 1000, [200] if args.quick else [200, 2000])
    ties(reps, [1000] if args.quick else [1000, 5000])
    heavy_ties(reps, [1000] if args.quick else [1000, 5000])
    simultaneous(max(reps // 2, 20), [500] if args.quick else [500, 2000], [5, 11])
    slices(reps, 500 if args.quick else 1000)
    outside()
    epsilon(reps // 2, [1000, 10_000] if args.quick else [1000, 10_000, 100_000], 1e-5)
    if not args.no_timing:
        timing([20_000] if args.quick else [20_000, 100_000, 500_000])


if __name__ == "__main__":
    main()

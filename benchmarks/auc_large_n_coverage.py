"""Coverage of the AUC interval used on large audits (DeLong), next to the bootstrap it replaces.

Above ``BOOTSTRAP_MAX_RECORDS`` records the AUC interval is DeLong's
asymptotic normal interval instead of the stratified percentile bootstrap
(whose cost grows with resamples × records). This measures, over repeated
samples whose true AUC is known:

* how often the DeLong interval contains the true AUC, single (95%) and
  simultaneous over 11 attacks (quantile at α/22), for continuous scores
  and for scores rounded to one decimal (many ties; true AUC computed on the
  discretised distributions, ties counted ½);
* on a few samples, the DeLong and bootstrap intervals side by side.

Usage: python benchmarks/auc_large_n_coverage.py [--reps 400] [--n 60000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.stats import norm

from compliance_mia.metrics._intervals import (
    BOOTSTRAP_MAX_RECORDS,
    bootstrap_auc,
    delong_auc_interval,
    percentile_interval,
)
from compliance_mia.metrics._ranking import ScoreGroups, auc_from_groups

CONF = 0.95


def true_auc(shift: float, decimals: int | None) -> float:
    if decimals is None:
        return float(norm.cdf(shift / math.sqrt(2)))
    step = 10.0**-decimals
    grid = np.arange(-12, 12 + step / 2, step)
    edges = np.concatenate([[-np.inf], grid[:-1] + step / 2, [np.inf]])
    p_mem = np.diff(norm.cdf(edges - shift))
    p_non = np.diff(norm.cdf(edges))
    below = np.cumsum(p_non) - p_non
    return float(np.sum(p_mem * (below + 0.5 * p_non)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--n", type=int, default=60_000, help="members and non-members each")
    args = parser.parse_args()
    n = args.n
    print(f"DeLong used above {BOOTSTRAP_MAX_RECORDS:,} records; here {2 * n:,} records, {args.reps} samples each")
    print(f"{'scores':>12} {'true AUC':>9} {'single 95%':>11} {'simult. m=11':>13} {'mean width':>11}")
    for decimals in (None, 1):
        for shift in (0.0, 0.3, 1.0, 2.5):
            truth = true_auc(shift, decimals)
            gen = np.random.default_rng(1000 + int(shift * 10) + (0 if decimals is None else 7))
            hit1 = hit11 = 0
            width = 0.0
            for _ in range(args.reps):
                s = np.concatenate([gen.normal(shift, 1.0, n), gen.normal(0.0, 1.0, n)])
                if decimals is not None:
                    s = np.round(s, decimals)
                g = ScoreGroups.build(s, np.r_[np.ones(n, bool), np.zeros(n, bool)])
                lo, hi = delong_auc_interval(g, confidence=CONF)
                hit1 += lo <= truth <= hi
                width += hi - lo
                lo, hi = delong_auc_interval(g, confidence=1 - (1 - CONF) / 11)
                hit11 += lo <= truth <= hi
            kind = "continuous" if decimals is None else "rounded 0.1"
            print(
                f"{kind:>12} {truth:>9.4f} {hit1 / args.reps:>11.3f} {hit11 / args.reps:>13.3f} "
                f"{width / args.reps:>11.5f}",
                flush=True,
            )
    print("\nside by side on single samples (bootstrap: 1,000 resamples)")
    gen = np.random.default_rng(7)
    for shift in (0.3, 1.0):
        s = np.concatenate([gen.normal(shift, 1.0, n), gen.normal(0.0, 1.0, n)])
        g = ScoreGroups.build(s, np.r_[np.ones(n, bool), np.zeros(n, bool)])
        d = delong_auc_interval(g, confidence=CONF)
        b = percentile_interval(bootstrap_auc(g, resamples=1000, rng=np.random.default_rng(1)), confidence=CONF)
        print(
            f"shift {shift}: AUC {auc_from_groups(g):.5f}  DeLong {d[0]:.5f}-{d[1]:.5f}  "
            f"bootstrap {b[0]:.5f}-{b[1]:.5f}"
        )


if __name__ == "__main__":
    main()

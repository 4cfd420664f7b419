"""Exact ROC with explicit tie handling: the one core every figure builds on.

Scores are "higher = more likely a member". Records are grouped by distinct
score; the exact ROC has one vertex per distinct score (flag every record
scoring at least that value). Tied scores are never broken by record order:
within a tied group the ROC is the straight segment between the two vertices,
which is what flagging the tied records at random with the right probability
gives on average. TPR at a fixed FPR is read off that piecewise-linear curve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

TIE_POLICY = (
    "Records with exactly the same score are never ordered arbitrarily. The ROC curve is built "
    "from one point per distinct score; inside a group of tied scores it is the straight line "
    "between its ends. The TPR reported at a fixed FPR is read off that line (linear "
    "interpolation along the exact ROC), which equals flagging the tied records at random with "
    "the probability that gives exactly that FPR, i.e. the expected TPR under random "
    "tie-breaking."
)


def check_scores(scores: np.ndarray, is_member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate and normalise ``scores`` and ``is_member``.

    NaN scores (an attack that could not score a record) are treated as the
    least member-like value, -inf, so the record is never flagged.

    Raises
    ------
    ValueError
        When lengths differ or either group is empty.
    """
    s = np.asarray(scores, dtype=float).ravel()
    m = np.asarray(is_member).ravel().astype(bool)
    if s.shape != m.shape:
        raise ValueError(f"{s.size} scores for {m.size} membership labels")
    nan = np.isnan(s)
    if nan.any():
        log.warning("%d NaN scores treated as the lowest possible score", int(nan.sum()))
        s = np.where(nan, -np.inf, s)
    if not m.any() or m.all():
        raise ValueError("scores for both members and non-members are needed")
    return s, m


@dataclass(frozen=True)
class ScoreGroups:
    """Records grouped by distinct score, ascending.

    ``values[g]`` is the g-th smallest distinct score, ``members[g]`` and
    ``non_members[g]`` how many of each share it, ``group`` maps every record
    to its group. Built once and reused by the ROC, AUC and bootstrap.
    """

    values: np.ndarray
    members: np.ndarray
    non_members: np.ndarray
    group: np.ndarray
    is_member: np.ndarray

    @property
    def n_members(self) -> int:
        return int(self.members.sum())

    @property
    def n_non_members(self) -> int:
        return int(self.non_members.sum())

    @classmethod
    def build(cls, scores: np.ndarray, is_member: np.ndarray) -> ScoreGroups:
        s, m = check_scores(scores, is_member)
        values, group = np.unique(s, return_inverse=True)
        group = group.ravel()
        members = np.bincount(group[m], minlength=values.size)
        non_members = np.bincount(group[~m], minlength=values.size)
        return cls(
            values=values, members=members, non_members=non_members, group=group, is_member=m
        )


@dataclass(frozen=True)
class Roc:
    """Exact ROC vertices, from (0, 0) (flag nobody) to (1, 1) (flag everyone).

    ``thresholds[i]`` is the lowest score flagged at vertex ``i`` (``+inf`` at
    the first vertex); ``tp``/``fp`` are the counts behind ``tpr``/``fpr``.
    """

    fpr: np.ndarray
    tpr: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    thresholds: np.ndarray
    n_members: int
    n_non_members: int


def roc_from_groups(groups: ScoreGroups) -> Roc:
    """Exact ROC from grouped scores (one vertex per distinct score)."""
    tp = np.concatenate([[0], np.cumsum(groups.members[::-1])])
    fp = np.concatenate([[0], np.cumsum(groups.non_members[::-1])])
    thresholds = np.concatenate([[np.inf], groups.values[::-1]])
    n1, n0 = groups.n_members, groups.n_non_members
    return Roc(
        fpr=fp / n0,
        tpr=tp / n1,
        tp=tp,
        fp=fp,
        thresholds=thresholds,
        n_members=n1,
        n_non_members=n0,
    )


def roc_curve(scores: np.ndarray, is_member: np.ndarray) -> Roc:
    """Exact ROC of ``scores`` (higher = member).

    Same vertices as sklearn's ``roc_curve(..., drop_intermediate=False)``.

    Examples
    --------
    >>> r = roc_curve(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    >>> r.fpr.tolist(), r.tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    return roc_from_groups(ScoreGroups.build(scores, is_member))


def auc_from_groups(groups: ScoreGroups) -> float:
    """Mann–Whitney AUC: P(member scores higher) + ½ P(tie)."""
    below = np.cumsum(groups.non_members) - groups.non_members
    wins = np.sum(groups.members * (below + 0.5 * groups.non_members))
    return float(wins / (groups.n_members * groups.n_non_members))


def auc_score(scores: np.ndarray, is_member: np.ndarray) -> float:
    """Area under the ROC curve, ties counted as half (equals sklearn's roc_auc_score)."""
    return auc_from_groups(ScoreGroups.build(scores, is_member))


def fpr_runs(roc: Roc) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct FPR values with the lowest and highest TPR reached at each.

    Vertices sharing an FPR form a vertical run (records that are all
    members). At an FPR reached exactly, the best TPR is the top of its run;
    between two distinct FPRs the curve goes from the top of one run to the
    bottom of the next.
    """
    starts = np.flatnonzero(np.concatenate([[True], np.diff(roc.fpr) > 0]))
    ends = np.concatenate([starts[1:], [roc.fpr.size]]) - 1
    return roc.fpr[starts], roc.tpr[starts], roc.tpr[ends]


def tpr_at(roc: Roc, fpr: float | np.ndarray) -> np.ndarray:
    """TPR at the given FPR(s) by linear interpolation along the exact ROC.

    At an FPR reached exactly this is the best TPR with that FPR; without
    ties, the best TPR among thresholds whose FPR does not exceed ``fpr``.
    """
    x, bottom, top = fpr_runs(roc)
    f = np.clip(np.asarray(fpr, dtype=float), 0.0, 1.0)
    j = np.clip(np.searchsorted(x, f, side="right") - 1, 0, x.size - 1)
    nxt = np.minimum(j + 1, x.size - 1)
    span = x[nxt] - x[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(span > 0, (f - x[j]) / span, 0.0)
    return np.where((f == x[j]) | (nxt == j), top[j], top[j] + frac * (bottom[nxt] - top[j]))


def tpr_at_fpr(scores: np.ndarray, is_member: np.ndarray, *, fpr: float = 1e-3) -> float:
    """TPR at false-positive rate ``fpr`` (ties: expected value under random tie-breaking)."""
    return float(tpr_at(roc_curve(scores, is_member), fpr))


def threshold_at(roc: Roc, fpr: float) -> float:
    """Lowest score flagged by the last vertex whose FPR does not exceed ``fpr``."""
    i = int(np.searchsorted(roc.fpr, fpr, side="right")) - 1
    # Walk to the top of a vertical run (extra members flagged at no FPR cost).
    while i + 1 < roc.fpr.size and roc.fpr[i + 1] == roc.fpr[i]:
        i += 1
    return float(roc.thresholds[max(i, 0)])


def advantage_from_roc(roc: Roc) -> float:
    """Membership advantage: max over thresholds of TPR − FPR (never below 0)."""
    return float(max(0.0, np.max(roc.tpr - roc.fpr)))


def plot_points(
    roc: Roc, *, max_points: int = 400, exact_low: int = 100
) -> tuple[list[float], list[float]]:
    """ROC downsampled for plotting, keeping the low-FPR region exact.

    Keeps the first ``exact_low`` distinct FPRs exactly (both ends of each
    vertical run) and adds points on a logarithmic FPR grid from
    1/n_non_members to 1 (so log-log plots show the low-FPR region, even
    across a large group of tied scores) and on a linear grid. Every point
    lies on the exact (interpolated) ROC; FPR never decreases.
    """
    x, bottom, top = fpr_runs(roc)
    n0 = max(roc.n_non_members, 1)
    n_exact = min(exact_low, x.size)
    budget = max_points - 2 * n_exact
    n_log = max(budget * 2 // 3, 2)
    n_lin = max(budget - n_log, 2)
    grid = np.concatenate([np.geomspace(1.0 / n0, 1.0, n_log), np.linspace(0.0, 1.0, n_lin)])
    grid = np.unique(np.clip(grid, 0.0, 1.0))
    grid = grid[~np.isin(grid, x[:n_exact])]
    px = np.concatenate([x[:n_exact], x[:n_exact], grid])
    py = np.concatenate([bottom[:n_exact], top[:n_exact], tpr_at(roc, grid)])
    order = np.lexsort((py, px))
    px, py = px[order], py[order]
    keep = np.concatenate([[True], (np.diff(px) > 0) | (np.diff(py) > 0)])
    return [float(v) for v in px[keep]], [float(v) for v in py[keep]]

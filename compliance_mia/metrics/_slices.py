"""Leakage within groups of records: classes, declared attributes, correct/incorrect predictions.

A group whose members are easier to identify is a finding in its own right
(disparate exposure of a protected group). Each slice carries its own sample
sizes and intervals; slices too small to support a comparison are flagged,
never ranked.
"""

from __future__ import annotations

import logging

import numpy as np

from compliance_mia.assessment import Interval, SliceResult
from compliance_mia.metrics._evaluate import AUC_METHOD, TPR_METHOD, auc_interval
from compliance_mia.metrics._intervals import tpr_interval
from compliance_mia.metrics._ranking import ScoreGroups, check_scores, roc_from_groups
from compliance_mia.metrics._settings import StatisticsSettings

log = logging.getLogger(__name__)

#: Values per column beyond which only the largest groups are measured
#: (a free-text or ID-like column would otherwise produce thousands of slices).
MAX_SLICES_PER_COLUMN = 50


def slice_results(
    scores: np.ndarray,
    is_member: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    settings: StatisticsSettings,
    seed: int,
) -> list[SliceResult]:
    """AUC and TPR at the reference FPR, with intervals, for every slice.

    Parameters
    ----------
    scores, is_member : ndarray of shape (n_records,)
        Scores of one attack (usually the strongest) and membership labels.
    groups : dict of str to ndarray of shape (n_records,)
        Slice column name ("class", "prediction", or a declared column) to
        each record's value as a string.
    settings : StatisticsSettings
    seed : int
        Bootstrap stream ``("bootstrap", "slice/<column>/<value>")``.

    Returns
    -------
    list of SliceResult
        In column order, then by value; ``small=True`` when members or
        non-members number fewer than ``settings.min_slice_size``.
    """
    s, m = check_scores(scores, is_member)
    out: list[SliceResult] = []
    for column, raw in groups.items():
        values = np.asarray(raw, dtype=object).astype(str)
        if values.shape != s.shape:
            raise ValueError(
                f"slice column {column!r} has {values.size} values for {s.size} records"
            )
        names, counts = np.unique(values, return_counts=True)
        if names.size > MAX_SLICES_PER_COLUMN:
            log.info(
                "slice column %s has %d values; measuring the %d largest",
                column,
                names.size,
                MAX_SLICES_PER_COLUMN,
            )
            keep = np.argsort(-counts, kind="stable")[:MAX_SLICES_PER_COLUMN]
            names = np.sort(names[keep])
        for value in names:
            mask = values == value
            out.append(
                _one_slice(s[mask], m[mask], column, str(value), settings=settings, seed=seed)
            )
    return out


def _one_slice(
    s: np.ndarray,
    m: np.ndarray,
    column: str,
    value: str,
    *,
    settings: StatisticsSettings,
    seed: int,
) -> SliceResult:
    n1, n0 = int(m.sum()), int((~m).sum())
    small = n1 < settings.min_slice_size or n0 < settings.min_slice_size
    conf = float(settings.confidence_level)
    if n1 == 0 or n0 == 0:
        empty = Interval(estimate=None, lower=None, upper=None, confidence=conf, method=AUC_METHOD)
        return SliceResult(
            column=column, value=value, n_members=n1, n_non_members=n0, auc=empty, small=True
        )
    grouped = ScoreGroups.build(s, m)
    roc = roc_from_groups(grouped)
    t = tpr_interval(roc, settings.reference_fpr, confidence=conf)
    return SliceResult(
        column=column,
        value=value,
        n_members=n1,
        n_non_members=n0,
        auc=auc_interval(grouped, settings=settings, seed=seed, stream=f"slice/{column}/{value}"),
        tpr_at_fpr=Interval(
            estimate=t.estimate,
            lower=t.lower,
            upper=t.upper,
            confidence=conf,
            method=TPR_METHOD,
            count=t.expected_count,
            n=n1,
        ),
        fpr=float(settings.reference_fpr),
        small=small,
    )


def most_exposed_slice(slices: list[SliceResult]) -> SliceResult | None:
    """The slice with the highest AUC lower bound among slices large enough to rank.

    Ranking by the lower bound prefers a slice that is clearly exposed over a
    small one whose point estimate is high by chance.
    """
    ranked = [s for s in slices if not s.small and s.auc.lower is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda s: (s.auc.lower, s.auc.estimate or 0.0, s.column, s.value))

"""Leakage within groups of records: classes, declared attributes, correct/incorrect predictions.

A group whose members are easier to identify is a finding in its own right
(disparate exposure of a protected group). Each slice carries its own sample
sizes and intervals; slices too small to support a comparison are flagged,
never ranked; groups so small that printing them could single out a person
are suppressed (merged into one unnamed row per column).
"""

from __future__ import annotations

import logging

import numpy as np

from compliance_mia.assessment import Interval, SliceResult
from compliance_mia.metrics._evaluate import AUC_METHOD, auc_interval, tpr_interval_record
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
        non-members number fewer than ``settings.min_slice_size``. Groups with
        fewer than ``settings.min_group_size`` members or non-members are
        never reported by value: they are merged into one last row per column
        (``suppressed=True``, value "fewer than k members or non-members …")
        that carries counts only. A TPR that is not determinable
        (:func:`~compliance_mia.metrics._determinable.tpr_determinable`) has
        no numbers, ``determinable=False`` and the reason in ``note``.
    """
    s, m = check_scores(scores, is_member)
    out: list[SliceResult] = []
    for column, raw in groups.items():
        values = np.asarray(raw, dtype=object).astype(str)
        if values.shape != s.shape:
            raise ValueError(
                f"slice column {column!r} has {values.size} values for {s.size} records"
            )
        names, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        position = {str(name): i for i, name in enumerate(names)}
        if names.size > MAX_SLICES_PER_COLUMN:
            log.info(
                "slice column %s has %d values; measuring the %d largest",
                column,
                names.size,
                MAX_SLICES_PER_COLUMN,
            )
            keep = np.argsort(-counts, kind="stable")[:MAX_SLICES_PER_COLUMN]
            names = np.sort(names[keep])
        k = settings.min_group_size
        hidden: list[str] = []
        for value in names:
            mask = inverse == position[str(value)]  # same records as values == value, no string compares
            n1 = int(m[mask].sum())
            if n1 < k or int(mask.sum()) - n1 < k:
                hidden.append(str(value))
                continue
            out.append(
                _one_slice(s[mask], m[mask], column, str(value), settings=settings, seed=seed)
            )
        if hidden:
            out.append(_suppressed(m[np.isin(values, hidden)], column, len(hidden), settings))
    return out


def suppressed_label(settings: StatisticsSettings, groups: int) -> str:
    """Value shown for a column's merged small groups (never their own values)."""
    k = settings.min_group_size
    what = "group" if groups == 1 else f"{groups} groups"
    return f"fewer than {k} members or non-members ({what}, suppressed)"


def _suppressed(
    m: np.ndarray, column: str, groups: int, settings: StatisticsSettings
) -> SliceResult:
    """One row standing for every small group of ``column``: counts only, no figure."""
    conf = float(settings.confidence_level)
    note = (
        f"suppressed: groups with fewer than {settings.min_group_size} members or non-members "
        "are not reported, so that no figure can single out a person"
    )
    empty = Interval(
        estimate=None,
        lower=None,
        upper=None,
        confidence=conf,
        method=AUC_METHOD,
        determinable=False,
        note=note,
    )
    return SliceResult(
        column=column,
        value=suppressed_label(settings, groups),
        n_members=int(m.sum()),
        n_non_members=int((~m).sum()),
        auc=empty,
        small=True,
        suppressed=True,
        groups_merged=int(groups),
    )


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
    grouped = ScoreGroups.build(s, m)
    roc = roc_from_groups(grouped)
    tpr, det = tpr_interval_record(roc, settings.reference_fpr, settings=settings)
    if not det.determinable:
        tpr = tpr.model_copy(update={"estimate": None, "lower": None, "upper": None, "count": None})
    return SliceResult(
        column=column,
        value=value,
        n_members=n1,
        n_non_members=n0,
        auc=auc_interval(grouped, settings=settings, seed=seed, stream=f"slice/{column}/{value}"),
        tpr_at_fpr=tpr,
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

"""Per-record risk for the data-subject risk register, by record ID only.

Each member gets the share of non-members that score at least as high as it
does: a conformal p-value (Vovk et al. 2005), small when the attack would
single the record out without also flagging many non-members. No feature
value, not even the label, leaves this module.
"""

from __future__ import annotations

import numpy as np

from compliance_mia.assessment import RecordRisk
from compliance_mia.metrics._ranking import check_scores
from compliance_mia.metrics._settings import StatisticsSettings

#: Most records listed in the Assessment, whatever the data size.
MAX_RECORDS = 10_000


def record_risks(
    scores: np.ndarray,
    is_member: np.ndarray,
    ids: np.ndarray,
    *,
    settings: StatisticsSettings,
) -> list[RecordRisk]:
    """Members ranked by attack score, most exposed first.

    Parameters
    ----------
    scores, is_member : ndarray of shape (n_records,)
    ids : array-like of shape (n_records,)
        Record IDs (the only identifying thing reported).
    settings : StatisticsSettings
        ``reference_fpr`` sets which members are flagged; ``top_records`` how
        many are listed at least.

    Returns
    -------
    list of RecordRisk
        Every member flagged at the reference FPR plus the ``top_records``
        highest-scoring members, at most :data:`MAX_RECORDS`. ``rank`` is
        1 + the number of members with a strictly higher score (tied members
        share a rank); ``p_value`` = (1 + non-members scoring ≥ the record) /
        (1 + non-members); ``flagged`` = at most ``reference_fpr`` of
        non-members score as high.
    """
    s, m = check_scores(scores, is_member)
    raw_ids = np.asarray(ids)
    if raw_ids.shape != s.shape:
        raise ValueError(f"{raw_ids.size} record IDs for {s.size} scores")
    non = np.sort(s[~m])
    n0 = non.size
    member_idx = np.flatnonzero(m)
    ms = s[member_idx]
    at_least = n0 - np.searchsorted(non, ms, side="left")
    flagged = at_least <= np.floor(settings.reference_fpr * n0 + 1e-9)
    keep = min(max(int(flagged.sum()), settings.top_records), MAX_RECORDS, member_idx.size)
    finite = ms[np.isfinite(ms)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if keep == 0:
        return []
    # Only the `keep` highest-scoring members are listed: order (score descending, then ID as
    # text) just those at or above the keep-th highest score, ties at that score included, so
    # the listing is the one a sort of every member gives without turning every ID into text.
    cutoff = -np.partition(-ms, keep - 1)[keep - 1]
    candidates = np.flatnonzero(ms >= cutoff)
    candidate_ids = raw_ids[member_idx[candidates]].astype(str)
    order = candidates[np.lexsort((candidate_ids, -ms[candidates]))]
    id_text = dict(zip(candidates.tolist(), candidate_ids.tolist(), strict=True))
    descending = -np.sort(-ms)
    ranks = 1 + np.searchsorted(-descending, -ms, side="left")
    out = []
    for j in order[:keep]:
        out.append(
            RecordRisk(
                record_id=str(id_text[j]),
                is_member=True,
                score=float(np.clip(ms[j], lo, hi)),
                rank=int(ranks[j]),
                p_value=float((1 + at_least[j]) / (1 + n0)),
                flagged=bool(flagged[j]),
            )
        )
    return out

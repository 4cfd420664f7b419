"""The faster bootstrap gives, bit for bit, the resampled AUCs of the original one."""

import numpy as np
import pytest

from compliance_mia.metrics import _intervals
from compliance_mia.metrics._intervals import bootstrap_auc
from compliance_mia.metrics._ranking import ScoreGroups


def _original(groups: ScoreGroups, *, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The implementation before issue 13, verbatim: one bincount over every group per resample."""
    n1, n0, n_groups = groups.n_members, groups.n_non_members, groups.values.size
    g_mem = np.sort(groups.group[groups.is_member])  # drawn from sorted scores: order-free (issue 12)
    g_non = np.sort(groups.group[~groups.is_member])
    chunk = int(max(1, min(resamples, _intervals._CHUNK_CELLS // (n1 + n0 + 2 * n_groups))))
    out = np.empty(resamples, dtype=float)
    done = 0
    while done < resamples:
        c = min(chunk, resamples - done)
        offset = (np.arange(c) * n_groups)[:, None]
        mem = g_mem[rng.integers(0, n1, size=(c, n1))] + offset
        non = g_non[rng.integers(0, n0, size=(c, n0))] + offset
        m_counts = np.bincount(mem.ravel(), minlength=c * n_groups).reshape(c, n_groups)
        n_counts = np.bincount(non.ravel(), minlength=c * n_groups).reshape(c, n_groups)
        below = np.cumsum(n_counts, axis=1) - n_counts
        wins = np.sum(m_counts * (below + 0.5 * n_counts), axis=1)
        out[done : done + c] = wins / (float(n1) * float(n0))
        done += c
    return out


@pytest.mark.parametrize("decimals", [None, 1, 0])  # continuous, tied, heavily tied scores
@pytest.mark.parametrize("sizes", [(40, 25), (700, 1300), (3000, 3000)])
def test_bootstrap_is_bit_identical_to_original(decimals, sizes):
    gen = np.random.default_rng(11)
    n1, n0 = sizes
    scores = np.concatenate([gen.normal(0.4, 1.0, n1), gen.normal(0.0, 1.0, n0)])
    if decimals is not None:
        scores = np.round(scores, decimals)
    scores[:3] = -np.inf  # NaN-like lowest scores and an extreme tie group
    groups = ScoreGroups.build(scores, np.r_[np.ones(n1, bool), np.zeros(n0, bool)])
    fast = bootstrap_auc(groups, resamples=120, rng=np.random.default_rng(3))
    slow = _original(groups, resamples=120, rng=np.random.default_rng(3))
    assert np.array_equal(fast, slow)


def test_bootstrap_identical_across_chunks(monkeypatch):
    gen = np.random.default_rng(2)
    scores = np.round(gen.normal(0, 1, 2000), 2)
    groups = ScoreGroups.build(scores, np.arange(2000) % 3 == 0)
    monkeypatch.setattr(_intervals, "_CHUNK_CELLS", 20_000)  # several blocks of resamples
    fast = bootstrap_auc(groups, resamples=37, rng=np.random.default_rng(9))
    slow = _original(groups, resamples=37, rng=np.random.default_rng(9))
    assert np.array_equal(fast, slow)


def _records_original(scores, is_member, ids, *, settings):
    """record_risks before issue 13, verbatim: every ID as text, every member sorted."""
    from compliance_mia.assessment import RecordRisk
    from compliance_mia.metrics._ranking import check_scores
    from compliance_mia.metrics._records import MAX_RECORDS

    s, m = check_scores(scores, is_member)
    record_ids = np.asarray(ids).astype(str)
    non = np.sort(s[~m])
    n0 = non.size
    member_idx = np.flatnonzero(m)
    ms = s[member_idx]
    at_least = n0 - np.searchsorted(non, ms, side="left")
    flagged = at_least <= np.floor(settings.reference_fpr * n0 + 1e-9)
    order = np.lexsort((record_ids[member_idx], -ms))
    sorted_scores = -np.sort(-ms)
    ranks = 1 + np.searchsorted(-sorted_scores, -ms, side="left")
    keep = min(max(int(flagged.sum()), settings.top_records), MAX_RECORDS, member_idx.size)
    finite = ms[np.isfinite(ms)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return [
        RecordRisk(
            record_id=str(record_ids[member_idx[j]]),
            is_member=True,
            score=float(np.clip(ms[j], lo, hi)),
            rank=int(ranks[j]),
            p_value=float((1 + at_least[j]) / (1 + n0)),
            flagged=bool(flagged[j]),
        )
        for j in order[:keep]
    ]


@pytest.mark.parametrize("kind", ["int", "str", "object"])
@pytest.mark.parametrize("decimals", [None, 0])
@pytest.mark.parametrize("top", [0, 5, 50])
def test_record_risks_identical_to_original(kind, decimals, top):
    from compliance_mia.metrics import StatisticsSettings, record_risks

    gen = np.random.default_rng(4)
    n = 900
    scores = gen.normal(0, 1, n) + (np.arange(n) % 2 == 0)
    if decimals is not None:
        scores = np.round(scores, decimals)
    scores[5] = np.nan
    is_member = np.arange(n) % 2 == 0
    ids = gen.permutation(n)
    if kind == "str":
        ids = np.array([f"r{i}" for i in ids])
    elif kind == "object":
        ids = np.array([i if i % 3 else f"x{i}" for i in ids], dtype=object)
    settings = StatisticsSettings(top_records=top)
    assert record_risks(scores, is_member, ids, settings=settings) == _records_original(
        scores, is_member, ids, settings=settings
    )

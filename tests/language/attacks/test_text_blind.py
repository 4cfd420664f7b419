"""The blind baseline: chance on sets drawn from the same texts, caught shifts, fast.

No text is scored by a classifier that saw it (or a copy of it), and the same seed gives the same scores.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from text_attack_helpers import SEED, auc_ci, passages, random_split

import compliance_mia.language.blind as blind
from compliance_mia.language.blind import BlindBaselineError, blind_baseline, duplicate_key


@pytest.fixture(scope="module")
def same_source():
    return random_split(300, 300)


def test_chance_on_members_and_non_members_from_the_same_texts(same_source):
    auc, lower, upper = auc_ci(
        blind_baseline(same_source.texts, same_source.is_member, seed=SEED), same_source.is_member
    )
    assert lower < 0.5 < upper, (auc, lower, upper)


def test_chance_on_average_over_random_memberships(same_source):
    # One split can land ~2 standard errors from 0.5 by chance; over many it must average to 0.5
    # (out-of-fold scores carry no learnt bias: the expected AUC is exactly chance).
    texts = same_source.texts[:300]
    aucs = []
    for draw in range(6):
        y = np.random.default_rng([SEED, draw]).permutation(np.arange(300) < 150)
        aucs.append(auc_ci(blind_baseline(texts, y, seed=SEED, repeats=1), y)[0])  # one split: the noisiest
    # 150 vs 150: one AUC's standard error under chance is ~0.033, the mean of 6 ~0.014
    assert abs(np.mean(aucs) - 0.5) < 0.035, aucs
    assert max(abs(a - 0.5) for a in aucs) < 0.15, aucs


def test_thousands_of_texts_in_seconds():
    texts = [p.text for p in passages(words=25)][:2000]
    y = np.random.default_rng(SEED).random(2000) < 0.5
    start = time.process_time()
    scores = blind_baseline(texts, y, seed=SEED)
    cpu = time.process_time() - start
    assert scores.shape == (2000,) and np.isfinite(scores).all()
    assert cpu < 15, f"2000 texts took {cpu:.1f} s of CPU (about 2 s expected)"


def test_the_same_seed_gives_the_same_scores_and_another_seed_other_folds(same_source):
    texts, y = same_source.texts[270:350], same_source.is_member[270:350]
    first = blind_baseline(texts, y, seed=3)
    np.testing.assert_array_equal(first, blind_baseline(texts, y, seed=3))
    assert not np.array_equal(first, blind_baseline(texts, y, seed=4))


def test_catches_members_and_non_members_from_different_documents():
    pool = passages()
    docs = sorted({p.doc for p in pool})
    first_half = set(docs[: len(docs) // 2])
    rng = np.random.default_rng(SEED)
    members = [p.text for p in pool if p.doc in first_half]
    non_members = [p.text for p in pool if p.doc not in first_half]
    members = [members[i] for i in rng.permutation(len(members))[:250]]
    non_members = [non_members[i] for i in rng.permutation(len(non_members))[:250]]
    is_member = np.arange(500) < 250
    auc, lower, _ = auc_ci(blind_baseline(members + non_members, is_member, seed=SEED, repeats=1), is_member)
    assert lower > 0.65, (auc, lower)  # measured: 0.77 [0.72, 0.81]


def test_catches_a_date_shift_between_the_same_kind_of_texts(same_source):
    # Das et al.'s temporal shift: members written before a cut-off, non-members after it
    rng = np.random.default_rng(SEED)
    dated = [
        f"Revised {int(rng.integers(2015, 2020)) if m else int(rng.integers(2022, 2025))}. {t}"
        for t, m in zip(same_source.texts, same_source.is_member, strict=True)
    ]
    auc, lower, _ = auc_ci(blind_baseline(dated, same_source.is_member, seed=SEED, repeats=1), same_source.is_member)
    assert lower > 0.9, (auc, lower)


def test_exact_duplicates_across_folds_cannot_inflate_it(same_source):
    # Every text twice, both copies with the same (random) label: a classifier fitted on one copy
    # would "recognise" the other. The copies (differing in case and spacing too) share a fold, so
    # doubling the data leaves the AUC where the single copies put it.
    texts = same_source.texts[:200]
    y = np.random.default_rng(SEED).random(200) < 0.5
    copies = [t.upper().replace(" ", "  ") for t in texts]
    doubled, doubled_y = texts + copies, np.concatenate([y, y])
    single_auc = auc_ci(blind_baseline(texts, y, seed=SEED, repeats=1), y)[0]
    doubled_auc = auc_ci(blind_baseline(doubled, doubled_y, seed=SEED, repeats=1), doubled_y)[0]
    assert abs(doubled_auc - single_auc) < 0.03, (single_auc, doubled_auc)
    assert abs(single_auc - 0.5) < 0.15

    # the same data in folds that ignore duplicates: the check above has teeth
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        naive = cross_val_predict(
            blind._classifier(0),
            doubled,
            doubled_y,
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
            method="decision_function",
        )
    naive_auc, naive_lower, _ = auc_ci(naive, doubled_y)
    assert naive_lower > 0.7, (naive_auc, naive_lower)


def test_no_text_is_scored_by_a_classifier_fitted_on_it_or_a_copy(monkeypatch, same_source):
    seen: list[tuple[set[str], list[str]]] = []
    real = blind._classifier

    class Spy:
        def __init__(self, seed: int):
            self.model = real(seed)
            self.fitted: set[str] = set()

        def fit(self, texts, y):
            self.fitted = {duplicate_key(t) for t in texts}
            return self.model.fit(texts, y)

        def decision_function(self, texts):
            seen.append((self.fitted, list(texts)))
            return self.model.decision_function(texts)

    monkeypatch.setattr(blind, "_classifier", Spy)
    texts = same_source.texts[:120] + [t.lower() for t in same_source.texts[:20]]
    y = np.concatenate([same_source.is_member[:120], same_source.is_member[:20]])
    y[:60] = ~y[:60]  # both classes among the first texts
    y[120:] = y[:20]
    blind_baseline(texts, y, seed=SEED, folds=4, repeats=2)
    assert len(seen) == 8
    scored = [t for _, batch in seen for t in batch]
    assert sorted(scored) == sorted(texts * 2)  # every text scored exactly once per repeat
    for fitted, batch in seen:
        assert not fitted & {duplicate_key(t) for t in batch}


def test_repeats_must_be_a_positive_whole_number():
    with pytest.raises(BlindBaselineError, match="repeats must be a whole number of at least 1 \\(got 0\\)"):
        blind_baseline(["a b", "c d", "e f", "g h"], np.array([1, 1, 0, 0]), seed=SEED, repeats=0)


def test_repeats_average_out_which_texts_share_a_fold(same_source):
    # the scores are the mean of the repeats' out-of-fold scores, each repeat a valid K-fold on its own
    texts, y = same_source.texts[260:360], same_source.is_member[260:360]
    np.testing.assert_allclose(
        blind_baseline(texts, y, seed=SEED, repeats=2) * 2,
        blind_baseline(texts, y, seed=SEED, repeats=1) + _second_repeat(texts, y),
    )


def _second_repeat(texts: list[str], y: np.ndarray) -> np.ndarray:
    """Repeat 1 on its own, rebuilt by hand from its seed streams (folds and classifiers per repeat)."""
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    from compliance_mia.seeding import int_seed

    arr = np.asarray(texts, dtype=object)
    out = np.full(len(texts), np.nan)
    split = StratifiedGroupKFold(5, shuffle=True, random_state=int_seed(SEED, "blind-baseline", "folds", 1))
    with threadpool_limits(limits=1):
        for fold, (train, test) in enumerate(split.split(arr, y, blind._groups(texts))):
            model = blind._classifier(int_seed(SEED, "blind-baseline", "classifier", 1, fold))
            model.fit(list(arr[train]), y[train])
            out[test] = model.decision_function(list(arr[test]))
    return out


def test_folds_shrink_to_the_smaller_class():
    texts = [f"passage number {i} about topic {i % 7}" for i in range(12)]
    y = np.array([True] * 3 + [False] * 9)
    scores = blind_baseline(texts, y, seed=SEED, folds=5)  # 3 distinct members: 3 folds
    assert np.isfinite(scores).all()


@pytest.mark.parametrize(
    ("texts", "y", "folds", "message"),
    [
        (["a b", "c d", "e f"], [True, True, True], 5, "at least 2 distinct texts among both"),
        (["a b", "A  b", "c d", "e f"], [True, True, False, False], 5, "got 1 and 2"),
        (["a b", "c d"], [True], 5, "one value per text \\(2\\)"),
        (["a b", "c d", "e f", "g h"], [1, 2, 0, 0], 5, "True/False"),
        (["a b", "c d", "e f", "g h"], [1, 1, 0, 0], 1, "folds must be a whole number of at least 2"),
        (["a b", "c d", "e f", "g h"], [1, 1, 0, 0], 2.0, "folds must be a whole number"),
        (["a b", None, "e f", "g h"], [1, 1, 0, 0], 5, "every item must be a string"),
        (["1 2", "3 4", "5 6", "7 8", "+ -", "* /"], [1, 1, 1, 0, 0, 0], 3, "no word of two letters or more"),
    ],
)
def test_unusable_inputs_are_refused_with_what_is_needed(texts, y, folds, message):
    with pytest.raises(BlindBaselineError, match=message):
        blind_baseline(texts, np.array(y), seed=SEED, folds=folds)

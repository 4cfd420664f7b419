"""The blind baseline: can members be told from non-members without the model at all?

Published membership evaluations of language models often draw members and
non-members from different distributions (texts from before and after a
training cut-off, different documents, different sources). A classifier that
never looks at the model then separates them as well as, or better than,
the attacks (Das et al. 2024; Duan et al. 2024; Meeus et al. 2024), and the
attacks' figures say nothing about memorisation. This module is that
classifier: TF-IDF word and character n-grams plus the text's length, a
logistic regression, and stratified K-fold cross-validation, so every text is
scored by a classifier that was fitted without it. Its AUC must be measured
(and be compatible with chance) before any attack figure is read as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.errors import ComplianceMiaError
from compliance_mia.seeding import int_seed

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

#: Fewer folds than this leave nothing to validate on; more than the smaller class's distinct texts cannot be made.
MIN_FOLDS = 2
_SPACE = re.compile(r"\s+")


class BlindBaselineError(ComplianceMiaError):
    """The blind baseline cannot be computed on these texts (too few, or one class only)."""


def duplicate_key(text: str) -> str:
    """What makes two texts the same to the classifier: case and whitespace ignored.

    The features lowercase the text and split on whitespace, so texts that
    differ only there are the same point to the classifier; they must fall in
    the same fold, or one copy would be scored by a classifier fitted on the other.
    """
    return _SPACE.sub(" ", text).strip().casefold()


def _log_length(texts: Sequence[str]) -> np.ndarray:
    return np.log1p(np.array([len(t) for t in texts], dtype=float)).reshape(-1, 1)


def _classifier(seed: int) -> Pipeline:
    """TF-IDF word 1–2-grams, character 2–4-grams within words, log length; logistic regression.

    Word n-grams catch different topics, names and dates (Das et al.'s
    bag-of-words and date baselines); character n-grams catch spelling,
    formatting and markup; the length catches texts cut differently. Every
    part is fitted inside the fold, vocabulary and IDF included.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float32)),
            ("length", make_pipeline(FunctionTransformer(_log_length), StandardScaler())),
        ]
    )
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000, random_state=seed)
    return make_pipeline(features, model)


def blind_baseline(
    texts: list[str], is_member: np.ndarray, *, seed: int, folds: int = 5, repeats: int = 3
) -> np.ndarray:
    """Out-of-fold membership scores from a classifier that reads only the texts.

    Parameters
    ----------
    texts : the audited texts, members and non-members together.
    is_member : True (1) for members, False (0) for non-members, one per text.
    seed : the assessment seed; the folds and the classifier derive their
        streams from it, so the scores are the same on every run.
    folds : K of the stratified K-fold; lowered to the smaller class's number
        of distinct texts when that is smaller (at least 2).
    repeats : how many times the K-fold is run with different splits; each
        text's score is the mean over repeats. Which texts happen to share a
        fold moves a single K-fold's AUC by about as much as sampling does
        (±0.03 on 400 texts); averaging over splits removes most of that noise.

    Returns
    -------
    np.ndarray, shape (len(texts),): the classifier's log-odds of
    membership for each text, computed by the fold that did not see it (nor
    any copy of it: exact duplicates, ignoring case and whitespace, share a
    fold). Higher = more member-like. Measure it like an attack (AUC with its
    interval): compatible with chance means the sets do not differ in a way
    these features see.
    """
    from sklearn.model_selection import StratifiedGroupKFold
    from threadpoolctl import threadpool_limits

    if not all(isinstance(t, str) for t in texts):
        raise BlindBaselineError("the blind baseline reads texts: every item must be a string")
    y = _labels(is_member, len(texts))
    groups = _groups(texts)
    distinct = min(len(set(groups[y])), len(set(groups[~y])))
    if distinct < MIN_FOLDS:
        raise BlindBaselineError(
            f"the blind baseline needs at least {MIN_FOLDS} distinct texts among both members and non-members "
            f"(got {len(set(groups[y]))} and {len(set(groups[~y]))})"
        )
    for name, value in (("folds", folds), ("repeats", repeats)):
        least = MIN_FOLDS if name == "folds" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise BlindBaselineError(f"{name} must be a whole number of at least {least} (got {value!r})")
    scores = np.zeros(len(texts))
    texts_array = np.asarray(texts, dtype=object)
    # Small sparse fits gain nothing from BLAS threads and lose much on a busy machine: one thread.
    with threadpool_limits(limits=1):
        for repeat in range(repeats):
            splitter = StratifiedGroupKFold(
                n_splits=min(folds, distinct),
                shuffle=True,
                random_state=int_seed(seed, "blind-baseline", "folds", repeat),
            )
            scored = np.zeros(len(texts), dtype=int)
            for fold, (train, test) in enumerate(splitter.split(texts_array, y, groups)):
                model = _fitted(texts_array, y, train, int_seed(seed, "blind-baseline", "classifier", repeat, fold))
                scores[test] += model.decision_function(list(texts_array[test]))
                scored[test] += 1
            assert (scored == 1).all(), "every text is in exactly one test fold"
    scores /= repeats
    assert np.isfinite(scores).all(), "log-odds of a fitted logistic regression are finite"
    return scores


def _fitted(texts: np.ndarray, y: np.ndarray, train: np.ndarray, seed: int) -> Pipeline:
    if y[train].all() or not y[train].any():
        raise BlindBaselineError(
            "the blind baseline could not make folds with both members and non-members to learn from; "
            "give more distinct texts of each"
        )
    model = _classifier(seed)
    try:
        model.fit(list(texts[train]), y[train])
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise BlindBaselineError(
            "the blind baseline found no word of two letters or more in the texts of a training fold"
        ) from None
    return model


def _labels(is_member: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(is_member)
    if y.shape != (n,):
        raise BlindBaselineError(f"is_member must hold one value per text ({n}), got shape {y.shape}")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise BlindBaselineError("is_member must be True/False (or 1/0) for every text")
        y = y.astype(bool)
    return y


def _groups(texts: Sequence[str]) -> np.ndarray:
    index: dict[str, int] = {}
    return np.array([index.setdefault(duplicate_key(t), len(index)) for t in texts])

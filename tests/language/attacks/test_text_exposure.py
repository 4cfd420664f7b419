"""reduce_scores hides exactly what each text exposure does not show, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.language.exposure import OUTPUTS, poorer, reduce_scores, shows
from compliance_mia.language.logprobs import TokenScores


def _raw() -> list[TokenScores]:
    top = np.log(np.array([[0.5, 0.3, 0.1, 0.05], [0.7, 0.2, 0.05, 0.01], [0.4, 0.4, 0.1, 0.1]]))
    return [TokenScores(np.log([0.3, 0.7, 0.1]), top), TokenScores(np.log([0.2]), None)]


def test_exposures_are_ordered_poorest_first():
    assert OUTPUTS == ("generated_text", "token_logprobs", "top_k_logprobs")
    assert shows("top_k_logprobs", "token_logprobs") and shows("top_k_logprobs", "generated_text")
    assert shows("token_logprobs", "token_logprobs") and not shows("token_logprobs", "top_k_logprobs")
    assert not shows("generated_text", "token_logprobs")
    assert poorer("top_k_logprobs") == ["token_logprobs", "generated_text"]
    assert poorer("generated_text") == []
    with pytest.raises(ValueError, match="unknown text exposure 'probabilities'"):
        shows("probabilities", "token_logprobs")  # type: ignore[arg-type]


def test_generated_text_shows_no_score():
    assert reduce_scores(_raw(), "generated_text", None) is None


def test_token_logprobs_drops_the_alternatives_and_keeps_the_tokens():
    raw = _raw()
    reduced = reduce_scores(raw, "token_logprobs", None)
    assert reduced is not None and len(reduced) == 2
    for r, s in zip(reduced, raw, strict=True):
        assert r.top_logprobs is None
        np.testing.assert_array_equal(r.logprobs, s.logprobs)


def test_top_k_keeps_the_k_most_likely_alternatives():
    raw = _raw()
    reduced = reduce_scores(raw, "top_k_logprobs", 2)
    assert reduced is not None
    np.testing.assert_array_equal(reduced[0].top_logprobs, raw[0].top_logprobs[:, :2])
    np.testing.assert_array_equal(reduced[0].logprobs, raw[0].logprobs)
    assert reduced[1].top_logprobs is None  # the target returned none: the attacks needing them say so


def test_top_k_larger_than_returned_keeps_what_was_returned():
    raw = _raw()
    reduced = reduce_scores(raw, "top_k_logprobs", 50)
    assert reduced is not None
    np.testing.assert_array_equal(reduced[0].top_logprobs, raw[0].top_logprobs)


def test_top_k_sorts_rows_a_target_returned_out_of_order_and_puts_missing_last():
    top = np.array([[-2.0, -0.5, np.nan, -1.0]])
    (reduced,) = reduce_scores([TokenScores(np.array([-1.0]), top)], "top_k_logprobs", 2)
    np.testing.assert_array_equal(reduced.top_logprobs, [[-0.5, -1.0]])
    (all_of_it,) = reduce_scores([TokenScores(np.array([-1.0]), top)], "top_k_logprobs", 4)
    np.testing.assert_array_equal(all_of_it.top_logprobs[:, :3], [[-0.5, -1.0, -2.0]])
    assert np.isnan(all_of_it.top_logprobs[0, 3])


def test_reduced_scores_are_copies():
    raw = _raw()
    before = [s.logprobs.copy() for s in raw], raw[0].top_logprobs.copy()
    for outputs, k in (("token_logprobs", None), ("top_k_logprobs", 4)):
        reduced = reduce_scores(raw, outputs, k)
        reduced[0].logprobs[:] = 0.0
        if reduced[0].top_logprobs is not None:
            reduced[0].top_logprobs[:] = 0.0
    for s, b in zip(raw, before[0], strict=True):
        np.testing.assert_array_equal(s.logprobs, b)
    np.testing.assert_array_equal(raw[0].top_logprobs, before[1])


@pytest.mark.parametrize("k", [None, 0, -1, 2.5, True])
def test_top_k_exposure_needs_a_positive_whole_k(k):
    with pytest.raises(ValueError, match="top_k_logprobs needs top_k"):
        reduce_scores(_raw(), "top_k_logprobs", k)


def test_unknown_exposure_is_refused():
    with pytest.raises(ValueError, match="accepted: generated_text, token_logprobs, top_k_logprobs"):
        reduce_scores(_raw(), "label", None)  # type: ignore[arg-type]

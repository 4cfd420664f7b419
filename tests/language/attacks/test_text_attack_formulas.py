"""Each text attack against a hand computation or a brute-force reference on small hand-made scores."""

from __future__ import annotations

import itertools
import zlib
from difflib import SequenceMatcher

import numpy as np
import pytest

from compliance_mia.errors import TargetError
from compliance_mia.language.attacks import (
    TextAttackContext,
    TextAttackError,
    TextScoresError,
    text_attacks,
)
from compliance_mia.language.attacks_generation import continuation_similarity, split_prompt
from compliance_mia.language.attacks_logprob import SIGMA_FLOOR, min_k_plus_plus_tokens
from compliance_mia.language.logprobs import TokenScores

VECTOR = np.array([-0.1, -2.0, -0.5, -3.0, -0.2, -1.0, -0.3, -0.4, -5.0, -0.05])


def _ctx(scores, texts=None, *, reference=None, generate=None, settings=None, ids=None) -> TextAttackContext:
    texts = texts if texts is not None else [f"text {i}" for i in range(len(scores))]
    return TextAttackContext(
        texts=texts,
        scores=scores,
        reference_scores=reference,
        generate=generate,
        seed=0,
        settings=settings or {},
        ids=ids,
    )


def _run(name: str, ctx: TextAttackContext) -> np.ndarray:
    return text_attacks()[name]().run(ctx)


def test_loss_is_the_mean_token_log_likelihood():
    scores = [TokenScores(VECTOR), TokenScores(np.array([-1.0, -2.0]))]
    np.testing.assert_allclose(_run("loss", _ctx(scores)), [VECTOR.sum() / 10, -1.5])


def test_zlib_ratio_divides_by_the_compressed_length_in_bytes():
    texts = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "The quick brown fox jumps over the lazy dog. é"]
    scores = [TokenScores(np.array([-0.5, -1.5])), TokenScores(np.array([-2.0, -4.0, -3.0]))]
    expected = [-1.0 / len(zlib.compress(texts[0].encode("utf-8"))), -3.0 / len(zlib.compress(texts[1].encode()))]
    np.testing.assert_allclose(_run("zlib", _ctx(scores, texts)), expected)
    # the same likelihood on a more compressible text is less surprising: it ranks lower
    same = [TokenScores(np.array([-1.0])), TokenScores(np.array([-1.0]))]
    assert np.argmax(_run("zlib", _ctx(same, texts))) == 1


def test_min_k_on_a_known_vector():
    # 20% of 10 tokens: the two least likely, -5 and -3
    assert _run("min-k", _ctx([TokenScores(VECTOR)]))[0] == pytest.approx(-4.0)
    # 30%: -5, -3, -2
    assert _run("min-k", _ctx([TokenScores(VECTOR)], settings={"min_k_fraction": 0.3}))[0] == pytest.approx(-10 / 3)
    # all of them: the loss attack
    assert _run("min-k", _ctx([TokenScores(VECTOR)], settings={"min_k_fraction": 1.0}))[0] == pytest.approx(
        VECTOR.mean()
    )
    # a text too short for 20% to hold a token keeps its least likely one, not the mean of nothing
    assert _run("min-k", _ctx([TokenScores(np.array([-0.1, -2.5, -0.3]))]))[0] == pytest.approx(-2.5)


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5, 0.75])
def test_min_k_equals_the_brute_force_least_likely_subset(fraction):
    rng = np.random.default_rng(3)
    for n in (4, 7, 9):
        lp = np.log(rng.uniform(0.01, 1.0, size=n))
        m = max(1, int(n * fraction))
        brute = min(np.mean(subset) for subset in itertools.combinations(lp, m))
        got = _run("min-k", _ctx([TokenScores(lp)], settings={"min_k_fraction": fraction}))[0]
        assert got == pytest.approx(brute)


def _explicit_min_k_pp_token(p: np.ndarray, x: int) -> float:
    """The paper's per-token score on a full distribution, written as MIMIR writes it."""
    log_p = np.log(p)
    mu = (p * log_p).sum()
    sigma = np.sqrt((p * log_p**2).sum() - mu**2)
    return (log_p[x] - mu) / sigma


def test_min_k_plus_plus_matches_the_explicit_formula_on_a_full_distribution():
    rng = np.random.default_rng(5)
    vocab, n = 6, 10
    dists = rng.dirichlet(np.ones(vocab), size=n)
    tokens = rng.integers(0, vocab, size=n)
    logprobs = np.log(dists[np.arange(n), tokens])
    top = -np.sort(-np.log(dists), axis=1)  # the whole vocabulary, descending
    per_token = np.array([_explicit_min_k_pp_token(dists[i], tokens[i]) for i in range(n)])
    np.testing.assert_allclose(min_k_plus_plus_tokens(logprobs, top), per_token)
    got = _run("min-k-plus-plus", _ctx([TokenScores(logprobs, top)]))[0]
    assert got == pytest.approx(np.sort(per_token)[:2].mean())


def test_min_k_plus_plus_from_the_top_two_renormalises_over_them():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    a, b = np.log(p[:2])
    q1, q2 = 0.5 / 0.8, 0.3 / 0.8  # renormalised over the visible two
    mu = q1 * a + q2 * b
    sigma = np.sqrt(q1 * q2) * abs(a - b)  # a two-point distribution's standard deviation
    for x in range(4):  # a visible token and tokens outside the top two
        got = min_k_plus_plus_tokens(np.array([np.log(p[x])]), np.array([[a, b]]))[0]
        assert got == pytest.approx((np.log(p[x]) - mu) / sigma)


def test_min_k_plus_plus_ignores_alternatives_the_target_did_not_return():
    lp = np.array([-0.7, -2.0])
    top = np.array([[-0.7, -1.2], [-0.3, -2.0]])
    padded = np.hstack([top, np.full((2, 2), np.nan)])
    np.testing.assert_allclose(min_k_plus_plus_tokens(lp, padded), min_k_plus_plus_tokens(lp, top))
    with_inf = np.hstack([top, np.full((2, 1), -np.inf)])
    np.testing.assert_allclose(min_k_plus_plus_tokens(lp, with_inf), min_k_plus_plus_tokens(lp, top))


def test_min_k_plus_plus_on_a_flat_distribution_stays_finite():
    flat = np.log(np.full((2, 3), 0.1))
    got = min_k_plus_plus_tokens(np.log(np.array([0.1, 0.05])), flat)
    assert got[0] == pytest.approx(0.0, abs=1e-9)  # the token is as likely as every alternative
    assert got[1] == pytest.approx(np.log(0.5) / SIGMA_FLOOR)  # less likely than a flat top-k: far below


def test_min_k_plus_plus_needs_the_alternatives():
    with pytest.raises(TextAttackError, match="Min-K%\\+\\+ needs the top-k alternatives.*text 'b'"):
        _run(
            "min-k-plus-plus",
            _ctx([TokenScores(np.array([-1.0]), np.array([[-0.5]])), TokenScores(VECTOR)], ids=["a", "b"]),
        )
    above_zero = TokenScores(np.array([-1.0]), np.array([[0.5, -1.0]]))
    with pytest.raises(TextScoresError, match="alternative's log-probability above 0 for text #1"):
        _run("min-k-plus-plus", _ctx([above_zero]))
    no_finite = TokenScores(np.array([-1.0, -1.0]), np.array([[-0.5, -1.0], [np.nan, np.nan]]))
    with pytest.raises(TextScoresError, match="no finite alternative"):
        _run("min-k-plus-plus", _ctx([no_finite]))


def test_reference_calibration_is_reference_loss_minus_target_loss():
    target = [TokenScores(np.array([-1.0, -2.0])), TokenScores(np.array([-3.0]))]
    reference = [TokenScores(np.array([-2.0, -2.0, -5.0])), TokenScores(np.array([-1.0, -1.0]))]  # other tokeniser
    np.testing.assert_allclose(_run("reference", _ctx(target, reference=reference)), [-1.5 + 3.0, -3.0 + 1.0])
    with pytest.raises(TextAttackError, match="from the reference model"):
        _run("reference", _ctx(target))


def test_split_prompt_cuts_at_a_word_boundary():
    assert split_prompt("one two three four") == ("one two", " three four")
    assert split_prompt("one two three") == ("one two", " three")
    assert split_prompt("  lead  two ") == ("  lead", "  two ")
    assert split_prompt("abcdef") == ("abc", "def")


def test_continuation_similarity_by_hand():
    assert continuation_similarity(" three  four", "three four") == 1.0
    assert continuation_similarity("", " anything") == 0.0
    assert continuation_similarity("abc", "") == 0.0
    # compared over the shorter: the first 4 characters of the truth
    assert continuation_similarity("abXd", "abcdefgh") == pytest.approx(
        SequenceMatcher(None, "abXd", "abcd", autojunk=False).ratio()
    )
    assert continuation_similarity("abXd", "abcdefgh") == pytest.approx(2 * 3 / 8)


def test_continuation_scores_a_model_that_completes_the_text_highest():
    texts = ["alpha beta gamma delta", "red green blue yellow", "one two three four"]
    rest = {split_prompt(t)[0]: split_prompt(t)[1] for t in texts}
    asked = []

    def generate(prompts: list[str], max_new_tokens: int) -> list[str]:
        asked.append((list(prompts), max_new_tokens))
        return [rest[p] if p.startswith("alpha") else " something else" for p in prompts]

    scores = _run("continuation", _ctx(None, texts, generate=generate, settings={"continuation_tokens": 7}))
    assert asked == [(["alpha beta", "red green", "one two"], 7)]
    assert scores[0] == 1.0 and (scores[1:] < 1.0).all()


def test_continuation_refuses_a_target_that_cannot_generate_or_answers_wrongly():
    with pytest.raises(TextAttackError, match="generates text"):
        _run("continuation", _ctx(None, ["a b"]))
    with pytest.raises(TargetError, match="1 continuations for 2 prompts"):
        _run("continuation", _ctx(None, ["a b", "c d"], generate=lambda p, n: ["x"]))


@pytest.mark.parametrize(
    ("logprobs", "message"),
    [
        (np.array([]), "scored no token of text 'r2'"),
        (np.array([-1.0, np.nan]), "non-finite log-probability for text 'r2'"),
        (np.array([-1.0, -np.inf]), "non-finite log-probability for text 'r2'"),
        (np.array([-1.0, 0.5]), "above 0 for text 'r2'"),
    ],
)
@pytest.mark.parametrize("name", ["loss", "zlib", "min-k", "min-k-plus-plus", "reference"])
def test_unusable_token_scores_are_refused_naming_the_text_by_id(name, logprobs, message):
    good = TokenScores(np.array([-1.0, -2.0]), np.array([[-0.5, -1.0], [-0.5, -2.0]]))
    top = np.full((len(logprobs), 2), -1.0)
    bad = TokenScores(logprobs, top)
    ctx = _ctx([good, bad], ["first text", "second text"], reference=[good, bad], ids=["r1", "r2"])
    with pytest.raises(TextScoresError, match=message) as caught:
        _run(name, ctx)
    assert caught.value.index == 1
    assert "second text" not in str(caught.value)  # records are named by ID, never by content


def test_a_log_probability_of_zero_with_float_noise_is_accepted():
    assert _run("loss", _ctx([TokenScores(np.array([1e-7, -1.0]))]))[0] == pytest.approx(-0.5, abs=1e-6)


@pytest.mark.parametrize("name", ["loss", "zlib", "min-k"])
def test_log_probability_attacks_need_scores(name):
    with pytest.raises(TextAttackError, match="needs per-token log-probabilities"):
        _run(name, _ctx(None, ["a text"]))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_k_fraction": 0}, "'min_k_fraction' must be a fraction in \\(0, 1\\]"),
        ({"min_k_fraction": 1.5}, "'min_k_fraction' must be a fraction"),
        ({"min_k_fraction": "20%"}, "'min_k_fraction' must be a fraction"),
        ({"continuation_tokens": 0}, "'continuation_tokens' must be a whole number"),
        ({"continuation_tokens": 2.5}, "'continuation_tokens' must be a whole number"),
    ],
)
def test_bad_settings_are_refused_with_what_is_accepted(settings, message):
    name = "continuation" if "continuation_tokens" in settings else "min-k"
    ctx = _ctx([TokenScores(VECTOR)], ["a b"], generate=lambda p, n: ["x"] * len(p), settings=settings)
    with pytest.raises(TextAttackError, match=message):
        _run(name, ctx)


def test_text_count_mismatch_is_refused():
    with pytest.raises(TextAttackError, match="token scores for 1 texts, expected 2"):
        _run("loss", _ctx([TokenScores(VECTOR)], ["a", "b"]))

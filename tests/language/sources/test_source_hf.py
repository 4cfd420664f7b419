"""The local Hugging Face target: safetensors only, batch-independent scores, greedy generation."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from text_source_helpers import held_out_texts, training_texts

from compliance_mia.errors import TargetError
from compliance_mia.language.hf import HuggingFaceLM


def test_a_pickle_only_directory_is_refused_naming_the_file(tiny_lm_dir: Path, tmp_path: Path) -> None:
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(tiny_lm_dir / "config.json", pickled / "config.json")
    # not a valid pickle either: if anything tried to unpickle it, the error would be a different one
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(TargetError, match=r"pytorch_model\.bin is a pickle file.*safetensors") as info:
        HuggingFaceLM(pickled)
    assert str(pickled) in str(info.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent", "does not exist"),
        (lambda d: (d / "f.txt").write_text("x") and d / "f.txt", "is a file"),
        (lambda d: d, "no config.json"),
    ],
)
def test_not_a_model_directory(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        HuggingFaceLM(make(tmp_path))


def test_config_without_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(TargetError, match=r"no \*\.safetensors weights"):
        HuggingFaceLM(tmp_path)


def test_a_text_scores_the_same_alone_and_in_a_batch(tiny_lm, texts: list[str]) -> None:
    batched = tiny_lm.score(texts)  # batch_size 4, texts of very different lengths
    assert len(batched) == len(texts)
    for text, together in zip(texts, batched, strict=True):
        (alone,) = tiny_lm.score([text])
        assert alone.logprobs.shape == together.logprobs.shape == (len(tiny_lm.encode(text)) - 1,)
        np.testing.assert_allclose(together.logprobs, alone.logprobs, atol=1e-5, rtol=0)
    # and a different batch composition (reversed order, batch size 3) changes nothing either
    other = HuggingFaceLM(tiny_lm.path, batch_size=3).score(texts[::-1])[::-1]
    for a, b in zip(batched, other, strict=True):
        np.testing.assert_allclose(a.logprobs, b.logprobs, atol=1e-5, rtol=0)


def test_logprobs_are_the_models_next_token_probabilities(tiny_lm, texts: list[str]) -> None:
    vocab = tiny_lm._model.config.vocab_size
    (full,) = tiny_lm.score(texts[:1], top_k=vocab)
    # a whole distribution at every position: exp sums to 1, sorted, and holds the scored token's value
    np.testing.assert_allclose(np.exp(full.top_logprobs).sum(axis=1), 1.0, atol=1e-9)
    assert (np.diff(full.top_logprobs, axis=1) <= 0).all()
    for position, value in enumerate(full.logprobs):
        assert np.isclose(full.top_logprobs[position], value, atol=1e-12).any()


def test_top_k_are_the_k_largest(tiny_lm, texts: list[str]) -> None:
    scores = tiny_lm.score(texts, top_k=5)
    plain = tiny_lm.score(texts)
    for a, b in zip(plain, tiny_lm.score(texts), strict=True):  # deterministic: the very same numbers again
        np.testing.assert_array_equal(a.logprobs, b.logprobs)
    for s, p in zip(scores, plain, strict=True):
        assert s.top_logprobs.shape == (len(s.logprobs), 5)
        assert (np.diff(s.top_logprobs, axis=1) <= 0).all()
        assert (s.top_logprobs[:, 0] >= s.logprobs - 1e-12).all()
        np.testing.assert_allclose(s.logprobs, p.logprobs, atol=1e-12)
        assert p.top_logprobs is None


def test_members_are_likelier_than_held_out_passages(tiny_lm) -> None:
    members = [s.logprobs.mean() for s in tiny_lm.score(training_texts()[:10])]
    others = [s.logprobs.mean() for s in tiny_lm.score(held_out_texts()[:10])]
    assert np.mean(members) > np.mean(others)


def test_long_texts_are_cut_to_the_context_and_said_so(tiny_lm, caplog) -> None:
    long_text = " ".join(["The assignment statement binds names to objects."] * 40)
    with caplog.at_level(logging.WARNING):
        (scores,) = tiny_lm.score([long_text])
    assert len(scores.logprobs) == tiny_lm.max_tokens - 1
    assert "longer than 64 tokens" in caplog.text


def test_one_token_text_has_no_scores(tiny_lm) -> None:
    (scores,) = tiny_lm.score(["a"], top_k=3)
    assert scores.logprobs.shape == (0,) and scores.top_logprobs.shape == (0, 3)


def test_greedy_generation_is_deterministic_and_batch_independent(tiny_lm, texts: list[str]) -> None:
    prompts = [t[: len(t) // 2] for t in (texts[0], texts[7], texts[-2], texts[-1])]  # very different lengths
    batched = tiny_lm.generate(prompts, max_new_tokens=6)
    again = tiny_lm.generate(prompts, max_new_tokens=6)
    alone = [tiny_lm.generate([p], max_new_tokens=6)[0] for p in prompts]
    assert batched == again == alone
    assert all(isinstance(g, str) for g in batched) and any(g for g in batched)
    # greedy: the first new token is the most likely next token
    prompt = texts[0][:60]
    (continued,) = tiny_lm.generate([prompt], max_new_tokens=1)
    (scores,) = tiny_lm.score_tokens([[*tiny_lm.encode(prompt), *tiny_lm.encode(continued)]], top_k=1)
    assert scores.logprobs[-1] == pytest.approx(scores.top_logprobs[-1, 0], abs=1e-9)
    assert tiny_lm.generate(prompts, max_new_tokens=0) == [""] * len(prompts)


def test_a_small_model_runs_on_one_thread_and_leaves_torch_as_it_was(tiny_lm, texts: list[str]) -> None:
    import torch

    assert tiny_lm.threads == 1  # a few thousand parameters: threads would only add synchronisation
    before = torch.get_num_threads()
    tiny_lm.score(texts[:2])
    tiny_lm.generate(texts[:1], max_new_tokens=2)
    assert torch.get_num_threads() == before
    assert HuggingFaceLM(tiny_lm.path, threads=2).threads == 2

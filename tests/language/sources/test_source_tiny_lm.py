"""The seeded tiny LM trainer and the built-in corpus it trains on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from text_source_helpers import TINY, training_texts

from compliance_mia.language.corpus import KINDS, builtin_corpus, document_of
from compliance_mia.language.hf import HuggingFaceLM
from compliance_mia.language.tiny_lm import train_causal_lm


def test_same_seed_same_model_other_seed_another(tiny_lm, tiny_lm_dir: Path, tmp_path: Path, texts) -> None:
    again = train_causal_lm(training_texts(), tmp_path / "again", seed=7, **TINY)
    other = train_causal_lm(training_texts(), tmp_path / "other", seed=8, **TINY)
    first = tiny_lm.score(texts)
    second = HuggingFaceLM(again, batch_size=4).score(texts)
    third = HuggingFaceLM(other, batch_size=4).score(texts)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.logprobs, b.logprobs)  # identical, not merely close
    assert (tmp_path / "again" / "model.safetensors").read_bytes() == (tiny_lm_dir / "model.safetensors").read_bytes()
    assert not all(np.array_equal(a.logprobs, c.logprobs) for a, c in zip(first, third, strict=True))


def test_written_as_safetensors_with_its_tokenizer(tiny_lm_dir: Path) -> None:
    names = {p.name for p in tiny_lm_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in names)


def test_a_reference_can_share_the_targets_tokenizer(tiny_lm_dir: Path, tmp_path: Path) -> None:
    ref = train_causal_lm(["A different text entirely, about other things."] * 3, tmp_path / "ref", seed=1, epochs=1,
                          tokenizer_from=tiny_lm_dir, n_embd=16, n_layer=1, n_head=2, max_tokens=32)
    assert (ref / "tokenizer.json").read_text() == (tiny_lm_dir / "tokenizer.json").read_text()


def test_training_leaves_torch_settings_as_they_were(tmp_path: Path) -> None:
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    train_causal_lm(["one two three four five six"] * 2, tmp_path / "m", seed=0, epochs=1, n_embd=16, n_layer=1,
                    n_head=2, max_tokens=16, vocab_size=280, threads=1)
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == (threads, deterministic)


def test_refuses_no_texts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one text"):
        train_causal_lm([], tmp_path / "m", seed=0, epochs=1)


@pytest.mark.parametrize("kind", KINDS)
def test_builtin_corpora_are_stable_passages_named_by_document(kind: str) -> None:
    passages = builtin_corpus(kind)
    assert len(passages) > 300
    ids = [i for i, _ in passages]
    assert len(set(ids)) == len(ids)
    normalised = [" ".join(text.split()).casefold() for _, text in passages]
    assert len(set(normalised)) == len(normalised)  # no text twice: it could land on both sides of a split
    assert builtin_corpus(kind) == passages  # same order every time
    assert all(120 <= len(text) <= 600 and "\n" not in text for _, text in passages)
    assert len({document_of(i) for i in ids}) > 30


def test_the_two_sources_do_not_overlap() -> None:
    docs = {t for _, t in builtin_corpus("python-docs")}
    docstrings = {t for _, t in builtin_corpus("python-docstrings")}
    assert not docs & docstrings
    with pytest.raises(ValueError, match="unknown corpus 'wiki'"):
        builtin_corpus("wiki")

"""The tiny test model's training texts and size (a module of its own: tests cannot import conftest)."""

from __future__ import annotations


def training_texts() -> list[str]:
    from compliance_mia.language.corpus import builtin_corpus

    return [text for _, text in builtin_corpus("python-docs")[:24]]


def held_out_texts() -> list[str]:
    from compliance_mia.language.corpus import builtin_corpus

    return [text for _, text in builtin_corpus("python-docs")[200:212]]


TINY = {"vocab_size": 300, "n_embd": 32, "n_layer": 1, "n_head": 2, "max_tokens": 64, "epochs": 3}

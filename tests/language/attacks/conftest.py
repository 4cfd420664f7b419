"""Session fixtures for the text attack tests: one memorising n-gram model and its token scores.

The target is an order-8 character n-gram model trained on the members only
(strong enough that a member's continuation is mostly its own); the reference
model is the same kind of model trained on other passages of the same source,
as an attacker's reference would be. Raw scores carry 10 alternatives per
position so every exposure can be reduced from them.
"""

from __future__ import annotations

import pytest
from ngram import CharNgramLM
from text_attack_helpers import Split, random_split

from compliance_mia.language.logprobs import TokenScores

ORDER = 8
RAW_TOP_K = 10


@pytest.fixture(scope="session")
def split() -> Split:
    return random_split(150, 150, 150)


@pytest.fixture(scope="session")
def target(split: Split) -> CharNgramLM:
    return CharNgramLM(split.members, order=ORDER, name="members-lm")


@pytest.fixture(scope="session")
def reference(split: Split) -> CharNgramLM:
    return CharNgramLM(split.others, order=ORDER, name="reference-lm")


@pytest.fixture(scope="session")
def raw_scores(split: Split, target: CharNgramLM) -> list[TokenScores]:
    return target.score(split.texts, top_k=RAW_TOP_K)


@pytest.fixture(scope="session")
def raw_reference_scores(split: Split, reference: CharNgramLM) -> list[TokenScores]:
    return reference.score(split.texts, top_k=RAW_TOP_K)

"""A character n-gram language model: a real, memorising TextTarget small enough for unit tests.

Trained on the member texts with add-one (Laplace) smoothing, it gives every
character it saw after a context more probability than one it did not, so
texts it was trained on get higher likelihood than texts from the same source
it never saw: membership is real and known. Tokens are characters; the first
character of a text has no context and is not scored (the TokenScores
convention), later ones see up to ``order - 1`` characters before them,
padded at the start.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from compliance_mia.language.logprobs import TokenScores

PAD = "\x02"
UNKNOWN = "\x00"


class CharNgramLM:
    """An order-n character model with add-one smoothing; implements the TextTarget protocol."""

    def __init__(self, texts: Sequence[str], *, order: int = 5, name: str = "char-ngram"):
        self.name = name
        self.order = order
        self.vocab = sorted({c for t in texts for c in t} | {UNKNOWN})
        self.index = {c: i for i, c in enumerate(self.vocab)}
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            padded = PAD * (order - 1) + self._known(text)
            for i in range(order - 1, len(padded)):
                self.counts[padded[i - order + 1 : i]][padded[i]] += 1
        self.queries = 0

    def _known(self, text: str) -> str:
        return "".join(c if c in self.index else UNKNOWN for c in text)

    def distribution(self, context: str) -> np.ndarray:
        """The log-probabilities p(· | context) over the vocabulary: (count + 1) / (total + V)."""
        seen = self.counts.get(context[-(self.order - 1) :] if self.order > 1 else "", Counter())
        counts = np.ones(len(self.vocab))
        for c, n in seen.items():
            counts[self.index[c]] += n
        return np.log(counts / counts.sum())

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        self.queries += len(texts)
        out = []
        for text in texts:
            padded = PAD * (self.order - 1) + self._known(text)
            logprobs, tops = [], []
            for i in range(self.order, len(padded)):  # the first character has no context: not scored
                dist = self.distribution(padded[i - self.order + 1 : i])
                logprobs.append(dist[self.index[padded[i]]])
                if top_k:
                    tops.append(np.sort(dist)[::-1][:top_k])
            top = np.array(tops).reshape(len(logprobs), top_k) if top_k else None
            out.append(TokenScores(np.array(logprobs), top))
        return out

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy continuation (ties go to the first character in vocabulary order); continuation only."""
        out = []
        for prompt in prompts:
            context = PAD * (self.order - 1) + self._known(prompt)
            new = ""
            for _ in range(max_new_tokens):
                c = self.vocab[int(np.argmax(self.distribution(context + new)))]
                new += c
            out.append(new)
        return out

    def close(self) -> None:
        pass

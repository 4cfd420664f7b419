"""What a language model reveals about one text: the contract between text targets and text attacks.

Every text target (a local Hugging Face model, an OpenAI-compatible
completions endpoint, a file of per-token log-probabilities) returns
:class:`TokenScores` per text, and text attacks read nothing else. Keeping the
contract this small is what lets the three targets give the same figures on
the same model: they differ only in how the numbers arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

#: What a deployed language model returns to a caller, from richest to poorest.
TextOutput = Literal["top_k_logprobs", "token_logprobs", "generated_text"]


@dataclass(frozen=True)
class TokenScores:
    """One text's tokens as the model scored them (natural-log probabilities).

    ``logprobs[i]`` is log p(token_i | tokens before it) for every token the
    model predicted (a first token with no context is left out, as the
    OpenAI ``echo`` convention and most MIA code do). ``top_logprobs`` holds,
    where the exposure shows them, the k largest log-probabilities at each of
    those positions in descending order (shape ``(len(logprobs), k)``).
    """

    logprobs: np.ndarray
    top_logprobs: np.ndarray | None = None

    def __post_init__(self) -> None:
        lp = np.asarray(self.logprobs, dtype=float)
        if lp.ndim != 1:
            raise ValueError("logprobs must be one-dimensional (one value per token)")
        object.__setattr__(self, "logprobs", lp)
        if self.top_logprobs is not None:
            top = np.asarray(self.top_logprobs, dtype=float)
            if top.ndim != 2 or top.shape[0] != lp.shape[0]:
                raise ValueError("top_logprobs must have one row per token")
            object.__setattr__(self, "top_logprobs", top)


class TextTarget(Protocol):
    """A language model under assessment, as an outside caller reaches it.

    ``score`` returns one :class:`TokenScores` per text, in input order;
    ``top_k`` (when > 0) asks for the k most likely tokens' log-probabilities
    at each position too. ``generate`` continues each prompt greedily (the
    "generated text only" exposure). A target that cannot do one raises
    :class:`compliance_mia.errors.TargetError` naming what it lacks.
    """

    name: str

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]: ...

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]: ...

    def close(self) -> None: ...

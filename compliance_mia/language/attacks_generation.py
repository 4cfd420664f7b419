"""The text attack that needs only generated text: does the model complete the text verbatim?

A deployment that returns no scores at all still leaks membership if, given
the first half of a training text, it continues with the second half. This is
the extraction test of Carlini et al. (2021, 2023: a text is extractable when
the greedy continuation of its prefix reproduces its suffix), graded instead
of exact so it gives a score to rank: the similarity between the greedy
continuation and the true second half.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

import numpy as np

from compliance_mia.errors import TargetError
from compliance_mia.language.attacks_base import (
    TextAttack,
    TextAttackContext,
    TextAttackError,
    TextAttackSpec,
    count_setting,
    register,
)

#: How many new tokens the model is asked for (a character-level model: characters; BPE: ~4 each).
DEFAULT_CONTINUATION_TOKENS = 32

_WORD = re.compile(r"\S+")
_SPACE = re.compile(r"\s+")


def split_prompt(text: str) -> tuple[str, str]:
    """The prompt (first half of the words, no trailing space) and the true rest of ``text``.

    Splitting at a word boundary keeps subword tokenisers' usual "space starts
    a token" convention: the prompt ends on a word and the continuation
    begins with the space. A text of one word is split at its middle character.
    """
    words = list(_WORD.finditer(text))
    if len(words) >= 2:
        cut = words[(len(words) + 1) // 2 - 1].end()
    else:
        cut = len(text) // 2
    return text[:cut], text[cut:]


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def continuation_similarity(generated: str, truth: str) -> float:
    """Similarity in [0, 1] between a continuation and the true rest of the text.

    Both are compared with whitespace collapsed, over the length of the
    shorter (the model returns a fixed number of tokens, the true rest may be
    longer or shorter), as difflib's ratio 2·M/T of matching characters. An
    empty continuation, or nothing left to continue, scores 0.
    """
    g, t = _normalise(generated), _normalise(truth)
    n = min(len(g), len(t))
    if n == 0:
        return 0.0
    return SequenceMatcher(None, g[:n], t[:n], autojunk=False).ratio()


@register
class ContinuationAttack(TextAttack):
    spec = TextAttackSpec(
        name="continuation",
        title="Verbatim continuation",
        summary="Flags a text as a member when the model, given its first half, continues with its second half.",
        family="generation",
        needs="generated_text",
        needs_reference=False,
        cost="high",
        threat_model="the deployment only returns generated text: the attacker sends the first half of each "
        "text as a prompt and compares the greedy continuation with the true second half",
        citation="Carlini et al., Extracting Training Data from Large Language Models, USENIX Security 2021; "
        "Carlini et al., Quantifying Memorization Across Neural Language Models, ICLR 2023",
    )

    def run(self, ctx: TextAttackContext) -> np.ndarray:
        if ctx.generate is None:
            raise TextAttackError("the continuation attack needs a target that generates text, and this one cannot")
        tokens = count_setting(ctx, "continuation_tokens", DEFAULT_CONTINUATION_TOKENS)
        halves = [split_prompt(text) for text in ctx.texts]
        generated = ctx.generate([prompt for prompt, _ in halves], tokens)
        if len(generated) != len(halves) or not all(isinstance(g, str) for g in generated):
            raise TargetError(
                f"the target returned {len(generated)} continuations for {len(halves)} prompts, "
                "or a continuation that is not text"
            )
        return np.array([continuation_similarity(g, rest) for g, (_, rest) in zip(generated, halves, strict=True)])

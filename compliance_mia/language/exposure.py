"""What a deployed language model shows a caller, enforced in one place.

A text attack must not read more than a real outside caller of the deployment
would get back. Every :class:`~compliance_mia.language.logprobs.TokenScores`
an attack reads, the target's and the reference model's alike, passes through
:func:`reduce_scores`, which hides what the exposure does not show: the
alternatives' log-probabilities under ``token_logprobs``, all but the first k
of them under ``top_k_logprobs``, and every score under ``generated_text``.
The same reduction, with a poorer exposure, is how a what-if analysis measures
an output control ("stop returning log-probabilities") before anyone builds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import get_args

import numpy as np

from compliance_mia.language.logprobs import TextOutput, TokenScores

#: Exposures from poorest to richest: each shows everything the ones before it show.
OUTPUTS: tuple[TextOutput, ...] = ("generated_text", "token_logprobs", "top_k_logprobs")

assert set(OUTPUTS) == set(get_args(TextOutput)), "OUTPUTS must order every TextOutput"


def _rank(outputs: str) -> int:
    if outputs not in OUTPUTS:
        raise ValueError(f"unknown text exposure {outputs!r}; accepted: {', '.join(OUTPUTS)}")
    return OUTPUTS.index(outputs)


def shows(outputs: TextOutput, needs: TextOutput) -> bool:
    """Whether a deployment exposing ``outputs`` shows at least what ``needs`` names.

    The order is strict: a deployment returning top-k log-probabilities also
    returns the chosen tokens' log-probabilities and can generate text, so an
    attack that works from a poorer exposure also works from a richer one.
    """
    return _rank(outputs) >= _rank(needs)


def poorer(outputs: TextOutput) -> list[TextOutput]:
    """The exposures strictly poorer than ``outputs``, richest first (the what-if ladder)."""
    return list(reversed(OUTPUTS[: _rank(outputs)]))


def _top_columns(top: np.ndarray, k: int) -> np.ndarray:
    """The k largest entries of each row, descending; non-finite (missing) entries last."""
    # Targets promise descending rows; sorting again costs little and makes "the first k
    # columns" mean "the k most likely tokens" even for a target that breaks the promise.
    ordered = -np.sort(-top, axis=1)  # NaN sorts last either way
    return ordered[:, :k].copy()


def reduce_scores(scores: Sequence[TokenScores], outputs: TextOutput, top_k: int | None) -> list[TokenScores] | None:
    """The token scores a caller of a deployment exposing ``outputs`` would see.

    Parameters
    ----------
    scores : the target's (or reference model's) raw token scores, one per text.
    outputs : the exposure: ``top_k_logprobs`` keeps the first ``top_k``
        alternatives at each position (a target that returned fewer keeps
        what it returned; one that returned none keeps none, and the attacks
        that need them say so); ``token_logprobs`` drops the alternatives;
        ``generated_text`` shows no score at all.
    top_k : how many alternatives the deployment returns (``top_k_logprobs`` only).

    Returns
    -------
    list of TokenScores (fresh arrays, so no attack can alter the raw scores
    another reads), or None under ``generated_text``.
    """
    _rank(outputs)
    if outputs == "generated_text":
        return None
    if outputs == "top_k_logprobs":
        if top_k is None or isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1:
            raise ValueError(f"top_k_logprobs needs top_k, a whole number of at least 1 (got {top_k!r})")
        k = int(top_k)
        return [
            TokenScores(s.logprobs.copy(), None if s.top_logprobs is None else _top_columns(s.top_logprobs, k))
            for s in scores
        ]
    return [TokenScores(s.logprobs.copy()) for s in scores]

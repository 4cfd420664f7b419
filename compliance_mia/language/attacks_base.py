"""The text attack plugin contract: what an attack declares, what it receives, what it returns.

A text attack is a class registered with :func:`register`. Its
:class:`TextAttackSpec` says the poorest exposure it works from (``needs``)
and whether it needs a reference model, so the session can decide what runs
without running anything. :meth:`TextAttack.run` receives a
:class:`TextAttackContext` holding only what an outside caller of the
deployment would have (token scores already reduced by
:func:`compliance_mia.language.exposure.reduce_scores`) and returns one
finite score per text, higher meaning "more likely a member". Attacks never
see membership labels, never write files and know nothing about reports.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from compliance_mia.errors import ComplianceMiaError, TargetError
from compliance_mia.language.exposure import reduce_scores
from compliance_mia.language.logprobs import TextOutput, TokenScores

#: A log-probability above this is not a log-probability (p > 1), beyond float noise.
LOGPROB_TOLERANCE = 1e-4


class TextAttackError(ComplianceMiaError):
    """A text attack cannot run with the settings or inputs it was given."""


class TextScoresError(TargetError):
    """The target's token scores for a text cannot be used (none, non-finite, or above 0)."""

    def __init__(self, message: str, *, index: int):
        super().__init__(message)
        self.index = index  #: position of the offending text in the context


@dataclass(frozen=True)
class TextAttackSpec:
    """What a text attack is and what it needs; read by the session, the CLI and the report."""

    name: str
    title: str
    summary: str  #: one plain-language sentence for the report
    family: str
    needs: TextOutput  #: the poorest exposure the attack works from
    needs_reference: bool
    threat_model: str  #: who the attacker is and what they have, in words
    citation: str = ""
    #: rough cost beyond scoring the texts once: "low" (arithmetic on the scores) or "high"
    #: (new queries per text, e.g. a generated continuation of every text)
    cost: Literal["low", "high"] = "low"


@dataclass(frozen=True)
class TextAttackContext:
    """Everything an attacker with the declared exposure has about the audited texts.

    ``scores`` and ``reference_scores`` are already reduced by the exposure
    (None when it shows no scores, or when there is no reference model).
    ``generate(prompts, max_new_tokens)`` returns greedy continuations (the
    continuation only, without the prompt), or is None when the target cannot
    generate. ``ids`` (optional) name the texts in error messages; without
    them a text is named by its position.
    """

    texts: list[str]
    scores: list[TokenScores] | None
    reference_scores: list[TokenScores] | None
    generate: Callable[[list[str], int], list[str]] | None
    seed: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    ids: Sequence[str] | None = None

    @classmethod
    def build(
        cls,
        *,
        texts: list[str],
        outputs: TextOutput,
        top_k: int | None,
        raw_scores: Sequence[TokenScores] | None,
        raw_reference_scores: Sequence[TokenScores] | None = None,
        generate: Callable[[list[str], int], list[str]] | None = None,
        seed: int,
        settings: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
    ) -> TextAttackContext:
        """The context an attacker with this exposure has, from the *raw* token scores.

        The target's and the reference model's scores both pass through
        :func:`~compliance_mia.language.exposure.reduce_scores` here, so a
        caller cannot forget to hide what the exposure does not show (the
        session, the what-if re-runs under poorer exposures and the tests all
        build contexts this way). ``raw_scores`` may be None when the target
        was not asked for scores (``generated_text``).
        """

        def reduced(raw: Sequence[TokenScores] | None) -> list[TokenScores] | None:
            return None if raw is None else reduce_scores(raw, outputs, top_k)

        if raw_scores is None and outputs != "generated_text":
            raise ValueError(f"exposure {outputs} shows token scores: give the target's raw scores")
        return cls(
            texts=list(texts),
            scores=reduced(raw_scores),
            reference_scores=reduced(raw_reference_scores),
            generate=generate,
            seed=seed,
            settings=dict(settings or {}),
            ids=ids,
        )

    def name_of(self, index: int) -> str:
        """How an error message names text ``index``: by its ID, never by its content."""
        if self.ids is not None and index < len(self.ids):
            return f"text '{self.ids[index]}'"
        return f"text #{index + 1}"


class TextAttack(ABC):
    """Base class of every text membership inference attack."""

    spec: ClassVar[TextAttackSpec]

    @abstractmethod
    def run(self, ctx: TextAttackContext) -> np.ndarray:
        """One finite score per text of ``ctx.texts`` (higher = more likely a member)."""


_REGISTRY: dict[str, type[TextAttack]] = {}


def register(cls: type[TextAttack]) -> type[TextAttack]:
    """Class decorator adding a text attack to the registry (names are unique)."""
    name = cls.spec.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"text attack '{name}' is registered twice")
    _REGISTRY[name] = cls
    return cls


def registered() -> dict[str, type[TextAttack]]:
    """The registry as it stands (use :func:`compliance_mia.language.attacks.text_attacks`)."""
    return dict(_REGISTRY)


def checked_logprobs(
    ctx: TextAttackContext, scores: list[TokenScores] | None, *, what: str = "the target"
) -> list[np.ndarray]:
    """Each text's token log-probabilities, refused with the text's name when unusable.

    A text the model scored no token of (one token long), a non-finite value
    or a "log-probability" above 0 would turn into a NaN, an infinite or a
    meaningless score; a located error is better than a silently wrong figure.
    """
    if scores is None:
        raise TextAttackError(f"this attack needs per-token log-probabilities from {what}, which it does not show")
    if len(scores) != len(ctx.texts):
        raise TextAttackError(f"{what} returned token scores for {len(scores)} texts, expected {len(ctx.texts)}")
    out: list[np.ndarray] = []
    for i, s in enumerate(scores):
        lp = s.logprobs
        if lp.size == 0:
            raise TextScoresError(
                f"{what} scored no token of {ctx.name_of(i)} (a text of a single token leaves nothing "
                "to predict); remove it or give a longer text",
                index=i,
            )
        if not np.isfinite(lp).all():
            raise TextScoresError(f"{what} returned a non-finite log-probability for {ctx.name_of(i)}", index=i)
        if (lp > LOGPROB_TOLERANCE).any():
            raise TextScoresError(
                f"{what} returned a log-probability above 0 for {ctx.name_of(i)} (a probability above 1)",
                index=i,
            )
        out.append(lp)
    return out


def fraction_setting(ctx: TextAttackContext, key: str, default: float) -> float:
    """A setting that must be a fraction in (0, 1]."""
    value = ctx.settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise TextAttackError(f"setting '{key}' must be a fraction in (0, 1] (got {value!r})")
    return float(value)


def count_setting(ctx: TextAttackContext, key: str, default: int) -> int:
    """A setting that must be a whole number of at least 1."""
    value = ctx.settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TextAttackError(f"setting '{key}' must be a whole number of at least 1 (got {value!r})")
    return int(value)


def lowest_fraction_mean(values: np.ndarray, fraction: float) -> float:
    """Mean of the ``fraction`` lowest values: the k% of Min-K% (at least one value).

    ``int(n * fraction)`` as in the papers' code, but never zero: a short text
    keeps its single lowest value instead of giving the mean of nothing (NaN).
    """
    n = max(1, int(len(values) * fraction))
    return float(np.mean(np.sort(values)[:n]))

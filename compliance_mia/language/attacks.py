"""Membership inference attacks on language models: the registry and what runs under an exposure.

The attacks themselves live in :mod:`~compliance_mia.language.attacks_logprob`
(loss, zlib ratio, Min-K%, Min-K%++, reference calibration) and
:mod:`~compliance_mia.language.attacks_generation` (verbatim continuation);
the contract they share in :mod:`~compliance_mia.language.attacks_base`.
This module is the one the session reads: which attacks exist, and which of
them an exposure allows.
"""

from __future__ import annotations

# Importing the attack modules registers their attacks.
from compliance_mia.language import attacks_generation, attacks_logprob  # noqa: F401
from compliance_mia.language.attacks_base import (
    TextAttack,
    TextAttackContext,
    TextAttackError,
    TextAttackSpec,
    TextScoresError,
    registered,
)
from compliance_mia.language.exposure import shows
from compliance_mia.language.logprobs import TextOutput

__all__ = [
    "TextAttack",
    "TextAttackContext",
    "TextAttackError",
    "TextAttackSpec",
    "TextScoresError",
    "runnable",
    "text_attacks",
]


#: The order the attacks are listed in (reports, the CLI): score-based first, then generation.
_MODULES = (attacks_logprob.__name__, attacks_generation.__name__)


def text_attacks() -> dict[str, type[TextAttack]]:
    """Every text attack by name: by module in :data:`_MODULES` order, then in definition order."""

    def position(item: tuple[str, type[TextAttack]]) -> int:
        module = item[1].__module__
        return _MODULES.index(module) if module in _MODULES else len(_MODULES)

    return dict(sorted(registered().items(), key=position))


def runnable(
    outputs: TextOutput, has_reference: bool, *, top_k: int | None = None, can_generate: bool = True
) -> list[str]:
    """The names of the attacks a deployment exposing ``outputs`` allows, in registry order.

    An attack runs when the exposure shows at least what it ``needs`` (a
    richer exposure shows everything a poorer one does, so the list only
    shrinks as the exposure gets poorer) and, if it needs one, a reference
    model is given. Two optional facts narrow it further: ``top_k`` below 2
    leaves Min-K%++ nothing to take a spread over, and ``can_generate=False``
    (a file of log-probabilities) rules out attacks that need generated text.
    """
    names = []
    for name, cls in text_attacks().items():
        spec = cls.spec
        if not shows(outputs, spec.needs) or (spec.needs_reference and not has_reference):
            continue
        if spec.needs == "top_k_logprobs" and top_k is not None and top_k < 2:
            continue
        if spec.needs == "generated_text" and not can_generate:
            continue
        names.append(name)
    return names

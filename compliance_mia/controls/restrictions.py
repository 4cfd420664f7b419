"""What an output control would impose on the current exposure (the arithmetic of restrictions)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from compliance_mia.assessment import (
    ExposureSummary,
)
from compliance_mia.controls.catalogue import ExposureChange

if TYPE_CHECKING:
    from compliance_mia.exposure import Exposure

log = logging.getLogger(__name__)


# ================================================================ exposures
_SCORE_OUTPUTS = ("probabilities", "logits", "top_k")
#: A language model's exposures, richest first: a control may only move right.
_TEXT_ORDER = ("top_k_logprobs", "token_logprobs", "generated_text")


def _text_rank(outputs: str | None) -> int:
    return _TEXT_ORDER.index(outputs) if outputs in _TEXT_ORDER else -1


def restricted_exposure(
    current: Exposure, change: ExposureChange, *, noise_scale: float, noise_seed: int
) -> Exposure | None:
    """The exposure ``change`` would impose on ``current``, or None if it is not stricter.

    Only restrictions an operator could add to the current deployment count:
    labels instead of anything richer; top-k instead of a full score vector
    (or a smaller k); coarser rounding of scores; noise on scores not yet
    perturbed.
    """
    from compliance_mia.exposure import Exposure

    if current.outputs in _TEXT_ORDER or change.outputs in _TEXT_ORDER:
        if _text_rank(change.outputs) > _text_rank(current.outputs) >= 0:
            return Exposure(outputs=str(change.outputs))
        return None
    outputs, top_k, rounding = current.outputs, current.top_k, current.rounding
    stricter = False
    if change.outputs == "label":
        if current.outputs == "label":
            return None
        outputs, top_k, rounding, stricter = "label", None, None, True
    elif change.outputs == "top_k":
        k = int(change.top_k or 1)
        if current.outputs in ("probabilities", "logits"):
            outputs, top_k, stricter = "top_k", k, True
        elif current.outputs == "top_k" and (current.top_k or 0) > k:
            top_k, stricter = k, True
        else:
            return None
    elif change.outputs is not None and change.outputs != current.outputs:
        return None  # widening or sideways moves are not controls
    if change.rounding is not None:
        if outputs not in _SCORE_OUTPUTS:
            return None
        if rounding is None or rounding > change.rounding:
            rounding, stricter = change.rounding, True
        elif not stricter:
            return None
    noise, seed = current.noise_scale, current.noise_seed
    if change.noise:
        if outputs not in _SCORE_OUTPUTS or current.noise_scale:
            return None
        noise, seed, stricter = noise_scale, noise_seed, True
    if not stricter:
        return None
    return Exposure(outputs=outputs, top_k=top_k, rounding=rounding, noise_scale=noise, noise_seed=seed)


def already_satisfied(current: Exposure, change: ExposureChange) -> bool:
    """Whether the current exposure is already at least as strict as ``change``."""
    if current.outputs in _TEXT_ORDER or change.outputs in _TEXT_ORDER:
        return 0 <= _text_rank(change.outputs) <= _text_rank(current.outputs)
    if current.outputs == "label":
        return True
    if change.outputs == "label":
        return False
    if change.outputs == "top_k" and not (current.outputs == "top_k" and (current.top_k or 0) <= (change.top_k or 1)):
        return False
    if change.rounding is not None and not (current.rounding is not None and current.rounding <= change.rounding):
        return False
    if change.noise and not current.noise_scale:
        return False
    return True


def _current_exposure(summary: ExposureSummary) -> Exposure:
    from compliance_mia.exposure import Exposure

    return Exposure(outputs=summary.outputs, top_k=summary.top_k, rounding=summary.rounding)

"""What every model adapter provides.

A Target is the model as the assessment reaches it: an in-process estimator,
a file, an ONNX graph, an HTTP endpoint or a file of predictions. It returns
its *raw* outputs (the richest it has); :mod:`compliance_mia.exposure` then
reduces them to what the deployed model really exposes before any attack
sees them. Adapters never decide what an attacker may see.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator


@dataclass(frozen=True)
class RawOutputs:
    """The model's own outputs for a batch, before the exposure is applied.

    ``probabilities`` has one column per class in :attr:`Target.classes` order.
    Targets that only produce labels (or losses) leave the others ``None``.
    """

    probabilities: np.ndarray | None = None
    labels: np.ndarray | None = None  # class indices into Target.classes
    loss: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.probabilities is None and self.labels is None and self.loss is None:
            raise ValueError("a target must return probabilities, labels or losses")


class Target(ABC):
    """A model under assessment, reached one way or another."""

    #: short name of the adapter, e.g. "skops", "onnx", "http"
    kind: str = "abstract"

    def __init__(self) -> None:
        self.queries = 0  # records sent to the model so far

    @property
    @abstractmethod
    def classes(self) -> np.ndarray:
        """Class labels in the order of the model's probability columns."""

    @property
    def estimator_name(self) -> str:
        """Human-readable model class, or a description of the black box."""
        return "black box"

    @property
    def accepts_arbitrary_inputs(self) -> bool:
        """Whether new inputs can be sent (False for a file of fixed predictions)."""
        return True

    @property
    def unsafe_load(self) -> bool:
        """True when loading the artifact executed code from it (pickle)."""
        return False

    def estimator_template(self) -> BaseEstimator | None:
        """An unfitted copy of the target's estimator for reference models, or None for a black box."""
        return None

    @abstractmethod
    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        """Compute raw outputs; ``ids`` lets prediction-file targets look records up."""

    def raw_outputs(self, X: pd.DataFrame, ids: np.ndarray | None = None) -> RawOutputs:
        """Query the model for ``X`` (records named by ``ids``), counting the queries."""
        if ids is None:
            ids = np.asarray([f"q{i}" for i in range(len(X))])
        out = self._raw(X, ids)
        self.queries += len(X)
        return out

    def close(self) -> None:
        """Release connections or sessions held by the adapter."""


def class_index(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position of each true label in ``classes`` (-1 where the model has no such class).

    Labels are compared as strings as a fallback, so a CSV label ``1`` matches a
    model class ``1`` even when one side was read as text.
    """
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    lookup_str = {str(c): i for i, c in enumerate(classes.tolist())}
    out = np.empty(len(y), dtype=np.int64)
    for j, value in enumerate(y.tolist()):
        idx = lookup.get(value)
        if idx is None:
            idx = lookup_str.get(str(value), -1)
        out[j] = idx
    return out

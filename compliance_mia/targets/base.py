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
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.targets.httpclient import QueryBudget

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.base import BaseEstimator

    from compliance_mia.policy.schema import EstimatorSpec


def class_index(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Re-exported :func:`compliance_mia.data.class_index` (labels are the data layer's).

    Imported on call so that importing a target (and the exposure and attack
    registry above it) does not import pandas.
    """
    from compliance_mia.data import class_index as _class_index

    return _class_index(classes, y)


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


class Target(QueryBudget, ABC):
    """A model under assessment, reached one way or another.

    Every target keeps a :class:`~compliance_mia.targets.httpclient.QueryBudget`
    counting records (none unless a remote target sets it from the policy), so
    the runner can ask any target whether the audit fits before querying.
    """

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

    @property
    def feature_names(self) -> list[str] | None:
        """Input feature names in the order the model was fitted with, when the model records them."""
        return None

    def estimator_template(self) -> BaseEstimator | None:
        """An unfitted copy of the target's estimator for reference models; None for a black box."""
        return None

    #: the policy's ``model.surrogate`` (set by :func:`~compliance_mia.targets.open_target`)
    surrogate_spec: EstimatorSpec | None = None

    def surrogate_estimator(self) -> BaseEstimator | None:
        """An unfitted surrogate estimator declared in the policy, or None.

        A surrogate is *not* a copy of the target: it stands in for a model
        that cannot be cloned (ONNX, HTTP, predictions file), so reference
        models trained with it are reported as surrogates.
        :meth:`estimator_template` never returns a surrogate.
        """
        if self.surrogate_spec is None:
            return None
        from compliance_mia.targets.surrogate import estimator_from_spec

        return estimator_from_spec(self.surrogate_spec)

    def assessment_warnings(self) -> list[str]:
        """Things about how the model was reached that the Assessment must state as warnings.

        E.g. TLS verification turned off for an HTTP target. (Unpickling is
        reported through :attr:`unsafe_load`.)
        """
        return []

    def query_cost(self) -> dict[str, float]:
        """What querying has cost so far: records; remote targets add requests, retries, seconds."""
        return {"records": float(self.queries)}

    @abstractmethod
    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        """Compute raw outputs; ``ids`` lets prediction-file targets look records up."""

    def raw_outputs(self, X: pd.DataFrame, ids: np.ndarray | None = None) -> RawOutputs:
        """Query the model for ``X`` (records named by ``ids``), counting the queries."""
        if ids is None:
            ids = np.asarray([f"q{i}" for i in range(len(X))])
        self.ensure_budget(len(X))
        out = self._raw(X, ids)
        self.queries += len(X)
        return out

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections or sessions held by the adapter."""


def sum_tolerance(n_classes: int) -> float:
    """How far a row of probabilities may sum from 1: rounding to 2 decimals moves each by up to 0.005."""
    return max(0.01, 0.005 * n_classes)


def probability_problem(matrix: np.ndarray) -> tuple[int, str] | None:
    """The first row of ``matrix`` that is not a probability distribution, and why; None if all are.

    Each value must be a finite number in [0, 1] and each row must sum to 1
    within :func:`sum_tolerance` (rounded outputs are accepted). Values are
    never quoted: they are what the model says about a person.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or len(matrix) == 0:
        return None
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        return int(np.flatnonzero(~finite)[0]), "is not a finite number (NaN or infinite)"
    outside = ((matrix < -1e-6) | (matrix > 1 + 1e-6)).any(axis=1)  # float32 outputs reach 1.0000001
    if outside.any():
        return int(np.flatnonzero(outside)[0]), "is outside [0, 1]"
    tol = sum_tolerance(matrix.shape[1])
    off = np.abs(matrix.sum(axis=1) - 1.0) > tol + 1e-9
    if off.any():
        return int(np.flatnonzero(off)[0]), f"does not sum to 1 (tolerance {tol:g})"
    return None

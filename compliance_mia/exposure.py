"""What the deployed model exposes, enforced in one place.

An attack must not see more than a real outside caller would. Every output an
attack reads, from the target or from the attacker's own reference models,
passes through :meth:`Exposure.apply`, which reduces the model's raw outputs
to the declared exposure: the predicted label only, the top-k classes with
their scores, probabilities rounded to n decimals, full probabilities, logits,
or the loss. The same transform, with a stricter setting, is how the what-if
analysis measures an output control before anyone builds it.

What each exposure reveals is stated as *signals* (:class:`Signal`); attacks
declare the signals they need and the planner runs only those it can.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from compliance_mia.policy.schema import ExposureSpec
from compliance_mia.targets.base import RawOutputs

_EPS = 1e-12


class Signal(str, enum.Enum):
    """Information an attack can read from one query."""

    LABEL = "label"  #: the predicted class
    TRUE_CLASS_SCORE = "true_class_score"  #: the model's score for the record's true class (→ loss, confidence)
    SCORE_VECTOR = "score_vector"  #: a score for every class (→ entropy, shadow-model features)
    ARBITRARY_QUERIES = "arbitrary_queries"  #: new, perturbed inputs can be sent

    def describe(self) -> str:
        return _SIGNAL_TEXT[self]


_SIGNAL_TEXT = {
    Signal.LABEL: "the predicted label",
    Signal.TRUE_CLASS_SCORE: "the score of the true class",
    Signal.SCORE_VECTOR: "a score for every class",
    Signal.ARBITRARY_QUERIES: "queries on new (perturbed) inputs",
}


@dataclass(frozen=True)
class Exposure:
    """An output restriction: what a caller of the deployed model gets back.

    ``noise_scale`` adds Gaussian noise to returned probabilities (an output
    perturbation control); it is only used by what-if simulations.
    """

    outputs: str
    top_k: int | None = None
    rounding: int | None = None
    noise_scale: float | None = None
    noise_seed: int = 0

    @classmethod
    def from_spec(cls, spec: ExposureSpec) -> Exposure:
        return cls(outputs=spec.outputs, top_k=spec.top_k, rounding=spec.rounding)

    # ----------------------------------------------------------------- meaning
    def signals(self, n_classes: int, *, arbitrary_queries: bool = True) -> frozenset[Signal]:
        """The signals this exposure reveals for a model with ``n_classes`` classes."""
        out: set[Signal] = set()
        if self.outputs in ("probabilities", "logits", "top_k"):
            out |= {Signal.LABEL, Signal.TRUE_CLASS_SCORE, Signal.SCORE_VECTOR}
        elif self.outputs == "label":
            out |= {Signal.LABEL}
        elif self.outputs == "loss":
            out |= {Signal.TRUE_CLASS_SCORE}
            if n_classes == 2:  # p(true) fixes the whole vector and the predicted label
                out |= {Signal.SCORE_VECTOR, Signal.LABEL}
        if arbitrary_queries and self.outputs != "loss":
            out.add(Signal.ARBITRARY_QUERIES)
        return frozenset(out)

    def describe(self) -> str:
        """Plain-language statement of what a caller receives."""
        if self.outputs == "label":
            text = "the predicted label only"
        elif self.outputs == "top_k":
            text = f"the top {self.top_k} class(es) with their scores"
        elif self.outputs == "probabilities":
            text = "a probability for every class"
        elif self.outputs == "logits":
            text = "raw model scores (logits) for every class"
        else:
            text = "the loss for the record's true label"
        if self.rounding is not None:
            text += f", rounded to {self.rounding} decimal place(s)"
        if self.noise_scale:
            text += f", with Gaussian noise (σ = {self.noise_scale:g}) added"
        return text

    # --------------------------------------------------------------- transform
    def apply(self, raw: RawOutputs, y_index: np.ndarray | None = None, *, n_classes: int | None = None) -> Outputs:
        """Reduce ``raw`` model outputs to what this exposure reveals.

        ``y_index`` (true-class positions) is needed for the loss exposure and
        is never stored in the result. ``n_classes`` is only needed when the
        raw outputs carry no probabilities (a target that reports losses).
        """
        if raw.probabilities is not None:
            n_classes = raw.probabilities.shape[1]
        if self.outputs == "label":
            labels = raw.labels if raw.labels is not None else _argmax(raw.probabilities)
            return Outputs(exposure=self, n_classes=n_classes, labels=labels)
        proba = raw.probabilities
        if proba is None and self.outputs == "loss" and raw.loss is not None and not self.noise_scale:
            return Outputs(exposure=self, n_classes=n_classes, loss=np.asarray(raw.loss, dtype=float))
        if proba is None:
            raise ValueError(f"the target returns only labels, but the exposure '{self.outputs}' needs probabilities")
        proba = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
        if self.noise_scale:
            gen = np.random.default_rng(self.noise_seed)
            proba = np.clip(proba + gen.normal(0.0, self.noise_scale, size=proba.shape), 0.0, None)
            sums = proba.sum(axis=1, keepdims=True)
            proba = np.where(sums > 0, proba / np.where(sums > 0, sums, 1.0), 1.0 / proba.shape[1])
        labels = _argmax(proba)
        if self.outputs in ("probabilities", "logits"):
            shown = proba if self.rounding is None else np.round(proba, self.rounding)
            return Outputs(exposure=self, n_classes=proba.shape[1], labels=labels, scores=shown)
        if self.outputs == "top_k":
            k = min(int(self.top_k or 1), proba.shape[1])
            order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
            shown = np.full_like(proba, np.nan)
            rows = np.arange(len(proba))[:, None]
            values = proba[rows, order]
            if self.rounding is not None:
                values = np.round(values, self.rounding)
            shown[rows, order] = values
            return Outputs(exposure=self, n_classes=proba.shape[1], labels=labels, scores=shown)
        if self.outputs == "loss":
            if y_index is None:
                raise ValueError("the loss exposure needs the records' true labels")
            p_true = _true_class(proba, y_index)
            return Outputs(exposure=self, n_classes=proba.shape[1], loss=-np.log(np.maximum(p_true, _EPS)))
        raise ValueError(f"unknown exposure '{self.outputs}'")


def _argmax(proba: np.ndarray | None) -> np.ndarray:
    assert proba is not None
    return np.argmax(proba, axis=1)


def _true_class(matrix: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    valid = y_index >= 0
    out = np.zeros(len(matrix), dtype=float)
    out[valid] = matrix[np.flatnonzero(valid), y_index[valid]]
    return out


@dataclass(frozen=True)
class Outputs:
    """Exposed outputs for a batch of records: only what the exposure allows.

    Derived signals are computed from what is exposed and nothing else: with
    top-k, classes that were not returned share the remaining probability mass
    equally (the attacker's best guess); with a loss, p(true) = exp(−loss).
    """

    exposure: Exposure
    n_classes: int | None
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    loss: np.ndarray | None = None

    def __len__(self) -> int:
        for arr in (self.labels, self.scores, self.loss):
            if arr is not None:
                return len(arr)
        return 0

    def predicted_label(self) -> np.ndarray:
        if self.labels is not None:
            return self.labels
        if self.n_classes == 2 and self.loss is not None:
            raise ValueError("predicted labels need the true labels with a loss exposure; use correct()")
        raise PermissionError("this exposure does not reveal the predicted label")

    def correct(self, y_index: np.ndarray) -> np.ndarray:
        """Whether the model's prediction equals the true label."""
        if self.labels is not None:
            return self.labels == y_index
        if self.loss is not None and self.n_classes == 2:
            return np.exp(-self.loss) > 0.5
        raise PermissionError("this exposure does not reveal whether the prediction is correct")

    def score_vector(self) -> np.ndarray:
        """A full per-class score matrix, filling unreturned classes with the attacker's best guess."""
        if self.scores is not None:
            scores = self.scores
            missing = np.isnan(scores)
            if missing.any():
                known = np.where(missing, 0.0, scores).sum(axis=1, keepdims=True)
                n_missing = missing.sum(axis=1, keepdims=True)
                fill = np.clip(1.0 - known, 0.0, None) / np.maximum(n_missing, 1)
                scores = np.where(missing, np.broadcast_to(fill, scores.shape), scores)
            return scores
        raise PermissionError("this exposure does not reveal a score for every class")

    def true_class_score(self, y_index: np.ndarray) -> np.ndarray:
        """The exposed score of each record's true class (p(y|x) as the attacker sees it)."""
        if self.loss is not None:
            return np.exp(-self.loss)
        if self.scores is not None:
            return _true_class(self.score_vector(), y_index)
        raise PermissionError("this exposure does not reveal class scores")

    def loss_values(self, y_index: np.ndarray) -> np.ndarray:
        """Cross-entropy loss of the true class, from what is exposed (finite even for p = 0)."""
        if self.loss is not None:
            return self.loss
        return -np.log(np.clip(self.true_class_score(y_index), _EPS, 1.0))

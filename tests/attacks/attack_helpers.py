"""Helpers for the attack tests: small real models on small data, contexts built by hand.

The runner is not needed to test an attack: :func:`make_context` builds an
:class:`AttackContext` from a fitted estimator, audit and population records
and an exposure with :meth:`AttackContext.build`, exactly as the runner does
(target and reference outputs pass through the exposure; reference models are
trained on first use and memoized per mode).

Data: a 2-class problem from ``make_classification`` with 15% flipped labels
(so a forest that memorises its training set is clearly overfit) plus one
categorical column, split into members (the target's training set),
non-members and the attacker's population, all disjoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from compliance_mia.attacks.base import AttackContext
from compliance_mia.data import RecordSet
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import AttacksSpec
from compliance_mia.reference import ReferenceSet, build_reference_set
from compliance_mia.targets.base import RawOutputs

SEED = 7
N_MEMBERS = 300
N_NON_MEMBERS = 300
N_POPULATION = 800
REFERENCE_MODELS = 4


def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    X, y = make_classification(
        n_samples=n,
        n_features=8,
        n_informative=5,
        n_redundant=1,
        flip_y=0.15,
        class_sep=0.8,
        random_state=seed,
    )
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["group"] = np.where(X[:, 0] > 0, 1, 0) + np.where(
        X[:, 1] > 0.5, 2, 0
    )  # few-valued: categorical
    labels = np.where(y == 1, "yes", "no").astype(object)
    return frame, labels


def record_set(X: pd.DataFrame, y: np.ndarray, role: str, prefix: str) -> RecordSet:
    return RecordSet(
        role=role,
        ids=np.array([f"{prefix}{i:05d}" for i in range(len(X))]),
        X=X.reset_index(drop=True),
        y=np.asarray(y),
        slices=pd.DataFrame(index=range(len(X))),
    )


@dataclass
class Split:
    """Members, non-members, population, and records for a model that never saw the members."""

    members: RecordSet
    non_members: RecordSet
    population: RecordSet
    other: RecordSet  # a disjoint training set for the "never saw the members" target

    @property
    def audit(self) -> RecordSet:
        return RecordSet.concat([self.members, self.non_members], role="audit")

    @property
    def is_member(self) -> np.ndarray:
        return np.r_[np.ones(len(self.members), bool), np.zeros(len(self.non_members), bool)]


def forest(seed: int = SEED) -> RandomForestClassifier:
    """A deliberately overfit forest (fully grown trees), small enough for fast tests."""
    return RandomForestClassifier(n_estimators=25, random_state=seed, n_jobs=1)


def _raw(model, X: pd.DataFrame) -> RawOutputs:
    proba = np.asarray(model.predict_proba(X), dtype=float)
    return RawOutputs(probabilities=proba, labels=proba.argmax(axis=1))


def make_context(
    model,
    split: Split,
    *,
    exposure: Exposure | None = None,
    settings: AttacksSpec | None = None,
    count: int = REFERENCE_MODELS,
    seed: int = SEED,
    backend: str = "sequential",
    cache_dir: Path | None = None,
    arbitrary_queries: bool = True,
) -> AttackContext:
    """An AttackContext for ``model`` as the runner builds it (references memoized per mode)."""
    return build_context(
        model,
        split,
        raw=lambda X: _raw(model, X),
        exposure=exposure,
        settings=settings,
        count=count,
        seed=seed,
        backend=backend,
        cache_dir=cache_dir,
        arbitrary_queries=arbitrary_queries,
    )


def build_context(
    model,
    split: Split,
    *,
    raw: Callable[[pd.DataFrame], RawOutputs],
    exposure: Exposure | None = None,
    settings: AttacksSpec | None = None,
    count: int = REFERENCE_MODELS,
    seed: int = SEED,
    backend: str = "sequential",
    cache_dir: Path | None = None,
    arbitrary_queries: bool = True,
    adjust_references: Callable[[ReferenceSet], ReferenceSet] | None = None,
    reference_cache: dict[str, ReferenceSet] | None = None,
) -> AttackContext:
    """:func:`make_context` with the target's raw outputs from ``raw`` and hooks for tests.

    ``adjust_references`` rewrites each trained reference set before attacks
    see it (e.g. perturbing its raw outputs); ``reference_cache`` shares
    trained sets between contexts.
    """
    exposure = exposure or Exposure(outputs="probabilities")
    settings = settings or AttacksSpec()
    classes = np.asarray(model.classes_)
    audit = split.audit
    population = split.population
    cache: dict[str, ReferenceSet] = {} if reference_cache is None else reference_cache
    queries = {"n": 0}

    def references(mode: str):
        if mode not in cache:
            cache[mode] = build_reference_set(
                estimator=model,
                surrogate=False,
                mode=mode,
                count=count,
                audit=audit,
                population=population,
                classes=classes,
                seed=seed,
                backend=backend,
                n_jobs=2,
                cache_dir=cache_dir,
                use_cache=cache_dir is not None,
            )
        return cache[mode] if adjust_references is None else adjust_references(cache[mode])

    def query(X: pd.DataFrame) -> RawOutputs:
        queries["n"] += len(X)
        return raw(X)

    ctx = AttackContext.build(
        classes=classes,
        exposure=exposure,
        seed=seed,
        settings=settings,
        audit=audit,
        target=raw(audit.X),
        population=population,
        population_target=raw(population.X),
        query=query if arbitrary_queries else None,
        references=references,
    )
    ctx.extra["query_counter"] = queries
    ctx.extra["reference_cache"] = cache
    return ctx


def auc_ci(
    scores: np.ndarray, is_member: np.ndarray, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """AUC with its bootstrap interval, from the project's metrics (estimate, lower, upper)."""
    from compliance_mia.metrics import StatisticsSettings, evaluate_attack

    settings = StatisticsSettings(confidence_level=confidence, bootstrap_resamples=400)
    metrics = evaluate_attack(scores, is_member, settings=settings, seed=SEED, stream="test")
    return metrics.auc.estimate, metrics.auc.lower, metrics.auc.upper


def tpr_at_fpr(scores: np.ndarray, is_member: np.ndarray, fpr: float) -> float:
    """Highest TPR of the exact ROC (ties kept together) at a false-positive rate ≤ ``fpr``."""
    from sklearn.metrics import roc_curve

    fprs, tprs, _ = roc_curve(is_member, scores)
    return float(tprs[fprs <= fpr + 1e-12].max())

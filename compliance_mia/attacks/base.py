"""The attack plugin contract.

An attack is a class registered with :func:`register`. It declares the signals
it needs from the deployed model (:class:`~compliance_mia.exposure.Signal`),
whether it needs reference models, and a rough cost, so the planner can decide
without running it. :meth:`Attack.run` receives an :class:`AttackContext`
holding only what an outside attacker with the declared exposure would have
(exposed target outputs, the attacker's background data, reference models it
trained itself, seen through the same exposure) and returns one score per
audit record, higher meaning "more likely a member". Attacks never see
membership labels of the audit records, never write files and know nothing
about reports.

Contexts are made by :meth:`AttackContext.build` from *raw* outputs: it is
the one place that reduces the target's outputs, its answers to new queries
and the reference models' outputs to the exposure, so the runner, the tests
and the benchmarks cannot assemble a context that shows an attack more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from compliance_mia.exposure import Exposure, Outputs, Signal
from compliance_mia.targets.base import RawOutputs, class_index

if TYPE_CHECKING:
    import pandas as pd

    from compliance_mia.data import RecordSet
    from compliance_mia.policy.schema import AttacksSpec
    from compliance_mia.reference import ReferenceSet
    from compliance_mia.reference.exposed import ExposedReferences

Cost = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class AttackSpec:
    """What an attack is and what it needs; read by the planner, the CLI and the report."""

    name: str
    title: str
    family: str
    summary: str  #: one plain-language sentence for the report
    signal: str  #: what it reads, in words
    requires: frozenset[Signal]
    reference_mode: Literal["offline", "online"] | None = None  #: None: needs no reference models
    cost: Cost = "low"
    citation: str = ""
    needs_population: bool = False  #: reads the attacker's background (population) records
    perturbs_inputs: bool = False  #: sends perturbed copies of each record (how many: query_setting)
    #: the AttacksSpec field holding the queries per record a perturbing attack sends to each model
    query_setting: str = "label_only_queries"
    record_seconds: float = 2e-6  #: rough scoring time per record (no queries, no training)

    @property
    def needs_reference_models(self) -> bool:
        return self.reference_mode is not None


@dataclass
class AttackContext:
    """Everything an attacker with the declared exposure has.

    ``target`` holds the exposed outputs of the deployed model on the audit
    records; ``y_index`` their true labels as class positions (an attacker
    testing a record knows the record). ``population`` is the attacker's
    background data with ``population_target`` the deployed model's exposed
    outputs on it. ``query_target`` sends new inputs (None when the target
    only offers fixed predictions). ``references(mode)`` trains or returns
    the attacker's reference models for that mode, as an
    :class:`~compliance_mia.reference.ExposedReferences` view (outputs only
    through ``exposure``).

    Build contexts with :meth:`build`, which applies the exposure itself;
    the constructor takes outputs as given.
    """

    seed: int
    classes: np.ndarray
    exposure: Exposure
    signals: frozenset[Signal]
    audit_ids: np.ndarray
    audit_X: pd.DataFrame
    y_index: np.ndarray
    target: Outputs
    population_X: pd.DataFrame | None
    population_y_index: np.ndarray | None
    population_target: Outputs | None
    query_target: Callable[[pd.DataFrame], Outputs] | None
    references: Callable[[str], ExposedReferences] | None
    settings: AttacksSpec
    queries: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: ids of the population records (None when unknown): attacks that fit a model on the
    #: population check with them that no scored (audit) record is among its training rows
    population_ids: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        *,
        classes: np.ndarray,
        exposure: Exposure,
        seed: int,
        settings: AttacksSpec,
        audit: RecordSet,
        target: RawOutputs | None = None,
        population: RecordSet | None = None,
        population_target: RawOutputs | None = None,
        query: Callable[[pd.DataFrame], RawOutputs] | None = None,
        references: Callable[[str], ReferenceSet] | None = None,
    ) -> AttackContext:
        """The context an attacker with ``exposure`` has, from the target's *raw* outputs.

        Parameters
        ----------
        classes : the target's classes (output columns are aligned to them).
        exposure : what the deployed model reveals; applied here to the
            target's outputs, to its answers to ``query`` and to every output
            of the reference models, so no caller can forget it.
        seed : the assessment seed (attacks derive their streams from it).
        settings : the policy's attack settings.
        audit : the records to score (ids, features, true labels).
        target : the target's raw outputs on ``audit``; None to obtain them
            from ``query``.
        population, population_target : the attacker's background records
            and the target's raw outputs on them (computed with ``query``
            when omitted and ``query`` is given).
        query : raw outputs of the target on new inputs; None when the target
            only offers fixed predictions (then attacks that perturb inputs
            cannot run: the exposure's signals say so).
        references : the attacker's reference models per mode (trained on
            first call, memoized by the caller); attacks receive them as
            :class:`~compliance_mia.reference.ExposedReferences`.

        Returns
        -------
        AttackContext
        """
        classes = np.asarray(classes)
        n_classes = len(classes)
        if target is None:
            if query is None:
                raise ValueError("give the target's raw outputs or a query function")
            target = query(audit.X)
        if population is not None and population_target is None and query is not None:
            population_target = query(population.X)
        y_index = class_index(classes, audit.y)
        population_y_index = class_index(classes, population.y) if population is not None else None
        population_outputs = (
            exposure.apply(population_target, population_y_index, n_classes=n_classes)
            if population_target is not None
            else None
        )

        query_target = None
        if query is not None:
            ask = query

            def query_target(X: pd.DataFrame, y_index: np.ndarray | None = None) -> Outputs:
                return exposure.apply(ask(X), y_index, n_classes=n_classes)

        exposed_references = None
        if references is not None:
            provide = references

            def exposed_references(mode: str) -> ExposedReferences:
                from compliance_mia.reference.exposed import ExposedReferences

                return ExposedReferences(provide(mode), exposure, y_index, population_y_index)

        return cls(
            seed=seed,
            classes=classes,
            exposure=exposure,
            signals=exposure.signals(n_classes, arbitrary_queries=query is not None),
            audit_ids=audit.ids,
            audit_X=audit.X,
            y_index=y_index,
            target=exposure.apply(target, y_index, n_classes=n_classes),
            population_X=population.X if population is not None else None,
            population_y_index=population_y_index,
            population_target=population_outputs,
            query_target=query_target,
            references=exposed_references,
            settings=settings,
            population_ids=population.ids if population is not None else None,
        )

    @property
    def n_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class AttackResult:
    """Per-record membership scores (higher = more likely member), aligned with ``audit_ids``."""

    scores: np.ndarray
    parameters: dict[str, Any] = field(default_factory=dict)
    reference_mode: str | None = None
    reference_models: int = 0
    queries: int = 0

    def __post_init__(self) -> None:
        scores = np.asarray(self.scores, dtype=float)
        if scores.ndim != 1:
            raise ValueError("scores must be one-dimensional")
        if np.isnan(scores).any():
            raise ValueError("attack produced NaN scores")
        object.__setattr__(self, "scores", scores)


class Attack(ABC):
    """Base class of every membership inference attack."""

    spec: ClassVar[AttackSpec]

    def can_run(self, signals: frozenset[Signal]) -> tuple[bool, str]:
        """Whether the exposure reveals what this attack needs, with the reason."""
        missing = sorted(s.value for s in self.spec.requires - signals)
        if missing:
            names = ", ".join(Signal(m).describe() for m in missing)
            return False, f"needs {names}, which the deployed model does not expose"
        return True, "the exposure reveals " + ", ".join(sorted(s.describe() for s in self.spec.requires))

    @abstractmethod
    def run(self, ctx: AttackContext) -> AttackResult:
        """Score every audit record."""


_REGISTRY: dict[str, type[Attack]] = {}


def register(cls: type[Attack]) -> type[Attack]:
    """Class decorator adding an attack to the registry (names are unique)."""
    name = cls.spec.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"attack '{name}' is registered twice")
    _REGISTRY[name] = cls
    return cls


def registry() -> dict[str, type[Attack]]:
    """All registered attacks by name (importing the built-in attack modules first)."""
    import compliance_mia.attacks  # noqa: F401 - registers the built-in attacks

    return dict(_REGISTRY)


def get_attack(name: str) -> type[Attack]:
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown attack '{name}'; known: {', '.join(sorted(reg))}")
    return reg[name]

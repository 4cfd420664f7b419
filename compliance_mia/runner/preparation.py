"""A policy made concrete: the target opened, the data loaded and checked, the attacks planned."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from compliance_mia.assessment import (
    Plan,
)
from compliance_mia.attacks.base import get_attack
from compliance_mia.data import AuditData, check_labels, load_audit_data, reorder_features
from compliance_mia.exposure import Exposure
from compliance_mia.metrics import (
    SampleSizePlan,
    StatisticsSettings,
    records_needed,
)
from compliance_mia.plan import make_plan
from compliance_mia.policy.schema import Policy
from compliance_mia.targets import Target, open_target

if TYPE_CHECKING:  # the session module imports scikit-learn; only a run needs it
    from sklearn.base import BaseEstimator

    from compliance_mia.runner.session import Progress, _ReferenceSource

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """A policy made concrete: target opened, data loaded and checked, attacks planned."""

    policy: Policy
    target: Target
    exposure: Exposure
    source: _ReferenceSource
    data: AuditData
    plan: object  # compliance_mia.plan.PlanResult
    settings: StatisticsSettings
    warnings: list[str]


def prepare(policy: Policy, *, progress: Progress | None = None, outline_only: bool = False) -> Prepared:
    """Open the target, load the data and plan the attacks (no attack runs yet).

    With ``outline_only`` (for :func:`preview`), a plain skops model is not
    loaded but outlined (:func:`_outlined_target`): the plan, the data checks
    and the sample sizes come out the same, and the target cannot be queried.
    The caller owns the returned target and must ``close()`` it.
    """
    progress = progress or _null_progress()
    settings = StatisticsSettings.from_policy(policy)
    warnings: list[str] = []
    progress.stage("Loading the model")
    target = (_outlined_target(policy) if outline_only else None) or open_target(policy)
    try:
        if target.unsafe_load:
            warnings.append(
                "the model was loaded with pickle/joblib because the policy allows it; unpickling executes code "
                "from the file, so the file must come from a trusted source"
            )
        warnings.extend(target.assessment_warnings())
        exposure = Exposure.from_spec(policy.exposure)
        signals = exposure.signals(len(target.classes), arbitrary_queries=target.accepts_arbitrary_inputs)
        source = _source_of(policy, target)
        preliminary = make_plan(
            policy, signals, n_audit=0, n_population=0, can_train_references=source.estimator is not None
        )
        need_population = any(
            get_attack(n).spec.needs_reference_models or get_attack(n).spec.needs_population
            for n in preliminary.selected
        )
        progress.stage("Loading and checking the data")
        data = load_audit_data(
            policy.data,
            seed=policy.seed,
            population_fraction=policy.attacks.reference_models.population_fraction,
            need_population=need_population,
        )
        data = check_labels(
            data,
            target.classes,
            label_column=policy.data.label_column,
            drop_unknown=policy.data.drop_unknown_labels,
        )
        # Reference models and the target see features in the model's order, never the files' order.
        order = target.feature_names or policy.data.feature_columns
        if order:
            data = reorder_features(data, list(order))
        warnings.extend(data.warnings)
        fit_seconds = None
        if policy.attacks.budget_seconds is not None and source.estimator is not None and data.population is not None:
            fit_seconds = _measure_fit_seconds(source.estimator, data, seed=policy.seed)
        plan_result = make_plan(
            policy,
            signals,
            n_audit=len(data.members) + len(data.non_members),
            n_population=len(data.population) if data.population is not None else 0,
            can_train_references=source.estimator is not None,
            fit_seconds=fit_seconds,
        )
    except BaseException:
        target.close()
        raise
    return Prepared(policy, target, exposure, source, data, plan_result, settings, warnings)


class _LogProgress:
    """Stages to the log only (what the session's ``NullProgress`` does, without importing the session)."""

    def stage(self, description: str, total: int | None = None) -> None:
        log.info("%s", description)

    def advance(self, amount: int = 1) -> None:
        """Nothing to draw."""


def _null_progress() -> Progress:
    return _LogProgress()  # type: ignore[return-value]


def _outlined_target(policy: Policy) -> Target | None:
    """The skops model outlined from its schema (no scikit-learn import), or None to load it.

    Only when nothing in planning needs the estimator itself: no time budget
    (that times a real fit) and no reference estimator named in the policy
    (building it imports scikit-learn anyway). The outline itself declines
    anything but plain scikit-learn objects (see
    :func:`~compliance_mia.targets.sklearn.skops_outline`).
    """
    spec = policy.model
    refs = policy.attacks.reference_models
    if spec.format != "skops" or spec.artifact is None or refs.estimator or policy.attacks.budget_seconds is not None:
        return None
    from compliance_mia.targets.sklearn import OutlinedSkopsTarget, skops_outline

    outline = skops_outline(spec.artifact)
    if outline is None:
        return None
    target = OutlinedSkopsTarget(outline, classes=spec.classes)
    target.surrogate_spec = spec.surrogate
    return target


@dataclass(frozen=True)
class _OutlinedSource:
    """The reference-model source of an outlined target, as :func:`preview` reads it.

    ``estimator`` only says that reference models can be trained (every
    object in the file is a scikit-learn estimator, so it clones); it is a
    placeholder, never fitted, and only :func:`preview` sees it.
    """

    estimator: object
    name: str
    surrogate: bool = False


def _source_of(policy: Policy, target: Target) -> _ReferenceSource:
    from compliance_mia.targets.sklearn import OutlinedSkopsTarget

    if isinstance(target, OutlinedSkopsTarget):
        return _OutlinedSource(object(), target.estimator_name)  # type: ignore[return-value]
    from compliance_mia.runner.session import _reference_source

    return _reference_source(policy, target)


def _measure_fit_seconds(estimator: BaseEstimator, data: AuditData, *, seed: int, sample: int = 2000) -> float | None:
    """Time one fit on a sample of the background data and scale it to a reference model's half pool.

    Only done when the policy sets a time budget, so the planner's estimate
    rests on this machine and this estimator rather than a generic guess.
    """
    from sklearn.base import clone

    from compliance_mia.seeding import rng

    assert data.population is not None
    pool = len(data.population)
    n = min(sample, max(pool // 2, 1))
    index = np.sort(rng(seed, "fit-timing").choice(pool, size=n, replace=False))
    subset = data.population.take(index)
    start = time.perf_counter()
    try:
        clone(estimator).fit(subset.X, subset.y)
    except Exception:  # noqa: BLE001 - a failing fit shows up, located, when the references are trained
        return None
    return (time.perf_counter() - start) * max(pool / 2 / n, 1.0)


@dataclass(frozen=True)
class PlanPreview:
    """What ``compliance-mia plan`` shows before anything runs."""

    plan: Plan
    n_members: int
    n_non_members: int
    n_population: int
    notes: list[str]
    #: members and non-members needed per FPR level for the goal (``lift``) asked
    sample_size: SampleSizePlan | None = None


def preview(policy: Policy, *, lift: float = 2.0) -> PlanPreview:
    """The attack plan and sample sizes for ``policy``, without querying the model.

    ``lift`` is the goal of the sample-size plan: detect an attack that flags
    members this many times as often as non-members.
    """
    prepared = prepare(policy, outline_only=True)
    prepared.target.close()
    data = prepared.data
    notes = list(prepared.plan.plan.notes) + list(prepared.warnings)
    notes.append(f"attacker background data: {data.population_source}")
    notes.extend(_reference_advice(policy, prepared))
    return PlanPreview(
        plan=prepared.plan.plan,
        n_members=len(data.members),
        n_non_members=len(data.non_members),
        n_population=len(data.population) if data.population is not None else 0,
        notes=notes,
        sample_size=records_needed(
            settings=prepared.settings,
            lift=lift,
            n_members=len(data.members),
            n_non_members=len(data.non_members),
        ),
    )


def _reference_advice(policy: Policy, prepared: Prepared) -> list[str]:
    """What the chosen number of reference models supports, in the terms of the attacks planned."""
    selected = set(prepared.plan.selected)
    refs = policy.attacks.reference_models
    count = prepared.plan.reference_count or refs.count
    advice = []
    if not any(get_attack(n).spec.needs_reference_models for n in selected):
        return advice
    advice.append(
        f"{count} reference model(s) per mode ({refs.mode}), trained on "
        f"{'the background data' if refs.mode == 'offline' else 'background data and halves of the audit records'}"
        f"; estimator: {prepared.source.name}{' (surrogate)' if prepared.source.surrogate else ''}"
    )
    if {"lira-online", "lira-offline"} & selected and count < 16:
        advice.append(
            "LiRA fits a Gaussian per record only from 16 reference models per side; with fewer it uses one "
            "pooled variance (more robust at low counts). RMIA is strong from 1-4 models."
        )
    if refs.mode == "offline":
        advice.append(
            "for the strongest audit (the auditor holds the training data) set attacks.reference_models.mode "
            "to 'both' to add online LiRA/RMIA; figures then say which mode they come from"
        )
    return advice

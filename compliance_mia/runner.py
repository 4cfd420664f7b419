"""Policy in, Assessment out: the one flow, wired together.

:func:`run_assessment` opens the target, loads and checks the data, plans the
attacks, runs them through an :class:`AttackSession`, measures them, rates
the risk, recommends and measures controls, and assembles the Assessment
with its evidence. It writes nothing; the CLI hands the Assessment to the
renderers.

The session queries the deployed model once per record set and keeps the
raw outputs, so the same attacks can be re-run under a stricter exposure
(the what-if analysis) without new queries and without retraining the
reference models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from compliance_mia import __version__
from compliance_mia.assessment import (
    Assessment,
    AttackOutcome,
    DataSummary,
    Evidence,
    ExposureSummary,
    Finding,
    Headline,
    ModelSummary,
    Plan,
    ReferenceModelsInfo,
    SystemSummary,
)
from compliance_mia.attacks.base import AttackContext, AttackResult, AttackSpec, get_attack
from compliance_mia.data import AuditData, load_audit_data
from compliance_mia.errors import TargetError
from compliance_mia.evidence import environment, file_evidence, library_versions
from compliance_mia.exposure import Exposure, Outputs, Signal
from compliance_mia.metrics import (
    StatisticsSettings,
    evaluate_attack,
    headline,
    record_risks,
    slice_results,
    statistics_findings,
)
from compliance_mia.plan import make_plan
from compliance_mia.policy.schema import Policy
from compliance_mia.querymemo import OutputMemo
from compliance_mia.reference import ReferenceSet, build_reference_set
from compliance_mia.targets import RawOutputs, Target, class_index, open_target

log = logging.getLogger(__name__)


class Progress(Protocol):
    """How the runner reports progress (the CLI draws it; tests ignore it)."""

    def stage(self, description: str, total: int | None = None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NullProgress:
    def stage(self, description: str, total: int | None = None) -> None:
        log.info("%s", description)

    def advance(self, amount: int = 1) -> None:
        pass


@dataclass(frozen=True)
class _ReferenceSource:
    estimator: BaseEstimator | None
    name: str
    surrogate: bool


class AttackSession:
    """Runs attacks against one target on one set of audit records.

    Holds the target's raw outputs on the audit and population records and
    the reference models (trained on first use, memoized by mode), so that
    attacks can be re-run under any exposure at no extra query cost.
    """

    def __init__(
        self,
        policy: Policy,
        target: Target,
        data: AuditData,
        *,
        settings: StatisticsSettings,
        progress: Progress | None = None,
        reference_source: _ReferenceSource | None = None,
    ) -> None:
        self.policy = policy
        self.target = target
        self.data = data
        self.settings = settings
        self.progress: Progress = progress or NullProgress()
        self.seed = policy.seed
        self.classes = np.asarray(target.classes)
        self.audit = data.audit
        self.is_member = data.is_member
        self.y_index = class_index(self.classes, self.audit.y)
        self.population = data.population
        self.population_y_index = class_index(self.classes, self.population.y) if self.population is not None else None
        self.reference_source = reference_source or _reference_source(policy, target)
        self._references: dict[str, ReferenceSet] = {}
        self.raw_audit: RawOutputs = target.raw_outputs(self.audit.X, self.audit.ids)
        self.raw_population: RawOutputs | None = (
            target.raw_outputs(self.population.X, self.population.ids) if self.population is not None else None
        )
        self.scores: dict[str, np.ndarray] = {}
        self.memo = OutputMemo()
        self._label_only: dict[tuple, tuple[AttackOutcome, np.ndarray]] = {}
        #: attacks the plan selected (what-if re-runs choose among them)
        self.selected: list[str] = []
        #: reference models per mode; the plan may lower the policy's count to fit a time budget
        self.reference_count = 0

    # ---------------------------------------------------------------- planning
    def signals(self, exposure: Exposure) -> frozenset[Signal]:
        return exposure.signals(len(self.classes), arbitrary_queries=self.target.accepts_arbitrary_inputs)

    def runnable(self, exposure: Exposure, candidates: Iterable[str] | None = None) -> list[str]:
        """Attacks (from ``candidates``, default all selected by the policy) the exposure allows."""
        signals = self.signals(exposure)
        names = list(candidates) if candidates is not None else list(self.selected)
        out = []
        for name in names:
            cls = get_attack(name)
            ok, _ = cls().can_run(signals)
            if ok and (not cls.spec.needs_reference_models or self.reference_source.estimator is not None):
                out.append(name)
        return out

    # ------------------------------------------------------------ references
    def references(self, mode: str) -> ReferenceSet:
        """The attacker's reference models for ``mode`` (trained once, then memoized)."""
        if mode not in self._references:
            source = self.reference_source
            if source.estimator is None:
                raise TargetError(
                    "reference models are needed but the target cannot be cloned; name a surrogate "
                    "estimator under model.surrogate or attacks.reference_models.estimator"
                )
            if self.population is None:
                raise TargetError("reference models need attacker background (population) data")
            spec = self.policy.attacks.reference_models
            count = self.reference_count or spec.count
            self.progress.stage(f"Training {count} {mode} reference models ({source.name})", total=count)
            last = [0]

            def tick(done: int, total: int) -> None:
                self.progress.advance(done - last[0])
                last[0] = done

            built = build_reference_set(
                estimator=source.estimator,
                surrogate=source.surrogate,
                mode=mode,
                count=count,
                audit=self.audit,
                population=self.population,
                classes=self.classes,
                seed=self.seed,
                backend=spec.backend,
                n_jobs=spec.n_jobs,
                scheduler_address=spec.scheduler_address,
                cache_dir=spec.cache_dir,
                use_cache=spec.use_cache,
                progress=tick,
            )
            # perturbation attacks ask the same questions again in every what-if re-run
            self._references[mode] = replace(built, memo=self.memo)
        return self._references[mode]

    def reference_info(self) -> ReferenceModelsInfo | None:
        if not self._references:
            return None
        sets = list(self._references.values())
        spec = self.policy.attacks.reference_models
        modes = sorted(self._references)
        return ReferenceModelsInfo(
            count=max(s.count for s in sets),
            mode=" + ".join(modes),
            estimator=self.reference_source.name,
            surrogate=self.reference_source.surrogate,
            pool_size=max(s.pool_size for s in sets),
            backend=spec.backend,
            cache_hits=sum(s.cache_hits for s in sets),
            trained=sum(s.trained for s in sets),
            seconds=float(sum(s.seconds for s in sets)),
        )

    # -------------------------------------------------------------- running
    def exposed_outputs(self, exposure: Exposure) -> tuple[Outputs, Outputs | None]:
        """The target's outputs on the audit and population records, as ``exposure`` reveals them."""
        n_classes = len(self.classes)
        audit = exposure.apply(self.raw_audit, self.y_index, n_classes=n_classes)
        population = None
        if self.raw_population is not None:
            population = exposure.apply(self.raw_population, self.population_y_index, n_classes=n_classes)
        return audit, population

    def context(self, exposure: Exposure, exposed: tuple[Outputs, Outputs | None] | None = None) -> AttackContext:
        """A fresh context for one attack; ``exposed`` re-uses outputs already reduced for this exposure."""
        n_classes = len(self.classes)
        target_outputs, population_outputs = exposed if exposed is not None else self.exposed_outputs(exposure)

        query = None
        if self.target.accepts_arbitrary_inputs:

            def query(X: pd.DataFrame, y_index: np.ndarray | None = None) -> Outputs:
                raw = self.memo.get("target", X, lambda: self.target.raw_outputs(X))
                return exposure.apply(raw, y_index, n_classes=n_classes)

        return AttackContext(
            seed=self.seed,
            classes=self.classes,
            exposure=exposure,
            signals=self.signals(exposure),
            audit_ids=self.audit.ids,
            audit_X=self.audit.X,
            y_index=self.y_index,
            target=target_outputs,
            population_X=self.population.X if self.population is not None else None,
            population_y_index=self.population_y_index,
            population_target=population_outputs,
            query_target=query,
            references=self.references,
            settings=self.policy.attacks,
        )

    def run(
        self,
        names: list[str],
        exposure: Exposure,
        *,
        stream: str = "main",
        label: str | None = None,
        comparison: bool = False,
    ) -> list[AttackOutcome]:
        """Run ``names`` under ``exposure`` and measure each; scores kept in :attr:`scores`.

        ``label`` names the batch in the progress display (default: the exposure).
        ``comparison`` marks a what-if re-run: per-attack AUC intervals are not
        bootstrapped (only point estimates are reported for them; the
        strongest attack's interval comes from :meth:`headline`).
        """
        outcomes: list[AttackOutcome] = []
        self.scores = {}
        exposed = self.exposed_outputs(exposure)
        if names:
            self.progress.stage(label or f"Running {len(names)} attacks on {exposure.describe()}", total=len(names))
        for name in names:
            cls = get_attack(name)
            spec = cls.spec
            reuse_key = _label_only_key(spec, exposure)
            if reuse_key is not None and reuse_key in self._label_only:
                outcome, scores = self._label_only[reuse_key]
                self.scores[name] = scores
                outcomes.append(outcome)
                self.progress.advance()
                continue
            if spec.reference_mode and spec.reference_mode not in self._references:
                self.references(spec.reference_mode)  # its own progress stage; then resume this one
                self.progress.stage(label or f"Running {len(names)} attacks", total=len(names))
                self.progress.advance(len(outcomes))
            ctx = self.context(exposure, exposed)
            before = self.target.queries
            start = time.perf_counter()
            result: AttackResult = cls().run(ctx)
            seconds = time.perf_counter() - start
            if len(result.scores) != len(self.audit):
                raise RuntimeError(f"attack {name} returned {len(result.scores)} scores for {len(self.audit)} records")
            metrics = evaluate_attack(
                result.scores,
                self.is_member,
                settings=self.settings,
                seed=self.seed,
                stream=f"{stream}/{name}",
                n_comparisons=len(names),
                auc_bootstrap=not comparison,
            )
            self.scores[name] = result.scores
            self.progress.advance()
            outcomes.append(
                outcome := AttackOutcome(
                    name=name,
                    title=spec.title,
                    family=spec.family,
                    summary=spec.summary,
                    signal=spec.signal,
                    reference_mode=result.reference_mode,
                    reference_models=result.reference_models,
                    metrics=metrics,
                    parameters=_plain(result.parameters),
                    duration_seconds=round(seconds, 3),
                    queries=int(result.queries or (self.target.queries - before)),
                )
            )
            if reuse_key is not None and not comparison:  # only complete outcomes are re-used
                self._label_only[reuse_key] = (outcome, result.scores)
        return outcomes

    def headline(self, outcomes: list[AttackOutcome]) -> Headline | None:
        if not outcomes:
            return None
        scores = {o.name: self.scores[o.name] for o in outcomes}
        return headline(outcomes, scores, self.is_member, settings=self.settings, seed=self.seed)

    def label_only_headline(self, outcomes: list[AttackOutcome]) -> Headline | None:
        """The strongest of the attacks that read only labels (output masking cannot stop them)."""
        from compliance_mia.findings import is_label_only

        return self.headline([o for o in outcomes if is_label_only(o)])

    def accuracy(self) -> tuple[float | None, float | None]:
        """Accuracy of the target on members and on non-members (utility and overfitting gap)."""
        labels = self.raw_audit.labels
        if labels is None:
            return None, None
        correct = labels == self.y_index
        return float(correct[self.is_member].mean()), float(correct[~self.is_member].mean())

    def with_target(self, target: Target, reference_estimator: BaseEstimator | None, name: str) -> AttackSession:
        """A session for a retrained candidate model on the same records (training-time what-if)."""
        session = AttackSession(
            self.policy,
            target,
            self.data,
            settings=self.settings,
            progress=self.progress,
            reference_source=_ReferenceSource(reference_estimator, name, surrogate=False),
        )
        session.selected = list(self.selected)
        session.reference_count = self.reference_count
        return session


def _label_only_key(spec: AttackSpec, exposure: Exposure) -> tuple | None:
    """Key under which a label-only attack's outcome can be re-used across exposures, or None.

    Every exposure derives the predicted label from the model's own argmax
    (rounding and top-k hide scores, not labels), so an attack that reads
    only labels gets identical inputs, hence identical scores and figures,
    under any output restriction that adds no noise. Re-using the outcome
    keeps the what-if figures of label-only attacks exactly equal to the
    baseline's rather than re-estimating them with fresh bootstrap draws.
    """
    if not spec.requires <= {Signal.LABEL, Signal.ARBITRARY_QUERIES}:
        return None
    if exposure.noise_scale or exposure.outputs == "loss":
        return None
    return (spec.name,)


def _reference_source(policy: Policy, target: Target) -> _ReferenceSource:
    override = policy.attacks.reference_models.estimator or None
    if override is not None:
        from compliance_mia.estimators import estimator_from_spec

        est = estimator_from_spec(override)
        return _ReferenceSource(est, type(est).__name__, surrogate=True)
    template = target.estimator_template()
    if template is not None:
        return _ReferenceSource(template, target.estimator_name, surrogate=False)
    if policy.model.surrogate is not None:
        from compliance_mia.estimators import estimator_from_spec

        est = estimator_from_spec(policy.model.surrogate)
        return _ReferenceSource(est, type(est).__name__, surrogate=True)
    return _ReferenceSource(None, "none", surrogate=False)


def _plain(value: object) -> object:
    """Parameters as JSON-friendly plain values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value


# =============================================================== assessment
def _slice_groups(session: AttackSession) -> dict[str, np.ndarray]:
    groups: dict[str, np.ndarray] = {"class": np.asarray([str(v) for v in session.audit.y], dtype=object)}
    if session.raw_audit.labels is not None:
        correct = session.raw_audit.labels == session.y_index
        groups["prediction"] = np.where(correct, "correct", "incorrect").astype(object)
    for column in session.audit.slices.columns:
        groups[str(column)] = session.audit.slices[column].astype(str).to_numpy(dtype=object)
    return groups


def _assessment_id(evidence_files: list, seed: int) -> str:
    digest = hashlib.sha256()
    for f in sorted(evidence_files, key=lambda f: f.role):
        digest.update(f"{f.role}:{f.sha256}\n".encode())
    digest.update(f"seed:{seed}\ntool:{__version__}\n".encode())
    return digest.hexdigest()[:16]


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


def prepare(policy: Policy, *, progress: Progress | None = None) -> Prepared:
    """Open the target, load the data and plan the attacks (no attack runs yet).

    The caller owns the returned target and must ``close()`` it.
    """
    progress = progress or NullProgress()
    settings = StatisticsSettings.from_policy(policy)
    warnings: list[str] = []
    progress.stage("Loading the model")
    target = open_target(policy)
    try:
        if target.unsafe_load:
            warnings.append(
                "the model was loaded with pickle/joblib because the policy allows it; unpickling executes code "
                "from the file, so the file must come from a trusted source"
            )
        warnings.extend(target.assessment_warnings())
        exposure = Exposure.from_spec(policy.exposure)
        signals = exposure.signals(len(target.classes), arbitrary_queries=target.accepts_arbitrary_inputs)
        source = _reference_source(policy, target)
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


def preview(policy: Policy) -> PlanPreview:
    """The attack plan and sample sizes for ``policy``, without querying the model."""
    prepared = prepare(policy)
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


class _Rater:
    """Rates a headline under an exposure with the policy's matrix, scale and appetite."""

    def __init__(self, policy: Policy) -> None:
        from compliance_mia.risk import load_matrix

        self.policy = policy
        self.matrix = load_matrix(policy.risk.matrix)

    def __call__(self, head: Headline | None, exposure: Exposure, label_head: Headline | None = None):
        from compliance_mia.risk import RiskInputs, rate

        inputs = RiskInputs.from_policy(self.policy, head, label_head, exposure=exposure)
        return rate(inputs, matrix=self.matrix, scale=self.policy.risk.scale, appetite=self.policy.risk.appetite)


@dataclass(frozen=True)
class Baseline:
    """The current exposure's strongest attack and rating (for what-if comparisons)."""

    headline: Headline | None
    risk: object  # RiskRating


def measure_control(policy: Policy, control_id: str, *, progress: Progress | None = None):
    """Measure one catalogue control: the baseline, and the same attacks under the control."""
    from compliance_mia.controls import load_catalogue
    from compliance_mia.whatif import whatif_one

    prepared = prepare(policy, progress=progress)
    try:
        session = AttackSession(
            policy,
            prepared.target,
            prepared.data,
            settings=prepared.settings,
            progress=progress,
            reference_source=prepared.source,
        )
        session.selected = list(prepared.plan.selected)
        session.reference_count = prepared.plan.reference_count
        outcomes = session.run(prepared.plan.selected, prepared.exposure)
        head = session.headline(outcomes)
        rater = _Rater(policy)
        before = Baseline(head, rater(head, prepared.exposure, session.label_only_headline(outcomes)))
        catalogue = load_catalogue(policy.controls.catalogue)
        result = whatif_one(session, control_id, catalogue=catalogue, current=prepared.exposure, rate_fn=rater)
        return before, result
    finally:
        prepared.target.close()


def run_assessment(
    policy: Policy,
    *,
    policy_path: Path | None = None,
    progress: Progress | None = None,
    command: str = "",
    now: dt.datetime | None = None,
) -> Assessment:
    """Run the assessment the policy describes and return its Assessment (writes nothing)."""
    from compliance_mia.controls import action_plan_items, load_catalogue, recommend, signoff_info
    from compliance_mia.findings import leakage_findings
    from compliance_mia.whatif import (
        measure_output_controls,
        measure_training_recipes,
        output_control_scenarios,
        residual_rating,
    )

    progress = progress or NullProgress()
    started = now or dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()
    prepared = prepare(policy, progress=progress)
    target, data, exposure, source, settings = (
        prepared.target,
        prepared.data,
        prepared.exposure,
        prepared.source,
        prepared.settings,
    )
    warnings = list(prepared.warnings)
    plan_result = prepared.plan
    try:
        progress.stage("Querying the model on the audit records")
        n_population = len(data.population) if data.population is not None else 0
        target.ensure_budget(len(data.members) + len(data.non_members) + n_population, "the audit query")
        session = AttackSession(policy, target, data, settings=settings, progress=progress, reference_source=source)
        session.selected = list(plan_result.selected)
        session.reference_count = plan_result.reference_count
        outcomes = session.run(plan_result.selected, exposure)
        head = session.headline(outcomes)
        main_scores = dict(session.scores)
        label_head = session.label_only_headline(outcomes)
        acc_members, acc_non_members = session.accuracy()

        progress.stage("Measuring slices and per-record risk")
        slices = []
        records = []
        if head is not None:
            strongest_scores = main_scores[head.strongest_attack]
            slices = slice_results(
                strongest_scores, session.is_member, _slice_groups(session), settings=settings, seed=policy.seed
            )
            records = record_risks(strongest_scores, session.is_member, session.audit.ids, settings=settings)

        progress.stage("Rating the risk")
        rate_fn = _Rater(policy)
        rating = rate_fn(head, exposure, label_head)

        catalogue = load_catalogue(policy.controls.catalogue)
        what_if = []
        if policy.controls.what_if and head is not None:
            progress.stage("Measuring what output controls would change")
            scenarios = output_control_scenarios(
                catalogue, exposure, noise_scale=policy.controls.output_noise_scale, seed=policy.seed
            )
            what_if.extend(measure_output_controls(session, scenarios, rate_fn=rate_fn))
            if policy.controls.training_recipes:
                progress.stage("Measuring training-time controls (retraining candidates)")
                what_if.extend(
                    measure_training_recipes(
                        session, policy.controls.training_recipes, rate_fn=rate_fn, catalogue=catalogue
                    )
                )
        limits = policy.exposure.query_limit
        exposure_summary = ExposureSummary(
            outputs=policy.exposure.outputs,
            top_k=policy.exposure.top_k,
            rounding=policy.exposure.rounding,
            access=policy.exposure.access,
            query_limit=limits.model_dump() if limits else None,
            monitored=policy.exposure.monitored,
            description=exposure.describe(),
        )
        controls = recommend(
            catalogue=catalogue,
            rating=rating,
            outcomes=outcomes,
            headline=head,
            exposure=exposure_summary,
            regulations=list(policy.regulations),
            what_if=what_if,
        )
        residual = residual_rating(controls, rating)

        findings: list[Finding] = []
        findings.extend(leakage_findings(outcomes, head, label_head, exposure_summary))
        findings.extend(
            statistics_findings(
                outcomes=outcomes,
                headline=head,
                slices=slices,
                settings=settings,
                n_members=len(data.members),
                n_non_members=len(data.non_members),
            )
        )

        evidence_files = []
        if policy_path is not None:
            evidence_files.append(file_evidence("policy", policy_path))
        if policy.model.artifact is not None:
            evidence_files.append(file_evidence("model", policy.model.artifact))
        evidence_files.append(file_evidence("members", policy.data.members))
        evidence_files.append(file_evidence("non-members", policy.data.non_members))
        if policy.data.population is not None:
            evidence_files.append(file_evidence("population", policy.data.population))
        if policy.model.predictions is not None:
            evidence_files.append(file_evidence("predictions", policy.model.predictions.file))

        finished = dt.datetime.now(dt.timezone.utc) if now is None else now
        env = environment()
        plan = plan_result.plan.model_copy(update={"reference_models": session.reference_info()})
        assessment = Assessment(
            assessment_id=_assessment_id(evidence_files, policy.seed),
            title=policy.report.title,
            organisation=policy.report.organisation,
            system=SystemSummary(**policy.system.model_dump()),
            model=ModelSummary(
                format=policy.model.format,
                estimator=target.estimator_name,
                classes=[str(c) for c in target.classes.tolist()],
                task=policy.model.task,
                unsafe_load=target.unsafe_load,
                surrogate=source.name if source.surrogate else None,
            ),
            data=DataSummary(
                categories=list(policy.data.categories),
                data_subjects=policy.data.data_subjects,
                membership_reveals_condition=policy.data.membership_reveals_condition,
                description=policy.data.description,
                n_members=len(data.members),
                n_non_members=len(data.non_members),
                n_population=len(data.population) if data.population is not None else 0,
                population_source=data.population_source,
                n_features=len(data.feature_names),
                feature_names=list(data.feature_names),
                slice_columns=list(policy.data.slice_columns),
                class_balance=_class_balance(data),
                target_accuracy_members=acc_members,
                target_accuracy_non_members=acc_non_members,
                checks=list(data.checks),
            ),
            exposure=exposure_summary,
            regulations=list(policy.regulations),
            **catalogue.scope_evidence(policy.regulations),
            seed=policy.seed,
            statistics=settings.as_dict(),
            plan=plan,
            attacks=outcomes,
            headline=head,
            slices=slices,
            records=records,
            findings=findings,
            risk=rating,
            controls=controls,
            what_if=what_if,
            residual_risk=residual,
            action_plan=action_plan_items(policy, controls),
            signoff=signoff_info(policy),
            warnings=warnings,
            evidence=Evidence(
                files=evidence_files,
                tool_version=__version__,
                versions=library_versions(),
                python=env["python"],
                platform=env["platform"],
                seed=policy.seed,
                started=started.isoformat(timespec="seconds"),
                finished=finished.isoformat(timespec="seconds"),
                duration_seconds=round(time.perf_counter() - clock, 2),
                command=command,
                target_queries=target.queries,
                target_cost=target.query_cost(),
            ),
        )
        if policy.report.previous_assessment is not None:
            from compliance_mia.diff import compare

            previous = Assessment.load(policy.report.previous_assessment)
            assessment = assessment.model_copy(update={"change": compare(previous, assessment)})
        return assessment
    finally:
        target.close()


def _class_balance(data: AuditData) -> dict[str, float]:
    labels = pd.Series(np.concatenate([data.members.y, data.non_members.y])).astype(str)
    shares = labels.value_counts(normalize=True).sort_index()
    return {str(k): round(float(v), 4) for k, v in shares.items()}


__all__ = [
    "AttackSession",
    "NullProgress",
    "PlanPreview",
    "Prepared",
    "Progress",
    "measure_control",
    "prepare",
    "preview",
    "run_assessment",
]

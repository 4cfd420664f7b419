"""An attack session: one target, one set of audit records, attacks re-run under any exposure.

The session queries the deployed model once per record set and keeps the
raw outputs, so the same attacks can be re-run under a stricter exposure
(the what-if analysis) without new queries and without retraining the
reference models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from compliance_mia.assessment import (
    AttackOutcome,
    Headline,
    ReferenceModelsInfo,
)
from compliance_mia.attacks.base import AttackContext, AttackResult, AttackSpec, get_attack
from compliance_mia.data import AuditData
from compliance_mia.errors import TargetError
from compliance_mia.exposure import Exposure, Signal
from compliance_mia.metrics import (
    StatisticsSettings,
    evaluate_attack,
    headline,
)
from compliance_mia.policy.schema import Policy
from compliance_mia.querymemo import OutputMemo
from compliance_mia.reference import ReferenceSet, build_reference_set
from compliance_mia.risk.facts import LeakageProfile, is_label_only, leakage_profile
from compliance_mia.targets import RawOutputs, Target, class_index

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
                online_pool=spec.online_pool,
            )
            if built.cache_hits:
                note = _cache_note(built)
                log.info("%s", note)
                self.progress.stage(note, total=1)
                self.progress.advance(1)
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
            training_seconds_saved=_saved(sets),
        )

    # -------------------------------------------------------------- running
    def context(self, exposure: Exposure) -> AttackContext:
        """A fresh context for one attack; :meth:`AttackContext.build` applies the exposure.

        The context reduces the raw outputs itself, so that no caller can hand
        an attack outputs the exposure did not produce.
        """
        query = None
        if self.target.accepts_arbitrary_inputs:

            def query(X: pd.DataFrame) -> RawOutputs:
                return self.memo.get("target", X, lambda: self.target.raw_outputs(X))

        return AttackContext.build(
            classes=self.classes,
            exposure=exposure,
            seed=self.seed,
            settings=self.policy.attacks,
            audit=self.audit,
            target=self.raw_audit,
            population=self.population,
            population_target=self.raw_population,
            query=query,
            references=self.references,
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
            ctx = self.context(exposure)
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

    def headline(self, outcomes: list[AttackOutcome], *, comparisons: int | None = None) -> Headline | None:
        if not outcomes:
            return None
        scores = {o.name: self.scores[o.name] for o in outcomes}
        return headline(
            outcomes, scores, self.is_member, settings=self.settings, seed=self.seed, comparisons=comparisons
        )

    def label_only_names(self, outcomes: list[AttackOutcome]) -> frozenset[str]:
        """Names of the attacks among ``outcomes`` that read only predicted labels (from the registry)."""
        return frozenset(o.name for o in outcomes if is_label_only({s.value for s in get_attack(o.name).spec.requires}))

    def leakage_profile(
        self, outcomes: list[AttackOutcome], head: Headline | None, label_head: Headline | None
    ) -> LeakageProfile:
        """What the corrected headlines demonstrate, split into score-reading and label-only leakage."""
        return leakage_profile(
            outcomes, headline=head, label_only_headline=label_head, label_only=self.label_only_names(outcomes)
        )

    def label_only_headline(self, outcomes: list[AttackOutcome]) -> Headline | None:
        """The strongest attack that reads only labels, its intervals corrected over every attack run.

        Output masking cannot stop these attacks; correcting over all of
        ``outcomes`` (not only the label-only ones) keeps its figures on the
        same statistical basis as the headline.
        """
        names = self.label_only_names(outcomes)
        return self.headline([o for o in outcomes if o.name in names], comparisons=len(outcomes))

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


def _saved(sets: list[ReferenceSet]) -> float | None:
    """Training time the cache saved over ``sets`` (recorded times), None if none or not known."""
    with_hits = [s for s in sets if s.cache_hits]
    if not with_hits or any(s.seconds_saved is None for s in with_hits):
        return None
    return round(sum(float(s.seconds_saved or 0.0) for s in with_hits), 3)


def _cache_note(built: ReferenceSet) -> str:
    """'8 offline reference models from the cache, about 12 s of training saved' (recorded, not guessed)."""
    models = "model" if built.cache_hits == 1 else "models"
    text = f"{built.cache_hits} {built.mode} reference {models} from the cache"
    if built.seconds_saved is not None:
        text += f", about {built.seconds_saved:.1f} s of training saved"
    else:
        text += " (training time not recorded in the cache, so the saving is not stated)"
    if built.trained:
        text += f"; {built.trained} trained"
    return text


def _label_only_key(spec: AttackSpec, exposure: Exposure) -> tuple | None:
    """Key under which a label-only attack's outcome can be re-used across exposures, or None.

    Every exposure derives the predicted label from the model's own argmax
    (rounding and top-k hide scores, not labels), so an attack that reads
    only labels gets identical inputs, hence identical scores and figures,
    under any output restriction that adds no noise. Re-using the outcome
    keeps the what-if figures of label-only attacks exactly equal to the
    baseline's rather than re-estimating them with fresh bootstrap draws.
    """
    if not is_label_only({signal.value for signal in spec.requires}):
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

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
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from compliance_mia import __version__
from compliance_mia.assessment import (
    Assessment,
    DataSummary,
    Evidence,
    ExposureSummary,
    Finding,
    Headline,
    ModelSummary,
    SystemSummary,
)
from compliance_mia.data import AuditData
from compliance_mia.evidence import assessment_id, environment, file_evidence, library_versions
from compliance_mia.exposure import Exposure
from compliance_mia.metrics import (
    record_risks,
    slice_results,
    statistics_findings,
)
from compliance_mia.policy.schema import Policy
from compliance_mia.runner.preparation import prepare
from compliance_mia.runner.session import AttackSession, NullProgress, Progress
from compliance_mia.text import neutralise

log = logging.getLogger(__name__)


# =============================================================== assessment
def _slice_groups(session: AttackSession) -> dict[str, np.ndarray]:
    groups: dict[str, np.ndarray] = {"class": np.asarray([str(v) for v in session.audit.y], dtype=object)}
    if session.raw_audit.labels is not None:
        correct = session.raw_audit.labels == session.y_index
        groups["prediction"] = np.where(correct, "correct", "incorrect").astype(object)
    for column in session.audit.slices.columns:
        groups[str(column)] = session.audit.slices[column].astype(str).to_numpy(dtype=object)
    return groups



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
    if policy.model.task == "text-generation":
        from compliance_mia.errors import ComplianceMiaError

        raise ComplianceMiaError(
            "whatif measures one control of a classifier; for a language model, `compliance-mia run` measures "
            "every output control (poorer exposures) in its report"
        )
    from compliance_mia.controls import load_catalogue
    from compliance_mia.runner.whatif import whatif_one

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
    if policy.model.task == "text-generation":  # a language model: same Assessment, text flow (runner/text.py)
        from compliance_mia.runner.text import run_text_assessment

        return run_text_assessment(policy, policy_path=policy_path, progress=progress, command=command, now=now)
    from compliance_mia.controls import action_plan_items, load_catalogue, recommend, signoff_info
    from compliance_mia.findings import leakage_findings
    from compliance_mia.risk import decide
    from compliance_mia.runner.whatif import (
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
        privacy_audit = None
        if policy.privacy_audit is not None:  # first: a recipe that cannot be trained fails before the attacks
            from compliance_mia.audit import run_privacy_audit

            progress.stage("Auditing the training's privacy claim (one training run with canaries)")
            privacy_audit = run_privacy_audit(policy.privacy_audit, target=target, data=data, seed=policy.seed)
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
        profile = session.leakage_profile(outcomes, head, label_head)
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
            profile=profile,
            headline=head,
            exposure=exposure_summary,
            regulations=list(policy.regulations),
            what_if=what_if,
        )
        residual = residual_rating(controls, rating)
        action_plan = action_plan_items(policy, controls)
        verdict = decide(
            rate_fn.matrix.spec.decisions, rating=rating, residual=residual, controls=controls, action_plan=action_plan
        )

        findings: list[Finding] = []
        findings.extend(
            leakage_findings(
                outcomes,
                head,
                label_head,
                exposure_summary,
                profile=profile,
                matrix=rate_fn.matrix,
                privacy_audit=privacy_audit,
            )
        )
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
            assessment_id=assessment_id(evidence_files, policy.seed),
            title=policy.report.title,
            organisation=policy.report.organisation,
            system=SystemSummary(**policy.system.model_dump()),
            model=ModelSummary(
                format=policy.model.format,
                estimator=target.estimator_name,
                classes=[neutralise(str(c)) for c in target.classes.tolist()],
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
            privacy_audit=privacy_audit,
            residual_risk=residual,
            action_plan=action_plan,
            signoff=signoff_info(policy),
            verdict=verdict,
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

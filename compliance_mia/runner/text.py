"""Policy in, Assessment out, for a language model (``model.task: text-generation``).

The same flow and the same Assessment as for a tabular classifier, with one
step first: the blind baseline. A model-free classifier tries to tell member
from non-member texts by their wording alone; if its interval lies above
chance, the two sets differ in distribution (topic, period, source), the
attacks' figures measure that difference rather than memorisation, and the
rating and the decision say so (``LIK-DISTRIBUTION-SHIFT`` and
``DEC-INVALID-SAMPLE`` in policies/risk_matrix.yaml). Then every text attack
the exposure allows is run and measured exactly as tabular attacks are, the
output controls are measured by re-running the attacks on poorer exposures
(top-k log-probabilities → token log-probabilities → generated text only),
and controls, findings and the decision come from the same catalogue,
matrix and vocabulary (risk/facts.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from compliance_mia import __version__
from compliance_mia.assessment import (
    Assessment,
    AttackOutcome,
    BlindBaseline,
    DataSummary,
    Evidence,
    ExposureSummary,
    FileEvidence,
    Finding,
    Headline,
    ModelSummary,
    Plan,
    PlannedAttack,
    SystemSummary,
    WhatIfResult,
)
from compliance_mia.evidence import assessment_id, environment, file_evidence, library_versions
from compliance_mia.exposure import Exposure
from compliance_mia.figures import interval_score, point_at
from compliance_mia.metrics import StatisticsSettings, record_risks, slice_results, statistics_findings
from compliance_mia.policy.schema import Policy
from compliance_mia.risk.facts import (
    LeakageProfile,
    distribution_shift,
    leakage_profile,
    text_exposure_description,
)

log = logging.getLogger(__name__)

#: The tabular hint for measuring a training control, and what a language model needs instead.
_RECIPE_HINT = "Not measured: name a candidate estimator for it under controls.training_recipes to measure it."
_TEXT_RECIPE_HINT = (
    "Not measured: retrain or fine-tune the language model with it and re-run this assessment on the new model."
)

#: Most files of a model directory hashed into the evidence (a Hugging Face directory has a handful).
MAX_MODEL_FILES = 64


class _TextRater:
    """Rates a headline under a text exposure with the policy's matrix, scale and appetite."""

    def __init__(self, policy: Policy, blind_auc: Any) -> None:
        from compliance_mia.risk import load_matrix

        self.policy = policy
        self.blind_auc = blind_auc
        self.matrix = load_matrix(policy.risk.matrix)

    def __call__(self, head: Headline | None, exposure: Exposure, label_head: Headline | None = None):
        from compliance_mia.risk import RiskInputs, rate

        inputs = RiskInputs.from_policy(self.policy, head, label_head, exposure=exposure, blind_auc=self.blind_auc)
        return rate(inputs, matrix=self.matrix, scale=self.policy.risk.scale, appetite=self.policy.risk.appetite)


def _blind_verdict(outcome: AttackOutcome, shifted: bool) -> str:
    auc = interval_score(outcome.metrics.auc, places=2)
    n1, n0 = outcome.metrics.n_members, outcome.metrics.n_non_members
    if shifted:
        return (
            f"A classifier that never sees the model tells member from non-member texts apart by their wording "
            f"alone (AUC {auc}; {n1:,} members, {n0:,} non-members). The two sets differ in distribution, so "
            "the attack figures below measure that difference, not what the model memorised: they are not "
            "evidence of memorisation, and the rating does not rest on them. Draw non-members from the same "
            "source and period as the training texts and re-assess."
        )
    return (
        f"A classifier that never sees the model cannot tell member from non-member texts apart by their wording "
        f"(AUC {auc}; {n1:,} members, {n0:,} non-members; its interval includes 0.5, chance): no distribution "
        "difference between the sets was detected, so what the attacks find is read as the model's memorisation."
    )


def _label_only_names(session: Any, outcomes: list[AttackOutcome]) -> frozenset[str]:
    """Attacks that read only generated text: hiding log-probabilities cannot stop them."""
    known = session.available()
    return frozenset(o.name for o in outcomes if known[o.name].spec.needs == "generated_text")


def _tpr_1pct(head: Headline | None):
    point = point_at(head.tpr_at_fpr, 0.01) if head is not None else None
    return point.tpr if point is not None and point.measurable else None


def _text_what_if(session: Any, catalogue: Any, rate_fn: _TextRater) -> list[WhatIfResult]:
    """The attacks re-run under each text output control's poorer exposure (no new scoring queries)."""
    from compliance_mia.controls import restricted_exposure

    current = Exposure(outputs=session.outputs, top_k=session.top_k)
    saved = dict(session.scores)
    results: list[WhatIfResult] = []
    try:
        for control in catalogue.controls:
            if control.category != "output" or "text-generation" not in control.tasks:
                continue
            for j, change in enumerate(control.exposure):
                restricted = restricted_exposure(current, change, noise_scale=1.0, noise_seed=0)
                if restricted is None:
                    continue
                label = text_exposure_description(restricted.outputs, None)
                names, skipped = session.runnable(restricted.outputs)
                outcomes = (
                    session.run(names, restricted.outputs, None, stream=f"whatif/{control.id}/{j}", comparison=True)
                    if names
                    else []
                )
                head = session.headline(outcomes) if outcomes else None
                lab_names = _label_only_names(session, outcomes)
                label_head = (
                    session.headline([o for o in outcomes if o.name in lab_names], comparisons=len(outcomes))
                    if lab_names
                    else None
                )
                notes = [f"could not run under this exposure: {n} ({why})" for n, why in skipped.items()]
                if head is None:
                    notes.append(
                        "no attack could run, so leakage under this setting was not measured and no residual "
                        "rating is given"
                    )
                results.append(
                    WhatIfResult(
                        control_id=control.id,
                        label=label,
                        kind="output",
                        strongest_attack=head.strongest_attack if head is not None else None,
                        auc=head.auc if head is not None else None,
                        tpr_at_1pct_fpr=_tpr_1pct(head),
                        attacks_run=names,
                        per_attack_auc={o.name: o.metrics.auc.estimate for o in outcomes},
                        # unmeasured is not safer: no residual, so it can never count as the best control
                        residual=rate_fn(head, restricted, label_head) if head is not None else None,
                        note="; ".join(notes),
                    )
                )
    finally:
        session.scores = saved
    return results


def _evidence_files(policy: Policy, policy_path: Path | None) -> list[FileEvidence]:
    files: list[FileEvidence] = []
    if policy_path is not None:
        files.append(file_evidence("policy", policy_path))

    def model_files(role: str, spec: Any) -> None:
        if spec.format == "huggingface" and spec.artifact is not None:
            folder = Path(spec.artifact)
            for path in sorted(p for p in folder.rglob("*") if p.is_file())[:MAX_MODEL_FILES]:
                files.append(file_evidence(f"{role}:{path.relative_to(folder).as_posix()}", path))
        elif spec.format == "logprobs" and spec.logprobs is not None:
            files.append(file_evidence(f"{role}-logprobs", Path(spec.logprobs.file)))

    model_files("model", policy.model)
    if policy.model.reference is not None:
        model_files("reference-model", policy.model.reference)
    files.append(file_evidence("members", policy.data.members))
    files.append(file_evidence("non-members", policy.data.non_members))
    if policy.data.population is not None:
        files.append(file_evidence("population", policy.data.population))
    return files



def _shift_finding(blind: BlindBaseline) -> Finding:
    auc = blind.outcome.metrics.auc
    return Finding(
        id="DATA-DISTRIBUTION-SHIFT",
        title="Member and non-member texts differ in distribution: the attack figures are not evidence of memorisation",
        kind="data-quality",
        severity="high",
        detail=(
            f"The blind baseline, a classifier that never queries the model, separates the two sets (AUC "
            f"{interval_score(auc, places=2)}). Any attack can exploit the same difference, so the attack figures "
            "cannot show or rule out memorisation. Non-members must come from the same source, period and kind of "
            "text as the training texts (e.g. passages held out from the same documents)."
        ),
        figures={"blind_auc": auc.estimate, "blind_auc_lower": auc.lower},
    )


def _text_findings(findings: list[Finding], shifted: bool) -> list[Finding]:
    """The shared findings, worded for text where the tabular wording would mislead."""
    out = []
    for f in findings:
        if f.id == "LEAK-LABEL-ONLY":
            f = f.model_copy(
                update={
                    "title": "Attacks that see only generated text also succeed",
                    "detail": f.detail.replace("label-only attack", "generated-text attack")
                    .replace("Hiding, rounding or perturbing scores", "Hiding log-probabilities")
                    .replace("needs only the predicted label", "needs only the generated text")
                    .replace("(regularisation, differential privacy)", "(fewer epochs, deduplication, DP fine-tuning)"),
                }
            )
        elif f.id == "LEAK-SCORES-ONLY":
            f = f.model_copy(
                update={
                    "title": "Leakage comes through the exposed log-probabilities",
                    "detail": f.detail.replace("model's scores", "model's token log-probabilities").replace(
                        "label-only attacks", "attacks from generated text alone"
                    ),
                }
            )
        out.append(f)
    return out


def run_text_assessment(
    policy: Policy,
    *,
    policy_path: Path | None = None,
    progress: Any = None,
    command: str = "",
    now: dt.datetime | None = None,
) -> Assessment:
    """Run the language-model assessment the policy describes and return its Assessment (writes nothing)."""
    from compliance_mia.controls import action_plan_items, load_catalogue, recommend, signoff_info
    from compliance_mia.findings import leakage_findings
    from compliance_mia.language.factory import open_reference, open_text_target
    from compliance_mia.language.session import TextSession
    from compliance_mia.language.texts import load_texts
    from compliance_mia.risk import decide
    from compliance_mia.runner.session import NullProgress
    from compliance_mia.runner.whatif import residual_rating

    progress = progress or NullProgress()
    started = now or dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()
    settings = StatisticsSettings.from_policy(policy)
    progress.stage("Loading the texts")
    data = load_texts(policy.data)
    warnings = list(data.warnings)
    progress.stage("Opening the language model")
    target = open_text_target(policy, ids=data.ids)
    reference = None
    try:
        reference = open_reference(policy, ids=data.ids)
        session = TextSession(policy, target, data, settings=settings, reference=reference, progress=progress)
        blind_result = session.blind()
        shifted = distribution_shift(blind_result.outcome.metrics.auc)
        blind = BlindBaseline(
            outcome=blind_result.outcome,
            distinguishes=shifted,
            verdict=_blind_verdict(blind_result.outcome, shifted),
        )
        if shifted:
            warnings.insert(0, "member and non-member texts differ in distribution (blind baseline): " + blind.verdict)

        outputs, top_k = policy.exposure.outputs, policy.exposure.top_k
        exposure = Exposure(outputs=outputs, top_k=top_k)
        names, skipped = session.runnable(outputs)
        outcomes = session.run(names, outputs, top_k)
        head = session.headline(outcomes)
        main_scores = dict(session.scores)
        lab_names = _label_only_names(session, outcomes)
        label_head = (
            session.headline([o for o in outcomes if o.name in lab_names], comparisons=len(outcomes))
            if lab_names
            else None
        )
        profile = leakage_profile(outcomes, headline=head, label_only_headline=label_head, label_only=lab_names)
        if shifted:
            # the figures measure the sets' difference, not memorisation: no situation or finding may rest on them
            profile = LeakageProfile(ran=profile.ran)

        progress.stage("Measuring slices and per-record risk")
        slices, records = [], []
        if head is not None:
            strongest = main_scores[head.strongest_attack]
            slices = slice_results(strongest, session.is_member, data.slices, settings=settings, seed=policy.seed)
            records = record_risks(strongest, session.is_member, np.asarray(data.ids, dtype=object), settings=settings)

        progress.stage("Rating the risk")
        rate_fn = _TextRater(policy, blind_result.outcome.metrics.auc)
        rating = rate_fn(head, exposure, label_head)
        catalogue = load_catalogue(policy.controls.catalogue)
        what_if: list[WhatIfResult] = []
        if policy.controls.what_if and head is not None and not shifted:
            progress.stage("Measuring what output controls would change")
            what_if = _text_what_if(session, catalogue, rate_fn)
        limits = policy.exposure.query_limit
        exposure_summary = ExposureSummary(
            outputs=outputs,
            top_k=top_k,
            rounding=None,
            access=policy.exposure.access,
            query_limit=limits.model_dump() if limits else None,
            monitored=policy.exposure.monitored,
            description=text_exposure_description(outputs, top_k),
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
        controls = [
            c.model_copy(update={"why": c.why.replace(_RECIPE_HINT, _TEXT_RECIPE_HINT)}) if _RECIPE_HINT in c.why else c
            for c in controls
        ]
        residual = residual_rating(controls, rating)
        action_plan = action_plan_items(policy, controls)
        verdict = decide(
            rate_fn.matrix.spec.decisions,
            rating=rating,
            residual=residual,
            controls=controls,
            action_plan=action_plan,
            distribution_shift=shifted,
        )

        findings: list[Finding] = [_shift_finding(blind)] if shifted else []
        leak = leakage_findings(outcomes, head, label_head, exposure_summary, profile=profile, matrix=rate_fn.matrix)
        if shifted:
            leak = [f for f in leak if f.kind == "configuration"]
        findings.extend(_text_findings(leak, shifted))
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

        planned = [
            PlannedAttack(
                name=n,
                title=session.available()[n].spec.title,
                selected=n in names,
                reason="the exposure allows it" if n in names else skipped.get(n, "not selected"),
                requires=[str(session.available()[n].spec.needs)],
                needs_reference_models=bool(session.available()[n].spec.needs_reference),
            )
            for n in session.available()
        ]
        plan = Plan(
            attacks=planned,
            notes=[
                "the blind baseline (a model-free text classifier) runs first, on the texts alone, before any "
                "attack figure is read"
            ],
        )
        evidence_files = _evidence_files(policy, policy_path)
        finished = dt.datetime.now(dt.timezone.utc) if now is None else now
        env = environment()
        assessment = Assessment(
            assessment_id=assessment_id(evidence_files, policy.seed, task="text-generation"),
            task="text-generation",
            title=policy.report.title,
            organisation=policy.report.organisation,
            system=SystemSummary(**policy.system.model_dump()),
            model=ModelSummary(
                format=policy.model.format,
                estimator=str(getattr(target, "name", "language model")),
                classes=[],
                task="text-generation",
                surrogate=None,
            ),
            data=DataSummary(
                categories=list(policy.data.categories),
                data_subjects=policy.data.data_subjects,
                membership_reveals_condition=policy.data.membership_reveals_condition,
                description=policy.data.description,
                n_members=len(data.members),
                n_non_members=len(data.non_members),
                n_population=len(data.population) if data.population is not None else 0,
                population_source=(
                    f"population file {policy.data.population.name}" if policy.data.population is not None else "none"
                ),
                n_features=0,
                slice_columns=list(policy.data.slice_columns),
                text_column=policy.data.text_column,
                checks=list(data.checks),
            ),
            exposure=exposure_summary,
            regulations=list(policy.regulations),
            **catalogue.scope_evidence(policy.regulations),
            seed=policy.seed,
            statistics=settings.as_dict(),
            plan=plan,
            attacks=outcomes,
            blind_baseline=blind,
            headline=head,
            slices=slices,
            records=records,
            findings=findings,
            risk=rating,
            controls=controls,
            what_if=what_if,
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
                target_queries=session.queries,
            ),
        )
        if policy.report.previous_assessment is not None:
            from compliance_mia.diff import compare

            previous = Assessment.load(policy.report.previous_assessment)
            assessment = assessment.model_copy(update={"change": compare(previous, assessment)})
        return assessment
    finally:
        target.close()
        if reference is not None:
            reference.close()


def preview_text(policy: Policy, *, lift: float = 2.0) -> Any:
    """``compliance-mia plan`` for a language model: the attacks the exposure allows, and the texts needed.

    Reads the texts (with every check) but does not open or query the model.
    """
    from compliance_mia.language.session import BLIND_NAME, plan_attacks
    from compliance_mia.language.texts import load_texts
    from compliance_mia.metrics import records_needed
    from compliance_mia.runner.preparation import PlanPreview

    data = load_texts(policy.data)
    settings = StatisticsSettings.from_policy(policy)
    can_generate = policy.model.format != "logprobs"
    names, skipped = plan_attacks(
        policy, policy.exposure.outputs, has_reference=policy.model.reference is not None, can_generate=can_generate
    )
    from compliance_mia.language.session import available_attacks

    known = available_attacks()
    attacks = [
        PlannedAttack(
            name=BLIND_NAME,
            title="Blind baseline (model-free text classifier), first",
            selected=True,
            reason="always runs first: if the texts alone tell members from non-members, no attack figure is "
            "evidence of memorisation",
            requires=["the texts alone"],
        )
    ]
    for name, cls in known.items():
        attacks.append(
            PlannedAttack(
                name=name,
                title=cls.spec.title,
                selected=name in names,
                reason="the exposure allows it" if name in names else skipped.get(name, "not selected"),
                requires=[str(cls.spec.needs)],
                needs_reference_models=bool(cls.spec.needs_reference),
            )
        )
    notes = list(data.warnings) + [
        f"exposure: {text_exposure_description(policy.exposure.outputs, policy.exposure.top_k)}",
        "output controls are measured by re-running the attacks on poorer exposures (token log-probabilities, "
        "then generated text only)",
    ]
    return PlanPreview(
        plan=Plan(attacks=attacks),
        n_members=len(data.members),
        n_non_members=len(data.non_members),
        n_population=len(data.population) if data.population is not None else 0,
        notes=notes,
        sample_size=records_needed(
            settings=settings, lift=lift, n_members=len(data.members), n_non_members=len(data.non_members)
        ),
    )


def build_text_demo(folder: Path, *, shifted: bool = False, log: Any = print) -> Path:
    """The language-model demo's inputs (a tiny LM trained on licence-clean text, members, non-members, policy)."""
    from compliance_mia.language.demo import build_text_demo as build

    return build(folder, shifted=shifted, log=log)

"""The Assessment: the one result every renderer reads.

An Assessment is plain, frozen and JSON-serialisable. It carries every figure
the report shows together with its interval, sample size and meaning, the
plan and the rules that produced the rating, and the evidence needed to
reproduce it. Renderers import this module and nothing from attacks, targets
or data, so ``compliance-mia render assessment.json`` reproduces every format
without the model or the records.

Numbers are stored as plain floats (NaN and infinities as null); record IDs as
strings. Fields are added in a backwards-compatible way; ``schema_version``
changes its major part when a reader would misinterpret an older file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compliance_mia.errors import AssessmentFileError, Problem

ASSESSMENT_SCHEMA_VERSION = "1.1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class TprCounts(_Frozen):
    """Everything needed to recompute a threshold-adjusted Clopper–Pearson TPR interval.

    lower = 0 if members_lower == 0 else Beta.ppf(bound_level, members_lower, n_members − members_lower + 1);
    upper = 1 if members_upper == n_members else
    Beta.ppf(1 − bound_level, members_upper + 1, n_members − members_upper).
    """

    target_fpr: float
    n_members: int
    n_non_members: int
    bound_level: float = Field(
        description="Error level a of each of the four one-sided bounds (α/4; α/(4m) if simultaneous)."
    )
    k_lower: int = Field(
        description="Rank k_a: records scoring strictly above the k_a-th highest non-member are flagged (0: none)."
    )
    k_upper: int = Field(
        description="Rank k_b: records scoring at or above the k_b-th highest non-member are flagged (> n0: all)."
    )
    members_lower: int = Field(description="Members flagged at the k_a threshold (x_lo).")
    members_upper: int = Field(description="Members flagged at the k_b threshold (x_hi).")
    fpr_lower: float = Field(description="Empirical FPR at the k_a threshold.")
    fpr_upper: float = Field(description="Empirical FPR at the k_b threshold.")


class Interval(_Frozen):
    """A point estimate with a two-sided confidence interval.

    ``count``/``n`` are given for proportions (e.g. TPR = count/n members);
    ``method`` names how the interval was computed (e.g. "clopper-pearson",
    "bootstrap-percentile").
    """

    estimate: float | None
    lower: float | None
    upper: float | None
    confidence: float
    method: str
    count: int | None = None
    n: int | None = None
    scope: Literal["single", "simultaneous"] = Field(
        "single",
        description=(
            "single: holds for this figure on its own; simultaneous: holds for all `comparisons` "
            "attacks at once (Bonferroni), so it stays valid for the attack picked as strongest."
        ),
    )
    comparisons: int = Field(1, ge=1, description="Attacks the simultaneous correction covers (1 for single).")
    per_comparison_confidence: float | None = Field(
        None, description="Confidence each interval was computed at: 1 − (1 − confidence)/comparisons."
    )
    determinable: bool = Field(
        True, description="False: the figure is not determinable from this sample; never print it as a result."
    )
    note: str | None = Field(None, description="Why the figure is not determinable, in plain words.")
    tpr_counts: TprCounts | None = Field(
        None, description="Counts that reproduce a threshold-adjusted Clopper–Pearson TPR interval."
    )

    _clean = field_validator("estimate", "lower", "upper", mode="before")(_finite_or_none)


class OperatingPoint(_Frozen):
    """Attack success at one false-positive rate: TPR with interval, or why it is not measurable."""

    fpr: float = Field(description="Target false-positive rate (share of non-members wrongly flagged).")
    tpr: Interval = Field(description="Share of members the attack identifies at that FPR.")
    measurable: bool = True
    reason: str | None = Field(
        None, description="Why the figure cannot be supported by this sample, if not measurable."
    )
    non_members_needed: int | None = Field(None, description="Non-members needed for this FPR to be measurable.")
    min_detectable_tpr: float | None = Field(
        None, description="Smallest TPR distinguishable from random guessing with this many members."
    )
    ppv: float | None = Field(None, description="Precision at the policy's member prior: P(member | flagged).")
    threshold: float | None = None

    _clean = field_validator("ppv", "threshold", "min_detectable_tpr", mode="before")(_finite_or_none)


class EpsilonBound(_Frozen):
    """Empirical lower bound on differential-privacy ε implied by the attack."""

    epsilon_lower: float | None = Field(
        description="ε the model cannot be below, at the stated confidence; null if none shown."
    )
    delta: float
    confidence: float
    thresholds_examined: int
    correction: str = Field(description="How the bound is kept valid when many thresholds/attacks are examined.")
    attack: str | None = Field(None, description="Attack whose threshold gives the bound.")
    threshold_rank: int | None = Field(
        None, description="k: the rule flags records scoring strictly above the k-th highest non-member."
    )
    form: Literal["tpr/fpr", "tnr/fnr"] | None = Field(
        None, description="tpr/fpr: ε ≥ ln((TPR⁻ − δ)/FPR⁺); tnr/fnr: ε ≥ ln((1 − FPR⁺ − δ)/(1 − TPR⁻))."
    )
    tpr_lower: float | None = Field(None, description="One-sided Clopper–Pearson lower bound on TPR used (TPR⁻).")
    fpr_upper: float | None = Field(None, description="One-sided upper bound on FPR used (FPR⁺).")
    members_flagged: int | None = None
    n_members: int | None = None
    n_non_members: int | None = None
    per_test_level: float | None = Field(None, description="Error level of each one-sided bound after Bonferroni.")
    assumptions: str | None = Field(None, description="What must hold for the bound to mean what it says.")

    _clean = field_validator("epsilon_lower", "tpr_lower", "fpr_upper", mode="before")(_finite_or_none)


class CurvePoints(_Frozen):
    """A ROC curve downsampled for plotting (all low-FPR detail kept)."""

    fpr: list[float]
    tpr: list[float]


class Histogram(_Frozen):
    """Score distributions of members and non-members over shared bins."""

    edges: list[float]
    members: list[int]
    non_members: list[int]


class TieReport(_Frozen):
    """How tied scores were handled (trees often give many exact 1.0 probabilities)."""

    largest_tie_fraction: float = Field(description="Share of all records sharing the most common score.")
    distinct_scores: int
    policy: str = Field(description="How ties are broken when reading TPR at a fixed FPR.")


class AttackMetrics(_Frozen):
    """Everything measured for one attack on the audit records."""

    n_members: int
    n_non_members: int
    auc: Interval = Field(description="Area under the ROC curve: 0.5 is guessing, 1.0 is perfect identification.")
    advantage: Interval = Field(description="Membership advantage: max over thresholds of TPR − FPR.")
    operating_points: list[OperatingPoint]
    epsilon: EpsilonBound | None = None
    roc: CurvePoints
    histogram: Histogram | None = None
    ties: TieReport | None = None


class AttackOutcome(_Frozen):
    """The result of running one attack."""

    name: str
    title: str
    family: str
    summary: str = Field(description="One-sentence plain-language description of what the attack does.")
    signal: str = Field(description="What the attack reads from the model's exposed outputs.")
    reference_mode: str | None = Field(None, description="offline / online when reference models were used.")
    reference_models: int = 0
    metrics: AttackMetrics
    parameters: dict[str, Any] = Field(default_factory=dict)
    duration_seconds: float = 0.0
    queries: int = Field(0, description="Queries sent to the target by this attack (beyond the shared audit query).")


class PlannedAttack(_Frozen):
    """Whether an attack was chosen for this assessment, and why."""

    name: str
    title: str
    selected: bool
    reason: str
    requires: list[str] = Field(default_factory=list, description="Exposed signals the attack needs.")
    needs_reference_models: bool = False
    estimated_seconds: float | None = None


class ReferenceModelsInfo(_Frozen):
    """How the reference (shadow) models were obtained."""

    count: int
    mode: str
    estimator: str = Field(description="Estimator class used for reference models.")
    surrogate: bool = Field(description="True when the estimator is a surrogate, not a clone of the target.")
    pool_size: int = 0
    backend: str = "loky"
    cache_hits: int = 0
    trained: int = 0
    seconds: float = 0.0
    training_seconds_saved: float | None = Field(
        None,
        description="Training time the models taken from the cache saved, from the times recorded "
        "when they were trained (None: no model came from the cache, or a time was not recorded).",
    )


class Plan(_Frozen):
    """The attack plan derived from the exposure and the policy."""

    attacks: list[PlannedAttack]
    reference_models: ReferenceModelsInfo | None = None
    budget_seconds: float | None = None
    notes: list[str] = Field(default_factory=list)


class SliceResult(_Frozen):
    """Leakage within one group of records (a class, a protected group, correct/incorrect)."""

    column: str = Field(description="What the slice is defined by, e.g. 'class', 'race', 'prediction'.")
    value: str
    n_members: int
    n_non_members: int
    auc: Interval
    tpr_at_fpr: Interval | None = None
    fpr: float | None = None
    small: bool = Field(False, description="Too few records to rank this slice.")
    suppressed: bool = Field(
        False,
        description=(
            "Groups with fewer than min_group_size members or non-members, merged into one row whose "
            "value hides theirs (small-cell suppression); no figure is given for them."
        ),
    )
    groups_merged: int = Field(1, description="How many groups a suppressed row stands for.")


class RecordRisk(_Frozen):
    """One record's exposure, named by ID only."""

    record_id: str
    is_member: bool
    score: float
    rank: int
    p_value: float = Field(description="Share of non-members scoring at least as high (lower = more exposed).")
    flagged: bool = Field(description="Flagged by the strongest attack at the reference FPR.")


class Finding(_Frozen):
    """A statement the assessment makes, with the evidence behind it."""

    id: str
    title: str
    kind: Literal["leakage", "slice", "sample-size", "data-quality", "configuration", "change"]
    severity: str = Field(description="info, low, medium, high.")
    detail: str
    figures: dict[str, Any] = Field(default_factory=dict)


class RuleFired(_Frozen):
    """One rule of the risk matrix that determined part of the rating."""

    dimension: Literal["severity", "likelihood", "adjustment", "level", "appetite"]
    rule_id: str
    result: str
    because: str = Field(description="Plain-language explanation with the figures that triggered it.")
    inputs: dict[str, Any] = Field(default_factory=dict)


class RiskRating(_Frozen):
    """Severity × likelihood → level, with the rules that produced it."""

    scale: str
    levels: list[str] = Field(description="Scale levels from lowest to highest.")
    severity: str
    likelihood: str
    level: str
    rules: list[RuleFired]
    appetite: str | None = None
    within_appetite: bool | None = None
    matrix_version: str = ""
    matrix: list[list[str]] = Field(
        default_factory=list,
        description="Level of every cell, matrix[i][j] for severity levels[i] x likelihood levels[j] "
        "(drawn as the heat map); empty when not recorded.",
    )


class ControlMapping(_Frozen):
    """Clauses a control helps satisfy, by framework."""

    framework: str
    clauses: list[str]
    title: str = Field("", description="Framework name for display, e.g. 'GDPR (Regulation (EU) 2016/679)'.")
    unverified: list[str] = Field(
        default_factory=list,
        description="Those of `clauses` not checked against the official text (shown as unverified).",
    )


class FrameworkRef(_Frozen):
    """A framework of the controls catalogue, as the report names it."""

    id: str = Field(description="Catalogue id, as a policy lists it under regulations, e.g. 'gdpr'.")
    title: str = Field(description="Full name, e.g. 'GDPR (Regulation (EU) 2016/679)'.")
    short: str = Field(description="Short display name, e.g. 'GDPR'.")
    in_scope: bool = Field(description="Listed under the policy's regulations.")
    note: str = ""
    url: str = ""
    verified: bool = Field(True, description="False when the catalogue's references to it were not checked.")


class ThreatRef(_Frozen):
    """A catalogued identifier of the threat assessed (e.g. MITRE ATLAS AML.T0024.000)."""

    framework: str = Field(description="Catalogue framework id, e.g. 'mitre_atlas'.")
    id: str
    title: str
    verified: bool = Field(True, description="False when the identifier was not checked against its source.")
    href: str = ""


class Citation(_Frozen):
    """A clause one report section cites, for a framework in the policy's scope."""

    section: str = Field(description="Report section citing it, e.g. 'method' or 'scope.special_category'.")
    framework: str = Field(description="Catalogue framework id, e.g. 'gdpr'.")
    clause: str = Field(description="Article, section or paragraph, e.g. 'Art. 35(7)(c)'.")
    requirement: str = Field("", description="What the clause requires, in one phrase.")
    verified: bool = Field(True, description="False when not checked against the official text.")


class WhatIfResult(_Frozen):
    """Measured effect of one control: the same attacks under the restricted setting."""

    control_id: str
    label: str = Field(description="What was simulated, e.g. 'labels only', 'round to 1 decimal'.")
    kind: Literal["output", "training"]
    strongest_attack: str | None
    auc: Interval | None
    tpr_at_1pct_fpr: Interval | None
    attacks_run: list[str] = Field(default_factory=list)
    per_attack_auc: dict[str, float | None] = Field(default_factory=dict)
    residual: RiskRating | None = None
    utility_before: float | None = Field(None, description="Accuracy on non-members before the control.")
    utility_after: float | None = None
    note: str = ""


class ControlRecommendation(_Frozen):
    """A recommended control, why, and what it would change."""

    control_id: str
    title: str
    category: str
    priority: int = Field(description="1 = do first.")
    why: str
    description: str = ""
    mitigates: list[str] = Field(default_factory=list)
    cost: str = ""
    mappings: list[ControlMapping] = Field(default_factory=list)
    what_if: WhatIfResult | None = None
    in_place: bool = False


class ActionPlanItem(_Frozen):
    control: str
    owner: str = Field(description="Who is accountable; empty when no owner has been named yet.")
    due: str = Field(description="Due date (ISO); empty when not planned.")
    status: str
    note: str = ""
    priority: int | None = Field(None, description="The recommendation's priority (1 = do first), if recommended.")


class SignOffInfo(_Frozen):
    assessor: str | None = None
    assessor_role: str | None = None
    dpo_name: str | None = Field(None, description="Data Protection Officer who gave the opinion.")
    dpo_opinion: str | None = None
    dpo_date: str | None = Field(None, description="Date of the DPO's opinion (ISO).")
    decision: str | None = None
    conditions: list[str] = Field(default_factory=list, description="Conditions attached to a conditional decision.")
    approver: str | None = Field(None, description="Who approved the decision on the controller's behalf.")
    approver_role: str | None = None
    approval_date: str | None = None
    date: str | None = None
    next_review: str | None = None
    triggers: list[str] = Field(default_factory=list)
    status: Literal["draft", "final"] = "draft"


class Verdict(_Frozen):
    """What the assessment supports for deployment, decided by the matrix's ``decisions`` rules.

    It is the assessor's recommendation to the controller, derived from the
    rating against the risk appetite and the residual rating after measured
    controls; the controller's own decision is recorded in the sign-off.
    """

    rule_id: str = Field(description="The decision rule that applied.")
    outcome: Literal["deploy", "deploy-after-actions", "do-not-deploy", "controller-decides"]
    headline: str = Field(description="One line: what the assessment supports.")
    because: str = Field("", description="Why, in one sentence, with the levels compared.")
    actions: list[str] = Field(
        default_factory=list, description="Control ids that must be done before deployment (in action plan order)."
    )
    residual_high: bool = Field(False, description="The risk after the measured controls stays high on its scale.")
    prior_consultation: bool = Field(
        False, description="A high residual risk may require consulting the supervisory authority (GDPR Art. 36)."
    )
    next_steps: list[str] = Field(default_factory=list, description="What follows, in order.")


class FileEvidence(_Frozen):
    """An input file, by role, with its SHA-256."""

    role: str
    name: str
    sha256: str
    bytes: int


class Evidence(_Frozen):
    """What is needed to trust and reproduce the figures."""

    files: list[FileEvidence]
    tool_version: str
    versions: dict[str, str]
    python: str
    platform: str
    seed: int
    started: str
    finished: str
    duration_seconds: float
    command: str = ""
    target_queries: int = 0
    target_cost: dict[str, float] = Field(
        default_factory=dict,
        description="What querying the model cost: records, and for an HTTP API requests, retries, "
        "failures and seconds spent (waiting for answers, backing off, rate limiting).",
    )


class SystemSummary(_Frozen):
    name: str
    owner: str
    version: str
    assessment_type: str
    description: str = ""
    purpose: str = ""
    controller: str | None = None
    contact: str | None = None


class ModelSummary(_Frozen):
    format: str
    estimator: str = Field(description="Class of the model (or 'black box').")
    classes: list[str]
    task: str = "classification"
    unsafe_load: bool = Field(False, description="The artifact was unpickled (executes code); flagged in the report.")
    surrogate: str | None = None


class ExposureSummary(_Frozen):
    outputs: str
    top_k: int | None = None
    rounding: int | None = None
    access: str
    query_limit: dict[str, int | None] | None = None
    monitored: bool = False
    description: str = Field(description="Plain-language statement of what a caller gets back.")


class DataSummary(_Frozen):
    """Sizes and sensitivity of the data (never its values)."""

    categories: list[str]
    data_subjects: int
    membership_reveals_condition: bool = False
    description: str = ""
    n_members: int
    n_non_members: int
    n_population: int = 0
    population_source: str = Field("", description="Where the attacker's background data came from.")
    n_features: int
    feature_names: list[str] = Field(default_factory=list, description="Column names only, no values.")
    slice_columns: list[str] = Field(default_factory=list)
    text_column: str | None = Field(None, description="Language models: the field holding each text.")
    class_balance: dict[str, float] = Field(default_factory=dict)
    target_accuracy_members: float | None = None
    target_accuracy_non_members: float | None = None
    checks: list[str] = Field(default_factory=list, description="Data checks run and what they found.")


class ChangeItem(_Frozen):
    """One headline figure compared with the previous assessment."""

    figure: str
    old: float | str | None
    new: float | str | None
    significant: bool | None = None
    direction: Literal["better", "worse", "unchanged", "n/a"] = "n/a"
    note: str = ""
    unit: str = Field(
        "", description="How to read old/new: 'share' (a proportion), 'score' (e.g. AUC), 'epsilon', or '' for text."
    )


class ChangeSummary(_Frozen):
    """What changed since the previous assessment."""

    previous_id: str
    previous_date: str
    rating_old: str
    rating_new: str
    worsened: bool
    items: list[ChangeItem]
    new_findings: list[str] = Field(default_factory=list)
    resolved_findings: list[str] = Field(default_factory=list)
    changed_files: list[str] = Field(default_factory=list)


class BlindBaseline(_Frozen):
    """A model-blind classifier on the texts alone, measured like an attack before any attack figure.

    If it tells members from non-members without the model, the two sets
    differ in distribution (topic, date, source) and the attacks' figures
    measure that difference, not memorisation (Das et al. 2024; Duan et al.
    2024). Language-model assessments only.
    """

    outcome: AttackOutcome
    distinguishes: bool = Field(
        description="Its AUC interval lies above 0.5: the member and non-member texts differ in distribution."
    )
    verdict: str = Field(description="What this means for the attack figures, in one or two sentences.")


class Headline(_Frozen):
    """The worst case across attacks, corrected for having picked the best of several."""

    strongest_attack: str
    auc: Interval
    tpr_at_fpr: list[OperatingPoint]
    epsilon: EpsilonBound | None = None
    selection_correction: str = Field(
        description="How intervals account for choosing the strongest of several attacks."
    )
    reference_fpr: float = 0.01


class PrivacyAudit(_Frozen):
    """A one-run privacy audit of the training pipeline against the team's ε claim.

    ``epsilon_lower``: at ``confidence``, the training recipe is not
    (ε, δ)-differentially private for any ε below it (Steinke, Nasr &
    Jagielski 2023). It is a lower bound: a bound below the claim does not
    prove the claim.
    """

    epsilon_lower: float = Field(description="ε the training cannot be below, at the stated confidence (0: none).")
    confidence: float
    delta: float
    claimed_epsilon: float
    verdict: Literal["claim not contradicted", "claim contradicted"]
    canaries: int = Field(description="m: canaries, each included in training with probability 1/2.")
    canaries_included: int
    canary_source: Literal["synthetic", "population"]
    guesses: int = Field(description="r: canaries guessed (in or out); the rest abstained.")
    guesses_in: int
    guesses_out: int
    correct: int = Field(description="v: correct guesses.")
    guess_grid: list[int] = Field(description="Guesses per side tried, fixed from m before any score was seen.")
    per_test_level: float = Field(description="Error level of each grid point's bound (Bonferroni over the grid).")
    estimator: str = Field(description="The estimator class trained (the recipe audited).")
    training_records: int = Field(description="Records the audit model was trained on (members + included canaries).")
    score: str = Field(description="How canaries were scored (higher = guessed in).")
    method: str


class Assessment(_Frozen):
    """A complete membership inference assessment."""

    schema_version: str = ASSESSMENT_SCHEMA_VERSION
    assessment_id: str = Field(description="Content-derived ID: same inputs, same ID.")
    task: Literal["classification", "text-generation"] = Field(
        "classification", description="What was assessed: a tabular classifier or a causal language model."
    )
    title: str
    organisation: str | None = None
    system: SystemSummary
    model: ModelSummary
    data: DataSummary
    exposure: ExposureSummary
    regulations: list[str]
    frameworks: list[FrameworkRef] = Field(
        default_factory=list, description="Frameworks of the controls catalogue, with display names and scope."
    )
    threats: list[ThreatRef] = Field(default_factory=list, description="Catalogued identifiers of the threat.")
    citations: list[Citation] = Field(
        default_factory=list,
        description="Clauses the report's sections cite, only for frameworks in the policy's scope.",
    )
    seed: int
    statistics: dict[str, Any] = Field(
        default_factory=dict, description="Statistical settings used (confidence, FPR levels...)."
    )
    plan: Plan
    attacks: list[AttackOutcome]
    blind_baseline: BlindBaseline | None = Field(
        None, description="Language models: the model-blind validity check, shown before any attack figure."
    )
    headline: Headline | None = None
    slices: list[SliceResult] = Field(default_factory=list)
    records: list[RecordRisk] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    risk: RiskRating
    controls: list[ControlRecommendation] = Field(default_factory=list)
    what_if: list[WhatIfResult] = Field(default_factory=list)
    residual_risk: RiskRating | None = Field(None, description="Rating after the recommended measured controls.")
    action_plan: list[ActionPlanItem] = Field(default_factory=list)
    signoff: SignOffInfo = Field(default_factory=SignOffInfo)
    verdict: Verdict | None = Field(
        None, description="What the assessment supports for deployment (absent in older assessments)."
    )
    change: ChangeSummary | None = None
    privacy_audit: PrivacyAudit | None = Field(
        None, description="One-run audit of the training pipeline's differential-privacy claim, if requested."
    )
    warnings: list[str] = Field(default_factory=list)
    evidence: Evidence

    # ------------------------------------------------------------------ helpers
    def attack(self, name: str) -> AttackOutcome:
        for outcome in self.attacks:
            if outcome.name == name:
                return outcome
        raise KeyError(name)

    def framework_name(self, framework_id: str) -> str:
        """Short display name of a framework (the id, underscores as spaces, when not recorded)."""
        for ref in self.frameworks:
            if ref.id == framework_id:
                return ref.short or ref.title
        return framework_id.replace("_", " ")

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, stable float formatting, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: Path | None = None) -> Assessment:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssessmentFileError(Problem(f"not valid JSON: {exc.msg}", file=source, line=exc.lineno)) from None
        if not isinstance(raw, dict):
            raise AssessmentFileError(Problem("not an assessment (expected a JSON object)", file=source))
        version = str(raw.get("schema_version", ""))
        if version.split(".")[0] != ASSESSMENT_SCHEMA_VERSION.split(".")[0]:
            raise AssessmentFileError(
                Problem(
                    f"schema_version {version or '(missing)'} cannot be read by this version of compliance-mia "
                    f"(reads {ASSESSMENT_SCHEMA_VERSION.split('.')[0]}.x)",
                    file=source,
                )
            )
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise AssessmentFileError(
                Problem(f"{first['msg']} ({len(exc.errors())} problem(s) in total)", file=source, field=loc)
            ) from None

    @classmethod
    def load(cls, path: str | Path) -> Assessment:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise AssessmentFileError(Problem("file not found", file=file)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise AssessmentFileError(Problem(f"cannot read file: {exc}", file=file)) from None
        return cls.from_json(text, source=file)


def assessment_json_schema() -> dict[str, Any]:
    """JSON Schema of assessment.json (published for consumers of the evidence)."""
    schema = Assessment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "compliance-mia assessment"
    return schema

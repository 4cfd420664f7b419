"""The assessment policy: typed, frozen, and strict about unknown keys.

The policy is the analyst's statement of what is being assessed and under
which assumptions: the model, the data and its sensitivity, what the deployed
model exposes and to whom. It is loaded once at the boundary
(:func:`compliance_mia.policy.load_policy`) and nothing below the CLI sees a
raw dict. Field descriptions double as the JSON Schema used for editor
autocompletion and as the source of docs/policy.md, so they are written for
the analyst, not the programmer.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

POLICY_SCHEMA_VERSION = 1

AssessmentType = Literal["pre-deployment", "periodic", "ad-hoc"]
ModelFormat = Literal["skops", "pickle", "joblib", "onnx", "http", "predictions", "huggingface", "openai", "logprobs"]
OutputKind = Literal[
    "label", "top_k", "probabilities", "logits", "loss", "top_k_logprobs", "token_logprobs", "generated_text"
]
Task = Literal["classification", "text-generation"]
#: Model formats, exposures and data formats by task: a combination across tasks makes no sense and is refused.
TABULAR_FORMATS: tuple[str, ...] = ("skops", "pickle", "joblib", "onnx", "http", "predictions")
TEXT_FORMATS: tuple[str, ...] = ("huggingface", "openai", "logprobs")
TABULAR_OUTPUTS: tuple[str, ...] = ("label", "top_k", "probabilities", "logits", "loss")
#: What a deployed language model returns, richest first (compliance_mia.language.logprobs.TextOutput).
TEXT_OUTPUTS: tuple[str, ...] = ("top_k_logprobs", "token_logprobs", "generated_text")
Access = Literal["public", "authenticated", "internal"]
DataCategory = Literal[
    "ordinary_personal",
    "pseudonymous",
    "special_category",
    "racial_ethnic_origin",
    "political_opinions",
    "religious_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "phi",
    "sex_life_orientation",
    "criminal_offences",
    "children",
    "financial",
    "location",
    "employment",
]
#: A framework id of the controls catalogue (policies/controls.yaml ``frameworks``); which ids
#: exist is data, checked against the catalogue when the policy is loaded for a run.
Regulation = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
ReferenceMode = Literal["offline", "online", "both"]
Backend = Literal["loky", "threading", "sequential", "dask", "ray"]
#: A scale of the risk matrix (policies/risk_matrix.yaml ``scales``), checked against it on load.
RiskScale = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Decision = Literal["validated", "conditional", "refused"]
ActionStatus = Literal["planned", "in-progress", "done", "accepted-risk", "rejected"]


class _Strict(BaseModel):
    """Base for every policy section: unknown keys are errors, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


BUILTIN_PREFIX = "builtin:"


def builtin_path(text: str) -> Path:
    """Path of a file of a built-in example, e.g. ``builtin:health-insurance/members.csv``.

    Built-in example files are generated on first use (see compliance_mia.demo)
    rather than shipped, so they are resolved into the cache, not checked here.
    """
    from compliance_mia.cache import builtin_inputs_dir

    name, _, file = text[len(BUILTIN_PREFIX) :].partition("/")
    if name != "health-insurance" or not file or "/" in file or file.startswith("."):
        raise ValueError(f"unknown built-in file '{text}'; available: builtin:health-insurance/<file>")
    return builtin_inputs_dir(name) / file


def _resolve(value: Path | None, info: ValidationInfo, *, must_exist: bool = True) -> Path | None:
    """Resolve ``value`` against the policy file's directory (from the load context).

    Inputs must exist when the loader asks for file checks (``validate`` and
    ``run`` do; building a policy in code does not); output locations need not.
    """
    if value is None:
        return None
    ctx = info.context or {}
    text = str(value)
    if text.startswith(BUILTIN_PREFIX):
        return builtin_path(text)
    base: Path | None = ctx.get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = (base / path).resolve()
    if must_exist and ctx.get("check_files") and not path.exists():
        raise ValueError(f"file not found: {path}")
    return path


class SystemInfo(_Strict):
    """What system is assessed, by whom it is owned, and why this assessment happens."""

    name: str = Field(min_length=1, description="Name of the AI system or model as known to the organisation.")
    owner: str = Field(min_length=1, description="Accountable owner (team or person).")
    version: str = Field("unversioned", description="Version of the model or system assessed.")
    assessment_type: AssessmentType = Field(
        description="pre-deployment (sign-off gate), periodic (scheduled re-assessment) or ad-hoc."
    )
    description: str = Field("", description="Plain-language description of the system.")
    purpose: str = Field("", description="Purpose of the processing (GDPR Art. 35(7)(a)).")
    controller: str | None = Field(None, description="Data controller (organisation).")
    contact: str | None = Field(None, description="Contact for questions about this assessment.")


class EstimatorSpec(_Strict):
    """A scikit-learn-compatible estimator named by import path, with parameters.

    Used for surrogate reference models when the target cannot be cloned, and for
    training-time what-if recipes.
    """

    class_path: str = Field(
        alias="class",
        pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$",
        description="Import path of the estimator class, e.g. sklearn.ensemble.RandomForestClassifier.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Constructor parameters.")


class _TransportSpec(_Strict):
    """How requests to a deployed endpoint are sent: batching, retries, rate limits, budget, credentials.

    Shared by the tabular prediction API (``model.http``) and the language-model
    completions endpoint (``model.openai``) so the two mean the same thing by the
    same name.
    """

    batch_size: int = Field(256, ge=1, le=100_000)
    timeout_seconds: float = Field(30.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0)
    rate_limit_per_second: float | None = Field(None, gt=0, description="Client-side cap on requests per second.")
    query_budget: int | None = Field(None, ge=1, description="Most records the assessment may send in total.")
    auth_header: str = Field("Authorization", description="Header carrying the credential.")
    auth_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the credential. "
        "The secret itself never appears in the policy or any output.",
    )
    auth_scheme: str | None = Field("Bearer", description="Prefix before the credential, e.g. 'Bearer'; null for none.")
    verify_tls: bool = Field(True, description="Verify TLS certificates (keep on outside tests).")


class HttpTargetSpec(_TransportSpec):
    """A deployed prediction API reached over HTTP(S)."""

    url: str = Field(pattern=r"^https?://", description="Endpoint that accepts a batch of records.")
    method: Literal["POST", "PUT"] = "POST"
    request_template: dict[str, Any] = Field(
        default_factory=lambda: {"instances": "$records"},
        description="JSON body; the string '$records' is replaced by the batch (list of feature objects).",
    )
    records_as: Literal["objects", "lists"] = Field(
        "objects", description="Send each record as a {feature: value} object or as a list in feature order."
    )
    probabilities_path: str | None = Field(
        None,
        description="Dotted JSON path to the per-record probability lists in the response, e.g. 'predictions'; "
        "'*' steps into every item of a list, e.g. 'results.*.probabilities'.",
    )
    label_path: str | None = Field(None, description="Dotted JSON path to the per-record predicted labels.")


class OpenAITargetSpec(_TransportSpec):
    """A language model behind an OpenAI-compatible ``/v1/completions`` endpoint returning ``logprobs``."""

    url: str = Field(pattern=r"^https?://", description="The completions endpoint, e.g. http://host/v1/completions.")
    model: str = Field(min_length=1, description="The 'model' field sent in every request.")
    batch_size: int = Field(16, ge=1, le=100_000, description="Texts sent in one request.")
    query_budget: int | None = Field(None, ge=1, description="Most texts the assessment may send in total.")


class LogprobsFileSpec(_Strict):
    """A file of per-token log-probabilities, for language models that cannot be reached."""

    file: Path = Field(
        description='JSONL, one line per text: {"id": ..., "token_logprobs": [...], '
        '"top_logprobs": [[k values, descending], ...] (optional)}.'
    )

    _resolve_file = field_validator("file")(_resolve)


class ReferenceLMSpec(_Strict):
    """A reference language model for the calibration attack, trained without the audited texts."""

    format: Literal["huggingface", "openai", "logprobs"] = Field(
        description="huggingface (local directory), openai (endpoint) or logprobs (file)."
    )
    artifact: Path | None = Field(None, description="huggingface: the model directory, relative to this policy.")
    openai: OpenAITargetSpec | None = None
    logprobs: LogprobsFileSpec | None = None

    _resolve_artifact = field_validator("artifact")(_resolve)

    @model_validator(mode="after")
    def _format_needs(self) -> ReferenceLMSpec:
        _check_text_format(self.format, self.artifact, self.openai, self.logprobs)
        return self


def _check_text_format(fmt: str, artifact: Path | None, openai: Any, logprobs: Any) -> None:
    """A language model's format names the one section (or artifact) that reaches it."""
    if fmt == "huggingface" and artifact is None:
        raise ValueError("format 'huggingface' needs 'artifact' (the model directory: config.json, *.safetensors)")
    if fmt == "openai" and openai is None:
        raise ValueError("format 'openai' needs an 'openai' section (url, model)")
    if fmt == "logprobs" and logprobs is None:
        raise ValueError("format 'logprobs' needs a 'logprobs' section (file)")


class OnnxTargetSpec(_Strict):
    """Which outputs of an ONNX model to read (normally found automatically)."""

    probabilities_output: str | None = Field(
        None,
        description="Name of the output holding class probabilities; default: the probability "
        "output skl2onnx writes (a ZipMap list or a [records x classes] tensor).",
    )
    label_output: str | None = Field(
        None, description="Name of the output holding the predicted label; default: found from the model."
    )


class PredictionsSpec(_Strict):
    """A file of the deployed model's outputs, for owners who share outputs but not the model."""

    file: Path = Field(description="CSV or Parquet, one row per audited record.")
    id_column: str | None = Field(None, description="Record ID column; defaults to data.id_column.")
    probability_columns: list[str] = Field(
        default_factory=list, description="Exposed probability columns, in the order of model.classes."
    )
    label_column: str | None = Field(None, description="Column with the exposed predicted label.")
    loss_column: str | None = Field(None, description="Column with the exposed per-record loss.")

    _resolve_file = field_validator("file")(_resolve)


class ModelSpec(_Strict):
    """The model under assessment and how to reach it."""

    format: ModelFormat = Field(
        description="How the model is reached: skops, pickle, joblib, onnx, http or predictions (classification); "
        "huggingface, openai or logprobs (text-generation)."
    )
    artifact: Path | None = Field(
        None,
        description="Model file (skops, pickle, joblib, onnx) or, for huggingface, the model directory; "
        "relative to this policy.",
    )
    task: Task = Field(
        "classification",
        description="classification (a tabular classifier) or text-generation (a causal language model; "
        "see docs/text.md).",
    )
    classes: list[str | int | bool] | None = Field(
        None, description="Class labels in the order of the model's outputs; read from the model when omitted."
    )
    trusted_types: list[str] = Field(
        default_factory=list,
        description="skops: extra type names to trust when loading (beyond scikit-learn/numpy/scipy).",
    )
    allow_unsafe_pickle: bool = Field(
        False,
        description="Allow pickle/joblib artifacts. Unpickling runs code from the file; only for files you trust.",
    )
    surrogate: EstimatorSpec | None = Field(
        None, description="Estimator to train reference models with when the target cannot be cloned."
    )
    http: HttpTargetSpec | None = None
    predictions: PredictionsSpec | None = None
    onnx: OnnxTargetSpec | None = Field(None, description="ONNX only: output names, if not found automatically.")
    openai: OpenAITargetSpec | None = Field(None, description="openai only: the completions endpoint.")
    logprobs: LogprobsFileSpec | None = Field(None, description="logprobs only: the per-token log-probability file.")
    reference: ReferenceLMSpec | None = Field(
        None,
        description="text-generation only: a reference language model trained without the audited texts "
        "(e.g. a smaller or earlier model), for the reference-calibration attack.",
    )

    _resolve_artifact = field_validator("artifact")(_resolve)

    @model_validator(mode="after")
    def _format_needs(self) -> ModelSpec:
        if self.format in TEXT_FORMATS:
            _check_text_format(self.format, self.artifact, self.openai, self.logprobs)
            return self
        if self.format in ("skops", "pickle", "joblib", "onnx") and self.artifact is None:
            raise ValueError(f"format '{self.format}' needs 'artifact' (the model file)")
        if self.format == "http" and self.http is None:
            raise ValueError("format 'http' needs an 'http' section (url, response mapping)")
        if self.format == "predictions" and self.predictions is None:
            raise ValueError("format 'predictions' needs a 'predictions' section (file, columns)")
        if self.format in ("pickle", "joblib") and not self.allow_unsafe_pickle:
            raise ValueError(
                f"format '{self.format}' executes code from the file when loaded; save the model with skops, "
                "or set allow_unsafe_pickle: true if you trust the file"
            )
        return self


class DataSpec(_Strict):
    """The records audited, and what they say about people."""

    members: Path = Field(
        description="Records the model was trained on (CSV or Parquet; for text-generation JSONL or CSV)."
    )
    non_members: Path = Field(description="Records from the same population the model never saw.")
    population: Path | None = Field(
        None, description="Optional further records never used in training: the attacker's background data."
    )
    id_column: str = Field(description="Column holding a stable record ID; reports name records only by it.")
    label_column: str | None = Field(
        None, description="Column holding the true label (classification: required; text-generation: absent)."
    )
    text_column: str | None = Field(
        None, description="text-generation only (required there): the field or column holding each text."
    )
    feature_columns: list[str] | None = Field(
        None, description="Model input columns, in model order; default: every other column not excluded."
    )
    exclude_columns: list[str] = Field(
        default_factory=list, description="Columns that are not model inputs (e.g. sampling weights)."
    )
    slice_columns: list[str] = Field(
        default_factory=list, description="Columns to report leakage by (e.g. protected attributes)."
    )
    categories: list[DataCategory] = Field(
        min_length=1, description="What the records reveal: GDPR Art. 9 categories, PHI, financial, children..."
    )
    data_subjects: int = Field(ge=1, description="Number of people whose data trained the model.")
    membership_reveals_condition: bool = Field(
        False, description="True when being in the training set itself reveals something (e.g. a patient cohort)."
    )
    description: str = Field("", description="Plain-language description of the data.")
    format: Literal["csv", "tsv", "parquet", "jsonl"] | None = Field(
        None,
        description="Format of the data files; default: from the file name's extension, else from its content "
        "(for extension-less files such as DVC or git-annex caches). jsonl: text-generation only.",
    )
    allow_duplicate_records: bool = Field(
        False,
        description="Proceed when records with identical feature values appear in more than one of members, "
        "non-members and population (the counts are reported as a data warning); by default this is refused.",
    )
    drop_unknown_labels: bool = Field(
        False,
        description="Leave out non-member and population records whose label is not one of the model's classes "
        "(counted in the data warnings); by default they are refused. Members with such a label are always refused.",
    )

    _resolve_paths = field_validator("members", "non_members", "population")(_resolve)

    @model_validator(mode="after")
    def _columns_distinct(self) -> DataSpec:
        if self.id_column == self.label_column:
            raise ValueError("id_column and label_column must differ")
        if self.id_column == self.text_column:
            raise ValueError("id_column and text_column must differ")
        for name in (self.id_column, self.label_column):
            if name is not None and self.feature_columns and name in self.feature_columns:
                raise ValueError(f"feature_columns must not contain '{name}'")
        return self


class QueryLimit(_Strict):
    """Limits the deployment places on each caller."""

    per_minute: int | None = Field(None, ge=1)
    per_day: int | None = Field(None, ge=1)
    total: int | None = Field(None, ge=1)


class ExposureSpec(_Strict):
    """What the deployed model returns, and who can ask it."""

    outputs: OutputKind = Field(
        description="The richest thing a caller gets back. Classification: label, top_k, probabilities, logits "
        "or loss. Text-generation: top_k_logprobs (each token's log-probability and the k most likely tokens' "
        "at each position), token_logprobs (each token's log-probability) or generated_text (text only)."
    )
    top_k: int | None = Field(
        None,
        ge=1,
        description="With outputs: top_k, how many classes are returned; with top_k_logprobs, how many "
        "tokens' log-probabilities are returned at each position.",
    )
    rounding: int | None = Field(
        None, ge=0, le=12, description="Decimals the returned probabilities are rounded to (probabilities, top_k)."
    )
    access: Access = Field(description="public, authenticated or internal.")
    query_limit: QueryLimit | None = Field(None, description="Rate limits per caller, if any.")
    monitored: bool = Field(False, description="Queries are logged and reviewed for abuse.")

    @model_validator(mode="after")
    def _consistent(self) -> ExposureSpec:
        if self.outputs == "top_k" and self.top_k is None:
            raise ValueError("outputs 'top_k' needs 'top_k' (how many classes are returned)")
        if self.outputs == "top_k_logprobs" and self.top_k is None:
            raise ValueError("outputs 'top_k_logprobs' needs 'top_k' (how many tokens are returned per position)")
        if self.outputs not in ("top_k", "top_k_logprobs") and self.top_k is not None:
            raise ValueError("'top_k' only applies when outputs is 'top_k' or 'top_k_logprobs'")
        if self.rounding is not None and self.outputs not in ("probabilities", "top_k"):
            raise ValueError("'rounding' only applies when outputs is 'probabilities' or 'top_k'")
        return self


class ReferenceModelsSpec(_Strict):
    """Reference (shadow) models the attacker trains to calibrate attacks."""

    count: int = Field(8, ge=0, le=512, description="How many reference models to train.")
    mode: ReferenceMode = Field(
        "offline",
        description="offline: trained on population data only (an outside attacker); online: on random halves "
        "of members and non-members too (the strongest audit, as the auditor holds the training set); both.",
    )
    estimator: EstimatorSpec | None = Field(
        None, description="Train reference models with this estimator instead of a clone of the target."
    )
    population_fraction: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="Without a population file, the share of non-members set aside as attacker background data.",
    )
    online_pool: Literal["population-and-audit", "audit"] = Field(
        "population-and-audit",
        description="Online reference models train on random halves of population and audit records, or of the "
        "audit records only ('audit': as many training records as the target when members and non-members are "
        "equally many, which makes online attacks much stronger on forests; see docs/attack-benchmark.md).",
    )
    backend: Backend = Field("loky", description="joblib backend: loky (processes), threading, sequential, dask, ray.")
    n_jobs: int = Field(-1, description="Parallel workers (-1: all cores). Results do not depend on it.")
    scheduler_address: str | None = Field(None, description="Dask scheduler or Ray cluster address for those backends.")
    cache_dir: Path | None = Field(
        None, description="Where trained reference models are cached; default ~/.cache/compliance-mia."
    )
    use_cache: bool = Field(True, description="Re-use cached reference models trained on identical inputs.")

    @field_validator("cache_dir")
    @classmethod
    def _resolve_cache(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _resolve(value, info, must_exist=False)


class AttacksSpec(_Strict):
    """Which attacks to run and how much effort to spend."""

    select: Literal["auto"] | list[str] = Field(
        "auto", description="'auto' (every attack the exposure allows) or a list of attack names."
    )
    exclude: list[str] = Field(default_factory=list, description="Attack names never to run.")
    budget_seconds: float | None = Field(
        None, gt=0, description="Planner's time budget; costly attacks are skipped, with a reason, to fit it."
    )
    reference_models: ReferenceModelsSpec = Field(default_factory=ReferenceModelsSpec)
    label_only_noise: float = Field(
        0.05,
        gt=0,
        le=1,
        description="Label-only robustness attack: noise scale as a fraction of each feature's spread.",
    )
    label_only_queries: int = Field(
        16, ge=2, le=512, description="Label-only robustness attack: perturbed queries per record."
    )
    boundary_queries: int = Field(
        16,
        ge=5,
        le=1024,
        description="Decision-boundary attack: label queries per record and model (one for the record itself, "
        "the rest split into directions × binary-search steps).",
    )
    boundary_directions: Literal["random", "features"] = Field(
        "random",
        description="Decision-boundary attack: search along random directions or one continuous column at a time.",
    )
    lira_variance: Literal["auto", "fixed", "per-record"] = Field(
        "auto",
        description="LiRA: fit one pooled variance (fixed) or one per record; auto uses per-record only "
        "with at least 16 reference models per hypothesis.",
    )


class StatisticsSpec(_Strict):
    """How figures are estimated and when a sample is too small to support them."""

    confidence_level: float = Field(0.95, gt=0.5, lt=1, description="Two-sided confidence level of every interval.")
    fpr_levels: list[Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=lambda: [0.001, 0.01, 0.1],
        min_length=1,
        description="False-positive rates at which TPR is reported.",
    )
    bootstrap_resamples: int = Field(1000, ge=100, le=100_000, description="Bootstrap resamples for the AUC interval.")
    delta: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="δ for the empirical ε lower bound; default 1 / (10 × data subjects), at most 0.001, "
        "so always below 1/N.",
    )
    member_prior: float | None = Field(
        None, gt=0, lt=1, description="Assumed share of members among people an attacker tests, for precision (PPV)."
    )
    min_false_positives: int = Field(
        10, ge=1, description="A TPR at FPR f needs at least this many expected false positives (f × non-members)."
    )
    min_slice_size: int = Field(
        50, ge=5, description="Slices with fewer members or non-members are flagged, not ranked."
    )
    top_records: int = Field(20, ge=0, le=10_000, description="How many highest-risk record IDs the report lists.")
    min_group_size: int = Field(
        10,
        ge=1,
        le=1000,
        description="Slice groups with fewer members or fewer non-members are never reported by value; they are "
        "merged into one suppressed row per column (small-cell suppression).",
    )
    max_tie_share: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="A TPR at FPR is not determinable when more than this share of the records flagged at that FPR "
        "are picked at random from tied scores, or a tie holding more than this share of all records lies within "
        "the interval's threshold window.",
    )


class RiskSpec(_Strict):
    """How the rating is made and what residual risk is acceptable."""

    scale: RiskScale = Field(
        "cnil-4",
        description="A scale of the risk matrix; shipped: cnil-4 (negligible…maximum) or nist-5 (very low…very high).",
    )
    appetite: str | None = Field(
        None, description="Highest acceptable residual rating on the chosen scale, e.g. 'limited'."
    )
    matrix: Path | None = Field(
        None, description="Custom risk matrix YAML; default: the shipped policies/risk_matrix.yaml."
    )

    _resolve_matrix = field_validator("matrix")(_resolve)


class TrainingRecipe(_Strict):
    """A candidate training-time control to retrain and re-attack.

    Either change parameters of the assessed model (``params``, applied to a
    fresh copy, e.g. ``forest__min_samples_leaf: 20`` for a Pipeline step), or
    name a different estimator (``estimator``).
    """

    name: str = Field(description="Short name shown in the report.")
    control: str = Field(description="Catalogue control id this recipe implements, e.g. 'regularisation'.")
    params: dict[str, Any] | None = Field(
        None,
        description="Parameters to set on a fresh copy of the assessed model (scikit-learn set_params names, "
        "e.g. 'forest__max_depth' inside a Pipeline).",
    )
    estimator: EstimatorSpec | None = Field(None, description="A different estimator to train instead.")

    @model_validator(mode="after")
    def _one_way(self) -> TrainingRecipe:
        if (self.params is None) == (self.estimator is None):
            raise ValueError("give either 'params' (changes to the assessed model) or 'estimator', not both or neither")
        return self


class ControlsSpec(_Strict):
    """Controls catalogue and what-if measurements."""

    catalogue: Path | None = Field(None, description="Custom controls catalogue YAML; default: the shipped one.")
    what_if: bool = Field(True, description="Measure output controls by re-running the attacks under them.")
    training_recipes: list[TrainingRecipe] = Field(
        default_factory=list, description="Training-time controls to measure by retraining on the members."
    )
    output_noise_scale: float = Field(
        0.05, gt=0, le=1, description="Standard deviation of the Gaussian noise in the output-perturbation what-if."
    )

    _resolve_catalogue = field_validator("catalogue")(_resolve)


class ActionItem(_Strict):
    """One planned treatment in the action plan."""

    control: str = Field(description="Catalogue control id.")
    owner: str
    due: dt.date
    status: ActionStatus = "planned"
    note: str = ""


class SignOff(_Strict):
    """Who reviewed the assessment and what they decided."""

    assessor: str | None = None
    assessor_role: str | None = None
    dpo_name: str | None = Field(None, description="Name of the Data Protection Officer who gave the opinion.")
    dpo_opinion: str | None = Field(None, description="Opinion of the Data Protection Officer.")
    dpo_date: dt.date | None = Field(None, description="Date of the DPO's opinion.")
    decision: Decision | None = Field(None, description="validated, conditional or refused; unset means draft.")
    conditions: list[str] = Field(
        default_factory=list, description="Conditions of a conditional decision, one per item."
    )
    approver: str | None = Field(None, description="Who approved the decision for the controller.")
    approver_role: str | None = None
    approval_date: dt.date | None = Field(None, description="Date the approver signed.")
    date: dt.date | None = Field(None, description="Date of the assessor's sign-off.")
    next_review: dt.date | None = Field(None, description="Date of the next re-assessment.")
    triggers: list[str] = Field(
        default_factory=lambda: [
            "model retrained or its training data changed",
            "deployed outputs or access widened",
            "new state-of-the-art membership inference attack published",
        ],
        description="Events that require re-assessment before next_review (GDPR Art. 35(11)).",
    )


class ReportSpec(_Strict):
    """Presentation of the report."""

    title: str = Field("Membership Inference Privacy Impact Assessment")
    organisation: str | None = None
    template_dir: Path | None = Field(None, description="Directory of Jinja2 templates overriding the shipped ones.")
    logo: Path | None = Field(None, description="Logo image for the cover (PNG or SVG), embedded in the report.")
    previous_assessment: Path | None = Field(
        None, description="assessment.json of the last assessment, for the change-since-last section."
    )

    _resolve_paths = field_validator("template_dir", "logo", "previous_assessment")(_resolve)


class PrivacyAuditSpec(_Strict):
    """A one-run privacy audit of the training pipeline (Steinke, Nasr & Jagielski 2023).

    For teams that claim their training is differentially private: canaries
    are inserted at random (each with probability ½), the recipe is trained
    once, and the ε the guesses support at the stated confidence is set
    against the claim. A lower bound: it can contradict a claim, never prove it.
    """

    claimed_epsilon: float = Field(gt=0, le=100, description="The ε the team claims for its training.")
    delta: float = Field(
        1e-5, ge=0, lt=1, description="The δ of the claim; 0 for pure ε-DP. Also used in the audit's bound."
    )
    canaries: int = Field(
        1000,
        ge=20,
        le=100_000,
        description="How many canaries (m); each is included in training with probability ½. More canaries "
        "support larger bounds but cost training time.",
    )
    canary_source: Literal["synthetic", "population"] = Field(
        "synthetic",
        description="synthetic: each feature drawn from its own column of the audit data, with a random label "
        "(out-of-distribution records only memorisation can fit: the strongest audit); population: real "
        "records of the population (or non-members) with their labels.",
    )
    guesses: int | None = Field(
        None,
        ge=1,
        description="Guesses per side (k canaries guessed in, k out, the rest abstained), fixed in advance; "
        "default: a grid of shares of m fixed in advance, Bonferroni-corrected.",
    )
    confidence: float = Field(0.95, ge=0.5, lt=1, description="Confidence of the lower bound.")
    estimator: EstimatorSpec | None = Field(
        None,
        description="The training recipe to audit; default: a fresh copy of the assessed model (it must be "
        "copyable: a scikit-learn artifact).",
    )

    @model_validator(mode="after")
    def _guesses_fit(self) -> PrivacyAuditSpec:
        if self.guesses is not None and 2 * self.guesses > self.canaries:
            raise ValueError(
                f"guesses ({self.guesses} in and {self.guesses} out) must be at most half the canaries "
                f"({self.canaries}); lower guesses or raise canaries"
            )
        return self


class Policy(_Strict):
    """A complete assessment policy (one YAML file)."""

    policy_version: Literal[1] = Field(1, description="Version of this policy format.")
    system: SystemInfo
    model: ModelSpec
    data: DataSpec
    exposure: ExposureSpec
    regulations: list[Regulation] = Field(
        default_factory=lambda: ["gdpr"],
        min_length=1,
        description="Regulations and frameworks in scope: ids of the controls catalogue's frameworks "
        "(shipped: gdpr, uk_gdpr, hipaa, eu_ai_act, edpb_opinion_28_2024, owasp_ml_top10, owasp_ai_exchange, "
        "mitre_atlas, nist_ai_rmf, iso_27559, iso_42001).",
    )
    seed: int = Field(0, ge=0, le=2**32 - 1, description="The one seed behind every random choice.")
    attacks: AttacksSpec = Field(default_factory=AttacksSpec)
    statistics: StatisticsSpec = Field(default_factory=StatisticsSpec)
    risk: RiskSpec = Field(default_factory=RiskSpec)
    controls: ControlsSpec = Field(default_factory=ControlsSpec)
    privacy_audit: PrivacyAuditSpec | None = Field(
        None, description="One-run audit of a differential-privacy claim; disabled unless given."
    )
    action_plan: list[ActionItem] = Field(default_factory=list)
    signoff: SignOff = Field(default_factory=SignOff)
    report: ReportSpec = Field(default_factory=ReportSpec)

    @model_validator(mode="after")
    def _task_consistent(self) -> Policy:
        """Refuse, each at its own field, what makes no sense for the model's task.

        A text policy with ``outputs: probabilities`` or a tabular one with a
        ``text_column`` would otherwise run with part of the policy silently
        ignored; the error names the field and what the task accepts instead.
        """
        problems = _text_problems(self) if self.model.task == "text-generation" else _tabular_problems(self)
        if problems:
            raise ValidationError.from_exception_data(
                "Policy",
                [
                    {"type": PydanticCustomError("task_mismatch", message), "loc": loc, "input": value}
                    for loc, message, value in problems
                ],
            )
        return self


_Mismatch = tuple[tuple[str, ...], str, Any]


def _text_problems(policy: Policy) -> list[_Mismatch]:
    """What a text-generation policy must not contain, or lacks."""
    out: list[_Mismatch] = []
    model, data, exposure = policy.model, policy.data, policy.exposure
    task = "with model.task 'text-generation'"
    if model.format not in TEXT_FORMATS:
        out.append((("model", "format"), f"{task} the format must be one of {', '.join(TEXT_FORMATS)}", model.format))
    for name in ("classes", "surrogate", "http", "predictions", "onnx"):
        if getattr(model, name) is not None:
            out.append((("model", name), f"'{name}' applies to classification models only; remove it", None))
    if model.trusted_types:
        out.append((("model", "trusted_types"), "'trusted_types' applies to skops models only; remove it", None))
    if model.allow_unsafe_pickle:
        out.append(
            (("model", "allow_unsafe_pickle"), "language models are loaded from safetensors only, never pickle", True)
        )
    if exposure.outputs not in TEXT_OUTPUTS:
        out.append(
            (
                ("exposure", "outputs"),
                f"{task} outputs must be one of {', '.join(TEXT_OUTPUTS)} "
                f"('{exposure.outputs}' describes a classifier)",
                exposure.outputs,
            )
        )
    if model.format == "logprobs" and exposure.outputs == "generated_text":
        out.append(
            (
                ("exposure", "outputs"),
                "a log-probability file cannot generate text, so 'generated_text' cannot be assessed from it; "
                "reach the model itself (format huggingface or openai), or declare the log-probabilities the "
                "deployment returns",
                exposure.outputs,
            )
        )
    if data.text_column is None:
        out.append((("data",), f"{task} 'text_column' is required (the field holding each text)", None))
    if data.label_column is not None:
        out.append((("data", "label_column"), f"{task} there is no label; remove 'label_column'", data.label_column))
    if data.feature_columns is not None:
        out.append((("data", "feature_columns"), f"{task} the model reads only 'text_column'; remove it", None))
    if data.exclude_columns:
        out.append((("data", "exclude_columns"), f"{task} the model reads only 'text_column'; remove it", None))
    if data.drop_unknown_labels:
        out.append((("data", "drop_unknown_labels"), f"{task} there are no labels; remove it", True))
    if data.format not in (None, "jsonl", "csv"):
        out.append((("data", "format"), f"{task} texts are read from jsonl or csv", data.format))
    if policy.controls.training_recipes:
        out.append(
            (
                ("controls", "training_recipes"),
                "training recipes retrain a scikit-learn model; they are not available for language models",
                None,
            )
        )
    return out


def _tabular_problems(policy: Policy) -> list[_Mismatch]:
    """What a classification policy must not contain, or lacks."""
    out: list[_Mismatch] = []
    model, data, exposure = policy.model, policy.data, policy.exposure
    hint = "set model.task: text-generation for a language model"
    if model.format not in TABULAR_FORMATS:
        out.append(
            (
                ("model", "format"),
                f"format '{model.format}' is for language models ({hint}); classifiers use "
                f"{', '.join(TABULAR_FORMATS)}",
                model.format,
            )
        )
    for name in ("openai", "logprobs", "reference"):
        if getattr(model, name) is not None:
            out.append((("model", name), f"'{name}' applies to language models only ({hint})", None))
    if exposure.outputs not in TABULAR_OUTPUTS:
        out.append(
            (
                ("exposure", "outputs"),
                f"'{exposure.outputs}' is what a language model returns ({hint}); a classifier exposes "
                f"{', '.join(TABULAR_OUTPUTS)}",
                exposure.outputs,
            )
        )
    if data.label_column is None:
        out.append((("data",), "'label_column' is required (the column holding the true label)", None))
    if data.text_column is not None:
        out.append((("data", "text_column"), f"'text_column' applies to language models only ({hint})", None))
    if data.format == "jsonl":
        out.append((("data", "format"), f"jsonl data is read for language models only ({hint})", "jsonl"))
    return out

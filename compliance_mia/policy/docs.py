"""Generate docs/policy.md from the schema, so the reference can never drift from the code.

Run ``python -m compliance_mia.policy.docs > docs/policy.md``; a test fails
when the committed file differs from what this produces.
"""

from __future__ import annotations

import sys
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from compliance_mia.policy.schema import Policy

_INTRO = """\
# Policy reference

A policy is one YAML file describing what is assessed and under which
assumptions. `compliance-mia validate POLICY` checks it without running
anything; `compliance-mia schema` prints its JSON Schema for editor
autocompletion (e.g. with the YAML language server:
`# yaml-language-server: $schema=policy.schema.json`).

Rules that hold everywhere:

- Unknown keys are errors (a misspelt key never silently falls back to a default).
  Every error names the file, the line and the field, and what is accepted.
- Paths are relative to the policy file. `builtin:health-insurance/<file>`
  names a file of the built-in example, generated on first use.
- YAML is read with a safe loader: no tags, no code, duplicate keys refused.
- Secrets never appear in a policy: the HTTP target names an environment
  variable (`model.http.auth_env`) holding the credential.
- `model.task` decides which formats, data fields and exposures apply:
  classification (tabular) or text-generation (a language model, see
  docs/text.md). A field of the other task is an error at that field.

This page is generated from the code (`python -m compliance_mia.policy.docs`).

## A complete example

```yaml
{example}
```
"""



#: Per-section examples: together they use every field (a test checks this and
#: validates each example against its section's model).
SECTION_EXAMPLES: dict[str, list[str]] = {
    "SystemInfo": [
        """\
system:
  name: Readmission risk model
  owner: Clinical Analytics
  version: 4.1.0
  assessment_type: periodic        # pre-deployment | periodic | ad-hoc
  description: Scores the 30-day readmission risk of discharged patients.
  purpose: Prioritise follow-up calls by the discharge nurses.
  controller: St Example Hospital Trust
  contact: dpo@example-hospital.org
"""
    ],
    "ModelSpec": [
        """\
model:
  format: skops
  artifact: models/readmission.skops
  task: classification
  classes: [no, yes]               # order of the model's probability columns
  trusted_types: [mylib.encoders.AgeBander]
""",
        """\
model:
  format: joblib                   # pickle/joblib run code from the file when loaded
  artifact: models/legacy.joblib
  allow_unsafe_pickle: true        # recorded as a warning in the report
""",
        """\
model:
  format: onnx
  artifact: models/readmission.onnx
  classes: [no, yes]
  onnx:
    probabilities_output: probabilities
    label_output: label
  surrogate:                       # trains the reference models: an ONNX graph cannot be cloned
    class: sklearn.ensemble.HistGradientBoostingClassifier
    params: {max_iter: 200}
""",
        """\
model:
  format: http
  classes: [no, yes]
  http:
    url: https://models.example.org/readmission/v4/predict
    auth_env: READMISSION_API_TOKEN
""",
        """\
model:
  format: predictions
  classes: [no, yes]
  predictions:
    file: predictions.parquet
    probability_columns: [p_no, p_yes]
""",
        """\
model:                             # a causal language model (see docs/text.md)
  task: text-generation
  format: huggingface              # a local directory: config.json, *.safetensors, tokenizer files
  artifact: models/notes-lm/
  reference:                       # trained without the audited texts: calibrates the reference attack
    format: huggingface
    artifact: models/notes-lm-base/
""",
        """\
model:
  task: text-generation
  format: openai                   # an OpenAI-compatible /v1/completions endpoint returning logprobs
  openai:
    url: https://llm.example.org/v1/completions
    model: notes-assistant-v2
    auth_env: NOTES_LLM_TOKEN
""",
        """\
model:
  task: text-generation
  format: logprobs                 # the owner shares per-token log-probabilities, not the model
  logprobs:
    file: token_logprobs.jsonl
""",
    ],
    "OpenAITargetSpec": [
        """\
openai:
  url: https://llm.example.org/v1/completions
  model: notes-assistant-v2        # the "model" field of every request
  batch_size: 16
  timeout_seconds: 30
  max_retries: 5
  backoff_seconds: 0.5
  rate_limit_per_second: 5
  query_budget: 20000
  auth_header: Authorization
  auth_env: NOTES_LLM_TOKEN        # the secret is read from this variable, never written anywhere
  auth_scheme: Bearer
  verify_tls: true
"""
    ],
    "LogprobsFileSpec": [
        """\
logprobs:
  file: token_logprobs.jsonl       # {"id": ..., "token_logprobs": [...], "top_logprobs": [[...], ...]}
"""
    ],
    "ReferenceLMSpec": [
        """\
reference:
  format: huggingface
  artifact: models/notes-lm-base/
""",
        """\
reference:
  format: logprobs
  logprobs:
    file: reference_logprobs.jsonl
""",
        """\
reference:
  format: openai
  openai:
    url: https://llm.example.org/v1/completions
    model: notes-assistant-v1
""",
    ],
    "EstimatorSpec": [
        """\
surrogate:
  class: sklearn.ensemble.RandomForestClassifier
  params: {n_estimators: 200, min_samples_leaf: 5}
"""
    ],
    "HttpTargetSpec": [
        """\
http:
  url: https://models.example.org/readmission/v4/predict
  method: POST
  request_template: {instances: $records, explain: false}
  records_as: objects              # objects | lists
  probabilities_path: predictions.*.probabilities
  label_path: predictions.*.label
  batch_size: 256
  timeout_seconds: 30
  max_retries: 5
  backoff_seconds: 0.5
  rate_limit_per_second: 20
  query_budget: 200000
  auth_header: Authorization
  auth_env: READMISSION_API_TOKEN  # the secret is read from this variable, never written anywhere
  auth_scheme: Bearer
  verify_tls: true
"""
    ],
    "PredictionsSpec": [
        """\
predictions:
  file: predictions.parquet
  id_column: patient_id
  probability_columns: [p_no, p_yes]
  label_column: predicted
  loss_column: loss
"""
    ],
    "OnnxTargetSpec": [
        """\
onnx:
  probabilities_output: output_probability
  label_output: output_label
"""
    ],
    "DataSpec": [
        """\
data:
  members: data/train.parquet
  non_members: data/holdout.parquet
  population: data/registry_sample.parquet
  id_column: patient_id
  label_column: readmitted
  feature_columns: [age, sex, los_days, diagnoses, prior_admissions]
  exclude_columns: [sampling_weight]
  slice_columns: [sex, ethnicity]
  categories: [health, phi, racial_ethnic_origin]
  data_subjects: 48000
  membership_reveals_condition: true   # being in the cohort reveals a hospital stay
  description: Discharges 2021-2024 from three sites.
""",
        """\
data:                        # files from a DVC cache: no extension, so say the format
  members: .dvc/cache/files/md5/3f/2a9c0d41b7e6
  non_members: .dvc/cache/files/md5/91/bd07e2aa5c
  id_column: claim_id
  label_column: fraud
  format: parquet
  allow_duplicate_records: true   # few coarse features: different people can share every value
  drop_unknown_labels: true       # non-members labelled with a class the model never had are left out
  categories: [financial]
  data_subjects: 12000
""",
        """\
data:                        # a language model's texts (model.task: text-generation)
  members: texts/train.jsonl       # one {"id": ..., "text": ...} object per line, or CSV
  non_members: texts/heldout.jsonl
  id_column: note_id
  text_column: text
  format: jsonl
  slice_columns: [department]
  categories: [health]
  data_subjects: 9000
""",
    ],
    "ExposureSpec": [
        """\
exposure:
  outputs: top_k                   # label | top_k | probabilities | logits | loss
  top_k: 3
  rounding: 2
  access: public                   # public | authenticated | internal
  query_limit: {per_minute: 60, per_day: 5000, total: 100000}
  monitored: true
""",
        """\
exposure:                          # a language model (model.task: text-generation)
  outputs: top_k_logprobs          # top_k_logprobs | token_logprobs | generated_text
  top_k: 5                         # log-probabilities of the 5 most likely tokens at each position
  access: authenticated
"""
    ],
    "QueryLimit": [
        """\
query_limit:
  per_minute: 60
  per_day: 5000
  total: 100000
"""
    ],
    "AttacksSpec": [
        """\
attacks:
  select: auto                     # or a list, e.g. [loss, rmia-offline, gap]
  exclude: [label-robustness-calibrated]
  budget_seconds: 900
  label_only_noise: 0.05
  label_only_queries: 16
  lira_variance: auto              # auto | fixed | per-record
  boundary_queries: 16             # decision-boundary attack: label queries per record and model
  boundary_directions: random      # random | features
  reference_models: {count: 8, mode: both}
"""
    ],
    "ReferenceModelsSpec": [
        """\
reference_models:
  count: 16
  mode: both                       # offline | online | both
  estimator: {class: sklearn.ensemble.RandomForestClassifier, params: {n_estimators: 100}}
  population_fraction: 0.5
  online_pool: audit               # population-and-audit | audit
  backend: dask                    # loky | threading | sequential | dask | ray
  n_jobs: -1
  scheduler_address: tcp://scheduler.internal:8786
  cache_dir: .mia-cache
  use_cache: true
"""
    ],
    "StatisticsSpec": [
        """\
statistics:
  confidence_level: 0.95
  fpr_levels: [0.001, 0.01, 0.1]
  bootstrap_resamples: 1000
  delta: 1.0e-5
  member_prior: 0.1                # 1 in 10 people an attacker tests is in the training data
  min_false_positives: 10
  min_slice_size: 50
  top_records: 20
  min_group_size: 10
  max_tie_share: 0.5
"""
    ],
    "RiskSpec": [
        """\
risk:
  scale: nist-5                    # cnil-4 | nist-5
  appetite: low
  matrix: governance/risk_matrix.yaml
"""
    ],
    "ControlsSpec": [
        """\
controls:
  catalogue: governance/controls.yaml
  what_if: true
  output_noise_scale: 0.05
  training_recipes:
    - {name: leafier forest, control: regularisation, params: {forest__min_samples_leaf: 20}}
"""
    ],
    "TrainingRecipe": [
        """\
training_recipes:
  - name: leafier forest
    control: regularisation
    params: {forest__min_samples_leaf: 20, forest__max_depth: 12}
  - name: shallow boosting
    control: regularisation
    estimator: {class: sklearn.ensemble.HistGradientBoostingClassifier, params: {max_depth: 3}}
"""
    ],
    "PrivacyAuditSpec": [
        """\
privacy_audit:                     # only for a training the team claims is differentially private
  claimed_epsilon: 3.0
  delta: 1.0e-5
  canaries: 1000                   # m; each included with probability 1/2, one training run
  canary_source: synthetic         # synthetic (strongest) | population
  guesses: null                    # k per side, fixed in advance; null: a fixed grid, Bonferroni-corrected
  confidence: 0.95
  estimator: {class: sklearn.linear_model.LogisticRegression, params: {C: 0.1}}  # default: copy of the model
"""
    ],
    "ActionItem": [
        """\
action_plan:
  - control: output-rounding
    owner: Platform API team
    due: 2027-03-31
    status: in-progress            # planned | in-progress | done | accepted-risk | rejected
    note: round to 1 decimal in API v5
"""
    ],
    "SignOff": [
        """\
signoff:
  assessor: J. Doe
  assessor_role: Privacy Engineer
  date: 2027-01-15                 # the assessor's sign-off
  dpo_name: M. Martin
  dpo_opinion: Residual risk acceptable once rounding ships.
  dpo_date: 2027-01-18
  decision: conditional            # validated | conditional | refused
  conditions: [output rounding live in API v5 before release]
  approver: A. Smith
  approver_role: Chief Operating Officer
  approval_date: 2027-01-20
  next_review: 2027-07-15
  triggers: [model retrained, outputs widened]
"""
    ],
    "ReportSpec": [
        """\
report:
  title: Membership Inference Privacy Impact Assessment
  organisation: St Example Hospital Trust
  template_dir: branding/templates
  logo: branding/logo.svg
  previous_assessment: reports/2026-q2/assessment.json
"""
    ],
}

def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Union or str(origin) == "types.UnionType":
        parts = [a for a in args if a is not type(None)]
        text = " or ".join(_type_name(a) for a in parts)
        return text + (" (optional)" if len(parts) < len(args) else "")
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{_section_title(annotation)}](#{_anchor(annotation)})"
        return {
            "str": "text",
            "int": "integer",
            "float": "number",
            "bool": "true/false",
            "Path": "path",
            "date": "date (YYYY-MM-DD)",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _section_title(model: type[BaseModel]) -> str:
    return model.__name__


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "(section defaults)"
        return f"`{value}`"
    if field.default is PydanticUndefined or field.default is None:
        return "—"
    return f"`{field.default}`"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for sub in _nested(field.annotation):
                visit(sub)

    visit(root)
    return seen


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_nested(arg))
    return out


def render(example: str) -> str:
    """The full Markdown reference, with ``example`` as the complete example policy."""
    lines = [_INTRO.format(example=example.strip())]
    for model in _models(Policy):
        lines.append(f"\n## {_section_title(model)}\n")
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
        lines.append("| key | type | default | meaning |")
        lines.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            key = field.alias or name
            desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
        for snippet in SECTION_EXAMPLES.get(model.__name__, []):
            lines.append("\n```yaml\n" + snippet.rstrip() + "\n```")
    return "\n".join(lines) + "\n"


def main() -> None:
    from compliance_mia.resources import policies_dir

    example = (policies_dir() / "examples" / "health-insurance.yaml").read_text(encoding="utf-8")
    sys.stdout.write(render(example))


if __name__ == "__main__":
    main()

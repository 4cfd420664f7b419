"""The text policy: the contract's fields load, and every combination that makes no sense is refused where it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance_mia.errors import PolicyError
from compliance_mia.policy.loader import load_policy
from compliance_mia.policy.schema import HttpTargetSpec, OpenAITargetSpec, _TransportSpec

TEXT = """\
policy_version: 1
system: {name: Notes LM, owner: AI team, assessment_type: pre-deployment}
model:
  task: text-generation
  format: huggingface
  artifact: target-lm/
  reference:
    format: huggingface
    artifact: reference-lm/
data:
  members: members.jsonl
  non_members: non_members.jsonl
  id_column: id
  text_column: text
  slice_columns: [source]
  categories: [health]
  data_subjects: 400
exposure:
  outputs: top_k_logprobs
  top_k: 5
  access: public
"""


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path, check_files=False)
    return [str(p) for p in info.value.problems]


def test_the_contract_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(TEXT, encoding="utf-8")
    policy = load_policy(path, check_files=False)
    assert policy.model.task == "text-generation"
    assert policy.model.reference is not None and policy.model.reference.artifact == tmp_path / "reference-lm"
    assert policy.data.text_column == "text" and policy.data.label_column is None
    assert policy.exposure.outputs == "top_k_logprobs" and policy.exposure.top_k == 5


def test_openai_spec_shares_the_http_transport_fields_through_one_base() -> None:
    assert issubclass(OpenAITargetSpec, _TransportSpec) and issubclass(HttpTargetSpec, _TransportSpec)
    shared = {"timeout_seconds", "max_retries", "backoff_seconds", "rate_limit_per_second", "auth_env", "verify_tls"}
    assert shared <= set(OpenAITargetSpec.model_fields) and shared <= set(HttpTargetSpec.model_fields)
    assert OpenAITargetSpec(url="http://127.0.0.1:9/v1/completions", model="m").batch_size == 16


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "  outputs: top_k_logprobs\n  top_k: 5\n",
            "  outputs: probabilities\n",
            "policy.yaml:19: exposure.outputs: with model.task 'text-generation' outputs must be one of "
            "top_k_logprobs, token_logprobs, generated_text ('probabilities' describes a classifier)",
        ),
        (
            "  text_column: text\n",
            "  text_column: text\n  label_column: label\n",
            "policy.yaml:15: data.label_column: with model.task 'text-generation' there is no label; "
            "remove 'label_column'",
        ),
        (
            "  format: huggingface\n  artifact: target-lm/\n",
            "  format: skops\n  artifact: model.skops\n",
            "policy.yaml:5: model.format: with model.task 'text-generation' the format must be one of "
            "huggingface, openai, logprobs",
        ),
        (
            "  outputs: top_k_logprobs\n  top_k: 5\n",
            "  outputs: top_k_logprobs\n",
            "exposure: outputs 'top_k_logprobs' needs 'top_k'",
        ),
    ],
)
def test_text_policy_mismatches_are_located(tmp_path: Path, old: str, new: str, expected: str) -> None:
    problems = _problems(tmp_path, TEXT.replace(old, new))
    assert any(expected in p for p in problems), problems


def test_missing_text_column_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, TEXT.replace("  text_column: text\n", ""))
    assert any("data: with model.task 'text-generation' 'text_column' is required" in p for p in problems), problems


def test_text_fields_on_a_tabular_policy_are_refused(tmp_path: Path) -> None:
    tabular = (
        TEXT.replace("  task: text-generation\n", "")
        .replace("  format: huggingface\n  artifact: target-lm/\n", "  format: skops\n  artifact: model.skops\n")
        .replace("  text_column: text\n", "  label_column: y\n  text_column: text\n")
        .replace("  outputs: top_k_logprobs\n  top_k: 5\n", "  outputs: token_logprobs\n")
    )
    problems = _problems(tmp_path, tabular)
    assert any("model.reference: 'reference' applies to language models only" in p for p in problems), problems
    assert any("data.text_column: 'text_column' applies to language models only" in p for p in problems), problems
    assert any("exposure.outputs: 'token_logprobs' is what a language model returns" in p for p in problems)


def test_a_format_needs_its_section(tmp_path: Path) -> None:
    no_section = TEXT.replace("  format: huggingface\n  artifact: target-lm/\n", "  format: openai\n")
    problems = _problems(tmp_path, no_section)
    assert any("format 'openai' needs an 'openai' section (url, model)" in p for p in problems), problems

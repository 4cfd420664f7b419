"""Policy loading: typed, strict, and every error located at file:line with what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance_mia.errors import PolicyError
from compliance_mia.policy import policy_json_schema
from compliance_mia.runner import load_policy

VALID = """\
system:
  name: Claims model
  owner: Risk team
  assessment_type: periodic
model:
  format: skops
  artifact: model.skops
data:
  members: members.csv
  non_members: non_members.csv
  id_column: id
  label_column: label
  categories: [health]
  data_subjects: 1200
exposure:
  outputs: probabilities
  rounding: 2
  access: public
seed: 3
"""


def _write(tmp_path: Path, text: str, *, files: bool = True) -> Path:
    if files:
        for name in ("model.skops", "members.csv", "non_members.csv"):
            (tmp_path / name).write_text("x")
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return [str(p) for p in info.value.problems]


def test_valid_policy_resolves_paths_relative_to_the_policy(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, VALID))
    assert policy.model.artifact == (tmp_path / "model.skops").resolve()
    assert policy.data.members == (tmp_path / "members.csv").resolve()
    assert policy.exposure.rounding == 2
    assert policy.seed == 3
    # defaults a reader relies on
    assert policy.attacks.reference_models.count == 8
    assert policy.statistics.fpr_levels == [0.001, 0.01, 0.1]


def test_misspelt_key_names_line_field_and_allowed_keys(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID.replace("  outputs: probabilities", "  ouputs: probabilities")))
    unknown = [p for p in problems if "ouputs" in p]
    assert unknown == [
        "policy.yaml:16: exposure.ouputs: unknown field (did you mean 'outputs'?); "
        "allowed: outputs, top_k, rounding, access, query_limit, monitored"
    ]
    assert any(p.startswith("policy.yaml:15: exposure.outputs: required field is missing") for p in problems)


def test_bad_enum_value_lists_what_is_accepted(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID.replace("outputs: probabilities", "outputs: probs")))
    assert problems[0] == (
        "policy.yaml:16: exposure.outputs: 'probs' is not one of label, top_k, probabilities, logits, loss, "
        "top_k_logprobs, token_logprobs, generated_text"
    )


def test_missing_file_is_located(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID)
    (tmp_path / "members.csv").unlink()
    problems = _problems(path)
    assert len(problems) == 1
    assert problems[0].startswith("policy.yaml:9: data.members: file not found")


def test_duplicate_keys_are_refused_not_silently_overwritten(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID + "seed: 4\n"))
    assert problems == ["policy.yaml:20: invalid YAML: duplicate key 'seed' (first defined on line 19)"]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID.replace("  access: public", "  access: [public")))
    assert problems[0].startswith("policy.yaml:")
    assert "invalid YAML" in problems[0]


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    text = VALID + "extra: !!python/object/apply:os.system ['touch pwned']\n"
    problems = _problems(_write(tmp_path, text))
    assert "invalid YAML" in problems[0]
    assert not (tmp_path / "pwned").exists()


def test_cross_field_rules(tmp_path: Path) -> None:
    text = VALID.replace("  outputs: probabilities\n  rounding: 2", "  outputs: top_k")
    problems = _problems(_write(tmp_path, text))
    assert problems == ["policy.yaml:15: exposure: outputs 'top_k' needs 'top_k' (how many classes are returned)"]


def test_pickle_requires_explicit_consent(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID.replace("format: skops", "format: pickle")))
    assert "allow_unsafe_pickle" in problems[0]
    assert problems[0].startswith("policy.yaml:5: model:")


def test_empty_file(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, ""))
    assert problems == ["policy.yaml:1: expected a mapping of fields at the top level, got an empty file"]


def test_json_schema_covers_every_section_and_enum() -> None:
    schema = policy_json_schema()
    assert schema["additionalProperties"] is False
    for section in ("system", "model", "data", "exposure", "regulations", "seed", "attacks", "statistics", "risk"):
        assert section in schema["properties"]
    outputs = schema["$defs"]["ExposureSpec"]["properties"]["outputs"]
    assert outputs["enum"] == [
        "label",
        "top_k",
        "probabilities",
        "logits",
        "loss",
        "top_k_logprobs",
        "token_logprobs",
        "generated_text",
    ]


def test_shipped_example_policies_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "policies" / "examples"
    policies = sorted(root.glob("*.yaml"))
    assert policies, "no example policies shipped"
    for path in policies:
        load_policy(path)


def test_appetite_must_be_a_level_of_the_chosen_scale(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID + "risk:\n  scale: cnil-4\n  appetite: very low\n"))
    assert problems == [
        "policy.yaml:22: risk.appetite: 'very low' is not a level of the cnil-4 scale; "
        "use one of negligible, limited, significant, maximum"
    ]


def test_unknown_attack_name_is_located_with_a_suggestion(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, VALID + "attacks:\n  select: [loss, lira-ofline]\n"))
    assert len(problems) == 1
    assert problems[0].startswith(
        "policy.yaml:21: attacks.select[1]: unknown attack 'lira-ofline' (did you mean 'lira-offline'?); known: "
    )

"""The command line as a user meets it: exit codes, located messages, no tracebacks, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance_mia.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script exactly as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "compliance_mia", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_validate_accepts_the_shipped_example() -> None:
    result = runner.invoke(app, ["validate", str(ROOT / "policies/examples/health-insurance.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_misspelt_key_prints_file_line_and_allowed_keys_and_exits_2(tmp_path: Path) -> None:
    text = (ROOT / "policies/examples/health-insurance.yaml").read_text().replace("  outputs:", "  ouputs:")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    proc = _cli("validate", str(policy))
    assert proc.returncode == 2
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "ouputs" in l)
    assert f"policy.yaml:{line}: exposure.ouputs: unknown field (did you mean 'outputs'?); allowed: outputs," in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_run_with_bad_policy_writes_nothing(tmp_path: Path) -> None:
    text = (ROOT / "policies/examples/health-insurance.yaml").read_text().replace("outputs: probabilities", "outputs: probs")
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    out = tmp_path / "out"
    proc = _cli("run", str(policy), "--out", str(out))
    assert proc.returncode == 2
    assert "'probs' is not one of label, top_k, probabilities, logits, loss" in proc.stderr
    assert not out.exists()
    assert "Traceback" not in proc.stderr


def test_missing_policy_file_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.output


def test_schema_prints_valid_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "compliance-mia policy"
    assert "exposure" in schema["required"]


def test_assessment_schema() -> None:
    result = runner.invoke(app, ["schema", "--assessment"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "compliance-mia assessment"
    assert "schema_version" in schema["properties"]


def test_render_of_a_corrupt_assessment_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "assessment.json"
    bad.write_text('{"schema_version": "9.0"}')
    result = runner.invoke(app, ["render", str(bad), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "schema_version 9.0 cannot be read" in result.output
    assert not (tmp_path / "r").exists()


def test_policy_reference_is_up_to_date() -> None:
    from compliance_mia.policy.docs import render

    example = (ROOT / "policies/examples/health-insurance.yaml").read_text(encoding="utf-8")
    assert (ROOT / "docs/policy.md").read_text(encoding="utf-8") == render(example), (
        "docs/policy.md is stale: run `python -m compliance_mia.policy.docs > docs/policy.md`"
    )


def test_attacks_lists_the_registry_with_needs() -> None:
    result = runner.invoke(app, ["attacks"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in ("loss", "gap", "label-robustness", "lira-offline", "lira-online", "rmia-offline", "shadow"):
        assert name in result.output


def test_plan_shows_reasons_and_what_the_sample_supports(small_case: Path) -> None:
    result = runner.invoke(app, ["plan", str(small_case)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "needs online reference models; the policy asks for offline" in result.output
    assert "300 members, 300 non-members" in result.output
    # 300 non-members cannot support a TPR at 1% FPR (fewer than 10 expected false positives)
    assert "1,000" in result.output and "not measurable" in result.output


def test_plan_rejects_a_meaningless_goal(small_case: Path) -> None:
    result = runner.invoke(app, ["plan", str(small_case), "--lift", "0.5"])
    assert result.exit_code == 2

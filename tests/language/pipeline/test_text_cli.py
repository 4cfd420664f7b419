"""The CLI on text policies: validate, plan, demo --kind text (its builder stood in by the n-gram case)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_ngram import write_text_case
from typer.testing import CliRunner

from compliance_mia.assessment import Assessment
from compliance_mia.cli import app

runner = CliRunner()


def test_validate_and_plan_a_text_policy(tmp_path: Path) -> None:
    policy = write_text_case(tmp_path, n=40)
    result = runner.invoke(app, ["validate", str(policy)])
    assert result.exit_code == 0 and "exposure: top_k_logprobs" in result.output
    result = runner.invoke(app, ["plan", str(policy)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "Blind baseline" in flat and "40 members, 40 non-members" in flat


def test_unknown_text_attack_is_located(tmp_path: Path) -> None:
    policy = write_text_case(tmp_path, n=10)
    policy.write_text(policy.read_text() + "attacks:\n  select: [loss, lira-offline]\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(policy)])
    assert result.exit_code == 2
    assert "attacks.select[1]: unknown attack 'lira-offline'" in " ".join(result.output.split())


def test_shifted_needs_kind_text(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--shifted", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2 and "--shifted applies to --kind text only" in result.output


def test_demo_kind_text_builds_the_inputs_then_runs_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import compliance_mia.runner.text as text_runner

    calls = []

    def build(folder: Path, *, shifted: bool = False, log=print) -> Path:
        calls.append(shifted)
        return write_text_case(folder, n=60, shifted=shifted)

    monkeypatch.setattr(text_runner, "build_text_demo", build)
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--kind", "text", "--shifted", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert calls == [True]
    a = Assessment.load(out / "assessment.json")
    assert a.task == "text-generation" and a.blind_baseline is not None and a.blind_baseline.distinguishes
    assert (out / "inputs" / "policy.yaml").exists() and (out / "report.pdf").exists()

"""The command line as a user meets it: exit codes, located messages, no tracebacks, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "ouputs" in row)
    assert (
        f"policy.yaml:{line}: exposure.ouputs: unknown field (did you mean 'outputs'?); allowed: outputs,"
        in proc.stderr
    )
    assert "Traceback" not in proc.stderr + proc.stdout


def test_run_with_bad_policy_writes_nothing(tmp_path: Path) -> None:
    text = (
        (ROOT / "policies/examples/health-insurance.yaml")
        .read_text()
        .replace("outputs: probabilities", "outputs: probs")
    )
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


def test_gate_fails_at_or_above_the_level_and_still_writes_the_report(small_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "gate"
    result = runner.invoke(app, ["run", str(small_case), "--out", str(out), "-q", "--fail-on", "limited"])
    assessment = json.loads((out / "assessment.json").read_text())
    levels = assessment["risk"]["levels"]
    assert levels.index(assessment["risk"]["level"]) >= levels.index("limited")
    assert result.exit_code == 1, result.output
    assert "→ FAIL" in result.output
    assert (out / "report.pdf").exists()


def test_gate_passes_below_the_level(small_case: Path, tmp_path: Path) -> None:
    # an overfit model on health data rates high, but never above the top of the scale
    result = runner.invoke(
        app, ["run", str(small_case), "--out", str(tmp_path / "g"), "-q", "--format", "json", "--fail-on", "maximum"]
    )
    level = json.loads((tmp_path / "g" / "assessment.json").read_text())["risk"]["level"]
    assert result.exit_code == (1 if level == "maximum" else 0)


def test_unknown_gate_level_is_refused_before_anything_runs(small_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = runner.invoke(app, ["run", str(small_case), "--out", str(out), "--fail-on", "severe"])
    assert result.exit_code == 2
    assert "'severe' is not a level of the cnil-4 scale; use one of negligible, limited, significant, maximum" in (
        result.output.replace("\n", "")
    )
    assert not out.exists()


def test_whatif_measures_one_control(small_case: Path) -> None:
    result = runner.invoke(
        app, ["whatif", str(small_case), "--control", "output-label-only", "-q"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "What-if" in result.output and "rating" in result.output and "AUC" in result.output


def test_diff_after_the_deployment_widened_its_outputs_exits_1(tmp_path: Path) -> None:
    """Re-assessment trigger: the API went from labels only to probabilities (same model)."""
    from cases import write_small_case

    before = write_small_case(tmp_path / "before", policy_overrides={"exposure": {"outputs": "label"}})
    after = write_small_case(tmp_path / "after")
    for name, policy in (("old", before), ("new", after)):
        r = runner.invoke(app, ["run", str(policy), "--out", str(tmp_path / name), "-q", "--format", "json"])
        assert r.exit_code == 0, r.output
    old, new = (json.loads((tmp_path / n / "assessment.json").read_text())["risk"] for n in ("old", "new"))
    assert old["levels"].index(new["level"]) > old["levels"].index(old["level"])
    worse = runner.invoke(app, ["diff", str(tmp_path / "old/assessment.json"), str(tmp_path / "new/assessment.json")])
    assert worse.exit_code == 1, worse.output
    assert f"{old['level']} -> {new['level']}" in worse.output
    same = runner.invoke(app, ["diff", str(tmp_path / "new/assessment.json"), str(tmp_path / "new/assessment.json")])
    assert same.exit_code == 0, same.output
    md = runner.invoke(
        app, ["diff", "--markdown", str(tmp_path / "old/assessment.json"), str(tmp_path / "new/assessment.json")]
    )
    assert md.exit_code == 1 and "|" in md.output


def test_cache_can_be_pointed_elsewhere_inspected_and_cleared(small_case: Path, tmp_path: Path) -> None:
    cache = tmp_path / "refs"
    r = runner.invoke(app, ["run", str(small_case), "--out", str(tmp_path / "o"), "-q", "--format", "json",
                            "--cache-dir", str(cache)])
    assert r.exit_code == 0, r.output
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)])
    assert info.exit_code == 0 and "2 cached model(s)" in info.output
    again = runner.invoke(app, ["run", str(small_case), "--out", str(tmp_path / "o2"), "-q", "--format", "json",
                                "--cache-dir", str(cache)])
    assert again.exit_code == 0
    plan = json.loads((tmp_path / "o2" / "assessment.json").read_text())["plan"]["reference_models"]
    assert plan["cache_hits"] == 2 and plan["trained"] == 0
    cleared = runner.invoke(app, ["cache", "clear", "--cache-dir", str(cache)])
    assert cleared.exit_code == 0 and "removed 2 cached model(s)" in cleared.output


def test_json_progress_writes_one_json_object_per_line(tmp_path: Path) -> None:
    """CI logs get machine-readable progress: stages, counts and elapsed seconds as JSON lines."""
    import json
    import subprocess
    import sys

    from cases import write_small_case

    policy = write_small_case(tmp_path / "case", n_members=60, n_non_members=60, n_population=80,
                              policy_overrides={"attacks": {"select": ["loss", "gap"]}})  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "compliance_mia", "--json-progress", "run", str(policy), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "done"
    assert {"stage", "completed", "total", "elapsed_seconds"} <= set(events[0])
    assert any(e["event"] == "stage" and "Running" in e["stage"] for e in events)


def test_scheduler_address_on_the_command_line_needs_a_cluster_backend(small_case, tmp_path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["run", str(small_case), "--out", str(out), "--backend", "loky", "--scheduler-address", "tcp://h:8786"]
    )
    assert result.exit_code == 2, result.output
    assert "--scheduler-address" in result.output and "dask or ray" in result.output
    assert not out.exists()  # refused before anything ran or was written


def test_scheduler_address_on_the_command_line_reaches_the_reference_models(small_case) -> None:
    from compliance_mia.cli import _with_overrides
    from compliance_mia.runner import load_policy

    policy = _with_overrides(
        load_policy(small_case),
        backend="dask",
        n_jobs=None,
        cache_dir=None,
        no_cache=False,
        scheduler_address="tcp://scheduler.internal:8786",
    )
    ref = policy.attacks.reference_models
    assert (ref.backend, ref.scheduler_address) == ("dask", "tcp://scheduler.internal:8786")

"""An --out folder holding another run's report is refused (exit 2) unless --force, which replaces the whole set."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from cases import write_small_case
from typer.testing import CliRunner

from compliance_mia import cli
from compliance_mia.report import REPORT_FILES, PdfRenderer, render_all, render_one
from compliance_mia.runner import load_policy, run_assessment

runner = CliRunner()


@pytest.fixture(scope="module")
def assessment_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    policy = write_small_case(tmp_path_factory.mktemp("outdir"), n_members=60, n_non_members=60, n_population=80)
    assessment = run_assessment(load_policy(policy, materialise_builtins=True), policy_path=policy)
    path = policy.parent / "stored" / "assessment.json"
    path.parent.mkdir()
    path.write_bytes(render_one(assessment, "json"))
    return path


def _older_report(out: Path, names: tuple[str, ...] = REPORT_FILES) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        (out / name).write_text(f"older {name}")


@pytest.mark.parametrize("name", REPORT_FILES)
def test_render_into_a_folder_with_any_report_file_is_refused(assessment_file: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    _older_report(out, (name,))
    result = runner.invoke(cli.app, ["render", str(assessment_file), "--out", str(out), "-f", "md"])
    assert result.exit_code == 2, result.output
    assert str(out) in result.output and "--force" in result.output and name in result.output
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing written
    assert (out / name).read_text() == f"older {name}"


def test_force_replaces_the_whole_set(assessment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _older_report(out)
    (out / "notes.txt").write_text("the user's own file")
    result = runner.invoke(cli.app, ["render", str(assessment_file), "--out", str(out), "-f", "md", "--force"])
    assert result.exit_code == 0, result.output
    # no file of the older run survives beside the new summary; files that are not report files are kept
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "summary.md"]
    assert (out / "summary.md").read_text() != "older summary.md"


def test_a_fresh_or_unrelated_folder_needs_no_force(assessment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.txt").write_text("not a report")
    result = runner.invoke(cli.app, ["render", str(assessment_file), "--out", str(out), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["README.txt", "assessment.json"]


def test_run_and_demo_refuse_an_older_report_before_running(assessment_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _older_report(out, ("report.pdf",))
    result = runner.invoke(cli.app, ["run", str(tmp_path / "no-such-policy.yaml"), "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    demo_out = tmp_path / "demo"
    (demo_out / "inputs").mkdir(parents=True)
    result = runner.invoke(cli.app, ["demo", "--out", str(demo_out)])
    assert result.exit_code == 2 and "inputs" in result.output and "--force" in result.output


def test_a_failing_write_leaves_the_older_set_whole(
    assessment_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance_mia import report
    from compliance_mia.assessment import Assessment

    out = tmp_path / "out"
    _older_report(out)
    real = report.os.replace
    calls = {"n": 0}

    def flaky(src, dst):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == len(REPORT_FILES) + 2:  # the second new file moved into place
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(report.os, "replace", flaky)
    with pytest.raises(OSError):
        render_all(Assessment.load(assessment_file), out, formats=["json", "md"], replace=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    for name in REPORT_FILES:
        assert (out / name).read_text() == f"older {name}"


def test_a_signal_swallowed_in_c_code_still_stops_the_write(
    assessment_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF stack can swallow the exception (cffi prints "Exception ignored"): the recorded signal still aborts."""

    def swallowed(self, assessment):  # noqa: ANN001, ANN202
        cli._signals.received = signal.SIGTERM  # the handler ran; its exception was lost inside C code
        return b"%PDF-1.7 half a document"

    monkeypatch.setattr(PdfRenderer, "render_bytes", swallowed)
    out = tmp_path / "out"
    _older_report(out)
    result = runner.invoke(cli.app, ["render", str(assessment_file), "--out", str(out), "--force"])
    assert result.exit_code == 143, result.output
    assert "terminated (SIGTERM); nothing was written" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    for name in REPORT_FILES:
        assert (out / name).read_text() == f"older {name}"


def test_an_unknown_format_is_refused_before_anything_runs(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case", n_members=40, n_non_members=40, n_population=40)
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["run", str(policy), "--out", str(out), "-f", "[/]", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "--format: unknown report format '[/]'" in result.output
    assert "Running" not in result.output and not out.exists()


def test_a_signal_while_the_set_is_put_in_place_is_deferred(
    assessment_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance_mia import report

    real = report._swap

    def signalled(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        cli._on_signal(signal.SIGTERM, None)  # deferred: recorded, not raised half-way through the moves
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "_swap", signalled)
    out = tmp_path / "out"
    _older_report(out)
    result = runner.invoke(cli.app, ["render", str(assessment_file), "--out", str(out), "-f", "json", "--force"])
    assert result.exit_code == 143, result.output
    assert "terminated (SIGTERM) after the report was written in full" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["assessment.json"]
    assert (out / "assessment.json").read_bytes() == assessment_file.read_bytes()


def test_demo_force_interrupted_puts_the_older_inputs_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance_mia import demo

    out = tmp_path / "demo"
    _older_report(out)
    (out / "inputs").mkdir()
    (out / "inputs" / "policy.yaml").write_text("older policy")

    def interrupted(directory: Path, **kwargs):  # noqa: ANN003, ANN202
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "members.csv").write_text("half")
        cli._on_signal(signal.SIGTERM, None)  # the handler raises Stopped here

    monkeypatch.setattr(demo, "build_demo_inputs", interrupted)
    result = runner.invoke(cli.app, ["demo", "--out", str(out), "--force"])
    assert result.exit_code == 143, result.output
    assert "terminated (SIGTERM); nothing was written" in result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*REPORT_FILES, "inputs"])
    assert [p.name for p in (out / "inputs").iterdir()] == ["policy.yaml"]
    assert (out / "inputs" / "policy.yaml").read_text() == "older policy"

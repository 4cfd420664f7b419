"""User text is printed as written: Rich markup in a name, a path or a quoted value is never interpreted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cases import write_small_case

MARKUP = ["[/]", "[bold red]x[/]", "[link=file:///etc/passwd]x[/link]", ":warning: [/bold]"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "TERM": "xterm-256color"}
    return subprocess.run(
        [sys.executable, "-m", "compliance_mia", *args], capture_output=True, text=True, timeout=600, env=env
    )


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "MarkupError" not in proc.stderr + proc.stdout
    assert "\x1b]8;" not in proc.stdout + proc.stderr  # no terminal hyperlink was emitted


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_case(tmp_path_factory.mktemp("markup"), n_members=60, n_non_members=60, n_population=80)


def _with(policy: Path, directory: Path, name: str, edit: dict) -> Path:
    doc = yaml.safe_load(policy.read_text())
    for key, value in edit.items():
        section, field = key.split(".")
        doc[section][field] = value
    for data in ("members", "non_members", "population"):
        doc["data"][data] = str(policy.parent / doc["data"][data])
    doc["model"]["artifact"] = str(policy.parent / doc["model"]["artifact"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("text", MARKUP)
def test_validate_prints_a_markup_system_name_literally(case: Path, tmp_path: Path, text: str) -> None:
    policy = _with(case, tmp_path, "policy.yaml", {"system.name": text})
    proc = _cli("validate", str(policy))
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert text in proc.stdout


@pytest.mark.parametrize("text", MARKUP)
def test_a_markup_policy_file_name_is_printed_literally(case: Path, tmp_path: Path, text: str) -> None:
    policy = _with(case, tmp_path, f"{text.replace('/', '_')}.yaml", {})
    proc = _cli("validate", str(policy))
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert policy.name in proc.stdout


@pytest.mark.parametrize("text", MARKUP)
def test_an_invalid_enum_value_with_markup_is_quoted_literally(case: Path, tmp_path: Path, text: str) -> None:
    policy = _with(case, tmp_path, "policy.yaml", {"system.assessment_type": text})
    for command in ("validate", "plan"):
        proc = _cli(command, str(policy))
        _no_traceback(proc)
        assert proc.returncode == 2, proc.stderr
        assert "error:" in proc.stderr
        assert "assessment_type" in proc.stderr


@pytest.mark.parametrize("text", MARKUP)
def test_a_missing_data_file_with_markup_in_its_name_is_named_literally(
    case: Path, tmp_path: Path, text: str
) -> None:
    missing = tmp_path / f"{text.replace('/', '_')}.csv"
    policy = _with(case, tmp_path, "policy.yaml", {})
    doc = yaml.safe_load(policy.read_text())
    doc["data"]["members"] = str(missing)
    policy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    proc = _cli("validate", str(policy))
    _no_traceback(proc)
    assert proc.returncode == 2
    assert missing.name in proc.stderr


def test_plan_shows_a_markup_name_literally(case: Path, tmp_path: Path) -> None:
    text = "[bold red]x[/] [/]"
    policy = _with(case, tmp_path, "policy.yaml", {"system.name": text})
    proc = _cli("plan", str(policy))
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert f"Attack plan for {text}" in proc.stdout


@pytest.mark.slow
def test_run_with_markup_in_the_name_and_the_out_folder(case: Path, tmp_path: Path) -> None:
    text = "[link=file:///etc/passwd]x[/link] [/]"
    policy = _with(case, tmp_path, "policy.yaml", {"system.name": text})
    out = tmp_path / "[bold]out[/]"
    proc = _cli("run", str(policy), "--out", str(out), "-f", "json", "-f", "md", "--quiet")
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out / 'assessment.json'}" in proc.stdout
    assert (out / "summary.md").is_file()
    # the same folder again: refused, and the folder is named literally
    again = _cli("run", str(policy), "--out", str(out), "-f", "json", "--quiet")
    _no_traceback(again)
    assert again.returncode == 2
    assert str(out) in again.stderr and "--force" in again.stderr

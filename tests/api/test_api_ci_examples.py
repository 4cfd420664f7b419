"""The CI examples in docs/ci validate against the official workflow schemas and gate as documented.

check-jsonschema ships the GitHub workflow and GitLab CI schemas as vendored
files (``--builtin-schema vendor.*``): nothing is downloaded.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "github-actions.yml": "vendor.github-workflows",
    "gitlab-ci.yml": "vendor.gitlab-ci",
}


def _checker() -> list[str]:
    script = Path(sys.executable).with_name("check-jsonschema")
    if script.exists():
        return [str(script)]
    found = shutil.which("check-jsonschema")
    if found is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    return [found]


def _validate(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_checker(), "--builtin-schema", schema, str(path)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_matches_the_official_schema(name: str) -> None:
    proc = _validate(ROOT / "docs/ci" / name, EXAMPLES[name])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_is_real(tmp_path: Path) -> None:
    broken = yaml.safe_load((ROOT / "docs/ci/github-actions.yml").read_text())
    broken["jobs"]["membership-inference"]["runs-on"] = {"not": "a runner"}
    broken["jobs"]["membership-inference"]["steps"][0] = {"uses": 42}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    assert _validate(path, EXAMPLES["github-actions.yml"]).returncode != 0


def _commands(text: str) -> list[list[str]]:
    return [
        shlex.split(line.strip().lstrip("- "))
        for line in text.splitlines()
        if re.match(r"^\s*(- )?compliance-mia run ", line)
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_gates_on_the_appetite_and_keeps_the_report(name: str) -> None:
    text = (ROOT / "docs/ci" / name).read_text()
    (command,) = _commands(text)
    assert command[:3] == ["compliance-mia", "run", "$POLICY"]
    assert command[command.index("--fail-on") + 1] == "appetite"
    assert command[command.index("--out") + 1] == "$REPORT"
    assert "summary.md" in text
    doc = yaml.safe_load(text)
    if name == "github-actions.yml":
        steps = doc["jobs"]["membership-inference"]["steps"]
        upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
        assert upload["with"]["path"] == doc["env"]["REPORT"] + "/"
        assert upload["if"].startswith("always()")
        assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") for s in steps)
        assert any("gh pr comment" in s.get("run", "") for s in steps)
    else:
        job = doc["membership-inference"]
        assert job["artifacts"]["when"] == "always"
        assert job["artifacts"]["paths"] == [doc["variables"]["REPORT"] + "/"]
        assert "merge_requests" in "\n".join(job["after_script"])


def test_the_example_options_exist_on_the_cli() -> None:
    from typer.testing import CliRunner

    from compliance_mia.cli import app

    help_text = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output
    for name in EXAMPLES:
        (command,) = _commands((ROOT / "docs/ci" / name).read_text())
        for option in (part for part in command if part.startswith("--")):
            assert option in help_text, option

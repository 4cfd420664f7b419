"""A non-editable install must find the templates and policy data: they ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("compliance_mia-*.whl")
    return found


def test_wheel_ships_templates_policies_and_console_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {n for n in names if n.startswith("compliance_mia/templates/")}
    policies = {n for n in names if n.startswith("compliance_mia/policies/")}
    source_templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert source_templates, "templates/ is empty"
    assert {"compliance_mia/" + t for t in source_templates} <= templates
    assert "compliance_mia/policies/risk_matrix.yaml" in policies
    assert "compliance_mia/policies/controls.yaml" in policies
    assert "compliance_mia/policies/examples/health-insurance.yaml" in policies
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "compliance-mia = compliance_mia.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_resources_resolve_inside_an_installed_package(tmp_path: Path, wheel: Path) -> None:
    """Unpack the wheel alone (no source tree beside it) and look the resources up from there."""
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import compliance_mia.resources as r;"
        "print(r.templates_dir()); print(r.policies_dir())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    templates, policies = proc.stdout.split()
    assert Path(templates) == tmp_path / "compliance_mia" / "templates"
    assert Path(policies) == tmp_path / "compliance_mia" / "policies"

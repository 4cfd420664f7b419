"""The shipped matrix and catalogue are read once per process, and again only when the file changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from compliance_mia import yamlio
from compliance_mia.controls import load_catalogue
from compliance_mia.errors import CatalogueError
from compliance_mia.resources import policies_dir
from compliance_mia.risk import load_matrix


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = yamlio.read_yaml

    def counting(file: Path, **kw: object) -> yamlio.LocatedYaml:
        seen.append(Path(file).name)
        return real(file, **kw)  # type: ignore[arg-type]

    import compliance_mia.controls.catalogue as catalogue
    import compliance_mia.risk.matrix as matrix

    monkeypatch.setattr(matrix, "read_yaml", counting)
    monkeypatch.setattr(catalogue, "read_yaml", counting)
    return seen


@pytest.mark.parametrize(("name", "load"), [("risk_matrix.yaml", load_matrix), ("controls.yaml", load_catalogue)])
def test_read_once_then_again_after_an_edit(tmp_path: Path, reads: list[str], name: str, load: object) -> None:
    file = tmp_path / name
    shutil.copy(policies_dir() / name, file)
    first = load(file)  # type: ignore[operator]
    assert load(file) is first  # type: ignore[operator]
    assert reads == [name]

    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("version:", "version:", 1) + "\n# edited\n", encoding="utf-8")
    st = file.stat()
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = load(file)  # type: ignore[operator]
    assert second is not first
    assert reads == [name, name]


def test_a_broken_file_is_not_cached(tmp_path: Path) -> None:
    file = tmp_path / "risk_matrix.yaml"
    file.write_text("version: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"risk_matrix.yaml:\d+: invalid YAML"):
        load_matrix(file)
    shutil.copy(policies_dir() / "risk_matrix.yaml", file)
    assert load_matrix(file).version


def test_a_missing_file_stays_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path / "nowhere.yaml")

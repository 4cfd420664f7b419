"""YAML resource limits: alias bombs, deep nesting, huge files, unsafe tags. Located error, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from compliance_mia.controls import load_catalogue
from compliance_mia.errors import CatalogueError, PolicyError
from compliance_mia.policy import load_policy
from compliance_mia.yamlio import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, read_yaml

ROOT = Path(__file__).resolve().parents[2]

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compliance_mia", *args], capture_output=True, text=True, timeout=300)


def test_billion_laughs_is_refused_at_the_line_that_crosses_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "policy.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert len(BILLION_LAUGHS) < 1024
    with pytest.raises(PolicyError) as info:
        load_policy(bomb)
    assert str(info.value).startswith("policy.yaml:6: expands to more than")
    assert "alias bomb" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "a: " + "{k: " * 3000 + "1" + "}" * 3000 + "\n",
        "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200)),
    ],
    ids=["flow-lists", "flow-mappings", "block"],
)
def test_deep_nesting_is_refused_with_a_line(tmp_path: Path, text: str) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^deep.yaml:\d+: nested more than {MAX_DEPTH} levels deep"):
        load_policy(deep)


def test_too_many_aliases(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("x: &x 1\nl: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^many.yaml:2: more than {MAX_ALIASES} aliases"):
        read_yaml(many, error=PolicyError)


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="big.yaml: file is .* bytes; YAML files larger than"):
        load_policy(big)


def test_a_few_ordinary_aliases_still_work(tmp_path: Path) -> None:
    doc = tmp_path / "ok.yaml"
    doc.write_text("base: &b {x: 1, y: [1, 2]}\nuse: *b\nmore: {<<: *b, z: 3}\n", encoding="utf-8")
    assert read_yaml(doc).data["more"] == {"x": 1, "y": [1, 2], "z": 3}


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "!custom 1"]
)
def test_tags_that_would_build_objects_are_refused(tmp_path: Path, tag: str) -> None:
    doc = tmp_path / "tag.yaml"
    doc.write_text(f"system:\n  name: {tag}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"^tag.yaml:2: invalid YAML"):
        load_policy(doc)


def test_catalogue_bomb_is_a_catalogue_error(tmp_path: Path) -> None:
    bomb = tmp_path / "controls.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    with pytest.raises(CatalogueError, match="controls.yaml:6: expands to more than"):
        load_catalogue(bomb)


def test_cli_run_on_an_alias_bomb_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "policy.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    out = tmp_path / "out"
    proc = _cli("run", str(bomb), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "policy.yaml:6" in proc.stderr and "alias bomb" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_cli_validate_on_deep_nesting_exits_2(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    proc = _cli("validate", str(deep))
    assert proc.returncode == 2, proc.stderr
    assert "deep.yaml:1" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("key", ["function-", "function-after[x]", "0", "null"])
def test_odd_top_level_keys_are_located_unknown_fields(tmp_path: Path, key: str) -> None:
    """Found by the property tests: a key starting 'function-' used to be dropped from the location."""
    doc = tmp_path / "controls.yaml"
    doc.write_text(f'"{key}": null\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"controls.yaml:1: .*unknown field"):
        load_catalogue(doc)

"""Control and bidirectional-override characters become visible markers wherever user text enters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cases import write_small_case
from hostile import frame, spec, write_pair

from compliance_mia.data import load_audit_data
from compliance_mia.errors import DataError
from compliance_mia.policy import load_policy
from compliance_mia.text import BIDI_CONTROLS, is_clean, neutralise
from compliance_mia.yamlio import read_yaml

RLO = "\u202e"


@pytest.mark.parametrize("char", sorted(BIDI_CONTROLS))
def test_every_bidi_control_is_made_visible(char: str) -> None:
    out = neutralise(f"a{char}b")
    assert out == f"a<U+{ord(char):04X}>b"
    assert is_clean(out)


@pytest.mark.parametrize("code", [*range(0, 9), *range(11, 32), 127, *range(0x80, 0xA0), 0x2028, 0x2029])
def test_c0_c1_controls_are_made_visible(code: int) -> None:
    assert neutralise(f"x{chr(code)}y") == f"x<U+{code:04X}>y"


def test_newline_tab_and_ordinary_unicode_are_kept() -> None:
    text = "Zürich\tΔ 日本\nلغة"
    assert neutralise(text) == text


def test_policy_strings_are_neutralised_when_read(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case")
    doc = yaml.safe_load(policy.read_text(encoding="utf-8"))
    doc["system"]["name"] = f"Triage {RLO}lanif\x1b[2J"
    doc["data"]["description"] = "line one\nline\u2066two\u2069"
    policy.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    loaded = load_policy(policy)
    assert loaded.system.name == "Triage <U+202E>lanif<U+001B>[2J"
    assert loaded.data.description == "line one\nline<U+2066>two<U+2069>"


def test_yaml_keys_are_neutralised_too(tmp_path: Path) -> None:
    doc = tmp_path / "k.yaml"
    doc.write_text(f'"k{RLO}ey": 1\n', encoding="utf-8")
    assert read_yaml(doc).data == {"k<U+202E>ey": 1}


def test_ids_and_slice_values_are_neutralised_when_loaded(tmp_path: Path) -> None:
    members = frame(40)
    members["site"] = "north"
    members.loc[2, "id"] = f"p2{RLO}gpj.exe"
    members.loc[3, "site"] = f"so{RLO}uth"
    non_members = frame(40, 1000)
    non_members["site"] = "south"
    write_pair(tmp_path, members, non_members)
    data = load_audit_data(
        spec(tmp_path, exclude_columns=["site"], slice_columns=["site"]), seed=0, need_population=False
    )
    assert data.members.ids[2] == "p2<U+202E>gpj.exe"
    assert data.members.slices["site"][3] == "so<U+202E>uth"


def test_error_messages_are_neutralised(tmp_path: Path) -> None:
    members = frame(40)
    members.loc[[1, 5], "id"] = f"dup{RLO}"
    write_pair(tmp_path, members)
    with pytest.raises(DataError) as info:
        load_audit_data(spec(tmp_path), seed=0, need_population=False)
    assert RLO not in str(info.value) and "dup<U+202E>" in str(info.value)

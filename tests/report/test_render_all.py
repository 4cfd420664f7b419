"""render_all: every format, written whole or not at all, byte-stable."""

from __future__ import annotations

import json

import pytest

from compliance_mia.assessment import Assessment
from compliance_mia.errors import InputError
from compliance_mia.report import FORMATS, JsonRenderer, render_all, render_one

EXPECTED = [
    "assessment.json",
    "report.html",
    "report.pdf",
    "oscal-assessment-results.json",
    "risk-register.csv",
    "data-subject-risk.csv",
    "summary.md",
]


def test_session_render_wrote_every_file(rendered_dir):
    assert sorted(p.name for p in rendered_dir.iterdir()) == sorted(EXPECTED)
    assert not list(rendered_dir.glob(".*.tmp"))


def test_json_round_trips(rendered_dir, assessment):
    text = (rendered_dir / "assessment.json").read_text(encoding="utf-8")
    assert Assessment.from_json(text) == assessment


def test_text_formats_are_byte_stable(tmp_path, assessment, rendered_dir):
    text_formats = [name for name in FORMATS if name != "pdf"]
    paths = render_all(assessment, tmp_path / "again", formats=text_formats)
    assert [p.name for p in paths] == [FORMATS[n].filename for n in text_formats]
    for path in paths:
        assert path.read_bytes() == (rendered_dir / path.name).read_bytes(), path.name


def test_render_from_json_alone_matches(tmp_path, rendered_dir):
    reloaded = Assessment.load(rendered_dir / "assessment.json")
    assert render_one(reloaded, "html") == (rendered_dir / "report.html").read_bytes()
    assert (
        render_one(reloaded, "oscal")
        == (rendered_dir / "oscal-assessment-results.json").read_bytes()
    )


def test_failing_renderer_writes_nothing(tmp_path, assessment, monkeypatch):
    def boom(self, assessment):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(FORMATS["markdown"], "render", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        render_all(assessment, out, formats=["json", "risk-register", "markdown"])
    assert not out.exists()


def test_existing_files_are_replaced_whole(tmp_path, assessment):
    out = tmp_path / "out"
    out.mkdir()
    (out / "assessment.json").write_text("stale")
    render_all(assessment, out, formats=["json"])
    assert (
        json.loads((out / "assessment.json").read_text())["assessment_id"]
        == assessment.assessment_id
    )
    assert [p.name for p in out.iterdir()] == ["assessment.json"]


def test_unknown_format_is_an_input_error(tmp_path, assessment):
    with pytest.raises(InputError, match="unknown report format 'docx'"):
        render_all(assessment, tmp_path, formats=["json", "docx"])
    assert not (tmp_path / "assessment.json").exists()


def test_render_one_returns_bytes(assessment):
    assert render_one(assessment, "json") == JsonRenderer().render(assessment).encode("utf-8")


def test_format_aliases(tmp_path, assessment):
    paths = render_all(assessment, tmp_path, formats=["csv", "md", "csv"])
    assert [p.name for p in paths] == ["risk-register.csv", "data-subject-risk.csv", "summary.md"]

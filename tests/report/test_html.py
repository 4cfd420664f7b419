"""The HTML report: self-contained, escaped, honest about its status, records by ID only."""

from __future__ import annotations

import re

import pytest

from compliance_mia.errors import InputError
from compliance_mia.report import HtmlRenderer
from compliance_mia.report.context import document_hash


@pytest.fixture(scope="module")
def html(assessment) -> str:
    return HtmlRenderer().render(assessment)


def test_every_section_is_present(html, section_titles):
    for title in section_titles:
        assert f">{title}</h2>" in html, title


def test_references_nothing_outside_itself(html):
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert refs, "expected internal links (table of contents)"
    for ref in refs:
        assert ref.startswith(("#", "data:")), ref
    assert not re.search(r"url\(\s*['\"]?(?!data:|#)", html)
    assert "<script" not in html.lower()
    assert "@import" not in html and "<link" not in html


def test_system_name_is_escaped(assessment):
    evil = assessment.model_copy(
        update={
            "system": assessment.system.model_copy(update={"name": "<script>alert(1)</script>"})
        }
    )
    out = HtmlRenderer(charts=False).render(evil)
    assert "<script>alert(1)</script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_attack_title_is_escaped_in_tables(assessment):
    attacks = list(assessment.attacks)
    attacks[2] = attacks[2].model_copy(update={"title": "<img src=x onerror=alert(1)>"})
    out = HtmlRenderer(charts=False).render(assessment.model_copy(update={"attacks": attacks}))
    assert "<img src=x" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out


def test_charts_are_embedded_images_with_text_alternatives(html):
    images = re.findall(
        r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="([^"]+)">', html
    )
    charts = [alt for alt in images if alt != "Draft watermark"]
    assert len(charts) == 4
    assert any("random-guess line" in alt for alt in charts)


def test_unsigned_assessment_is_marked_draft(html):
    assert '<div class="watermark" aria-hidden="true"><img src="data:image/svg+xml;base64,' in html
    assert "Draft &ndash; not signed off" in html or "Draft – not signed off" in html


def test_signed_assessment_is_final(final_assessment):
    out = HtmlRenderer(charts=False).render(final_assessment)
    assert 'class="watermark"' not in out
    assert "not signed off" not in out
    assert "Conditional" in out and "25 November 2025" in out


def test_document_hash_on_cover(html, assessment):
    assert document_hash(assessment) in html


def test_records_appear_only_by_id(html, assessment):
    section = html.split('id="results-records"', 1)[1].split("</table>", 1)[0]
    headers = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", section)
    assert headers == [
        "Rank",
        "Record ID",
        "Attack score",
        "p-value",
        "Flagged (at 1% false positives)",
    ]
    for record in assessment.records:
        assert record.record_id in section
    # membership of individual records is never printed next to their IDs
    assert "member" not in re.sub(r"<thead>.*?</thead>", "", section.split("<tbody>", 1)[1]).lower()


def test_template_override_directory_wins(tmp_path, assessment):
    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "letterhead.html.j2").write_text(
        "<div class='lh'>Northwind Privacy Office &middot; {{ a.system.owner }}</div>"
    )
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    )
    out = HtmlRenderer(template_dir=tmp_path, charts=False).render(assessment)
    assert "Northwind Privacy Office &middot; Claims Analytics" in out
    assert 'src="data:image/svg+xml;base64,' in out


def test_explicit_logo_is_embedded(tmp_path, assessment):
    logo = tmp_path / "brand.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    out = HtmlRenderer(logo=logo, charts=False).render(assessment)
    assert 'src="data:image/png;base64,' in out


def test_broken_override_is_a_located_input_error(tmp_path, assessment):
    (tmp_path / "report.html.j2").write_text("line one\n{% if %}\n")
    with pytest.raises(InputError) as err:
        HtmlRenderer(template_dir=tmp_path, charts=False).render(assessment)
    assert "report.html.j2:2" in str(err.value)


def test_missing_override_directory_is_an_input_error(tmp_path, assessment):
    with pytest.raises(InputError, match="template directory not found"):
        HtmlRenderer(template_dir=tmp_path / "nope").render(assessment)


def test_unsupported_logo_is_an_input_error(tmp_path, assessment):
    bad = tmp_path / "logo.gif"
    bad.write_bytes(b"GIF89a")
    with pytest.raises(InputError, match="logo must be one of"):
        HtmlRenderer(logo=bad).render(assessment)


def test_minimal_assessment_renders(assessment):
    """No headline, slices, records, controls or change: every section still reads sensibly."""
    bare = assessment.model_copy(
        update={
            "headline": None,
            "slices": [],
            "records": [],
            "controls": [],
            "what_if": [],
            "residual_risk": None,
            "action_plan": [],
            "change": None,
            "findings": [],
            "warnings": [],
        }
    )
    out = HtmlRenderer(charts=False).render(bare)
    assert "No groups of people were defined" in out
    assert "No per-record results were kept" in out
    assert "No actions have been planned yet" in out
    assert "9. Sign-off and re-assessment" in out  # numbering closes up without the change section

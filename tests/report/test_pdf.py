"""The PDF: sections, headline figures, metadata, attachment, draft marking, reproducibility."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader

from compliance_mia.report import PdfRenderer
from compliance_mia.report import formatting as fmt
from compliance_mia.report.context import document_hash


@pytest.fixture(scope="module")
def reader(rendered_dir):
    return PdfReader(rendered_dir / "report.pdf")


@pytest.fixture(scope="module")
def text(pdf_pages) -> str:
    return " ".join(pdf_pages)


def test_is_a_multi_page_a4_document(reader):
    assert len(reader.pages) >= 12
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_every_section_title_is_in_the_pdf(text, section_titles):
    for title in section_titles:
        assert title in text, title


def test_table_of_contents_has_page_numbers(pdf_pages):
    contents = pdf_pages[1]
    assert "Contents" in contents
    for title in ("1. Executive summary", "5. Results", "Annex D. How to reproduce"):
        match = re.search(re.escape(title) + r"[ .]*?(\d+)", contents)
        assert match, title
        page = int(match.group(1))
        assert title in pdf_pages[page - 1], f"{title} not on page {page}"


def test_headline_figures_as_formatted(text, assessment):
    hl = assessment.headline
    point = next(p for p in hl.tpr_at_fpr if p.fpr == hl.reference_fpr)
    assert fmt.interval_score(hl.auc) in text
    assert fmt.interval_pct(point.tpr) in text
    assert f"ε = {fmt.decimal(hl.epsilon.epsilon_lower, 2)}" in text
    assert fmt.count(assessment.data.data_subjects) in text
    for p in hl.tpr_at_fpr:
        if not p.measurable:
            assert fmt.operating_point(p) in text


def test_every_attack_and_its_auc_in_the_results_table(text, assessment):
    for outcome in assessment.attacks:
        assert outcome.title in text
        assert fmt.decimal(outcome.metrics.auc.estimate, 3) in text
        for point in outcome.metrics.operating_points:
            if point.measurable and point.tpr.estimate is not None:
                assert fmt.pct(point.tpr.estimate) in text


def test_rating_words_and_rule_trace(text, assessment):
    assert assessment.risk.level.upper() in text
    for rule in assessment.risk.rules:
        assert rule.rule_id in text
    assert "level 4 of 4" in text


def test_controls_clauses_and_what_if(text, assessment):
    for control in assessment.controls:
        assert control.title in text
    assert "164.312(a)(1)" in text and "AML.M0002" in text
    assert "AML.T0024.000" in text and "ML04:2023" in text and "NISTAML.033" in text


def test_page_x_of_y_and_draft_marking(pdf_pages):
    total = len(pdf_pages)
    assert f"Page 1 of {total}" in pdf_pages[0] and f"Page {total} of {total}" in pdf_pages[-1]
    assert all("DRAFT – not signed off" in page for page in pdf_pages)


def test_metadata(reader, assessment):
    meta = reader.metadata
    assert assessment.system.name in meta.title
    assert meta.author == assessment.signoff.assessor
    assert "membership inference" in meta.subject.lower()
    assert "DPIA" in meta["/Keywords"]
    assert meta["/CreationDate"] == "D:20251120091647Z"


def test_assessment_json_travels_inside_the_pdf(reader, assessment, text):
    attached = reader.attachments["assessment.json"][0]
    assert attached.decode("utf-8") == assessment.to_json()
    assert document_hash(assessment) in text.replace(" ", "")


def test_records_only_by_id(text, assessment):
    for record in assessment.records[:20]:
        assert record.record_id in text


def test_pdf_is_byte_stable(rendered_dir, assessment):
    """Rendering the same Assessment again gives the same bytes (dates and ID come from it)."""
    assert PdfRenderer().render(assessment) == (rendered_dir / "report.pdf").read_bytes()


def test_override_pointing_outside_is_refused(tmp_path, assessment):
    """An organisation's template that loads a web image stops the render instead of fetching it."""
    from compliance_mia.errors import InputError

    (tmp_path / "partials").mkdir()
    (tmp_path / "partials" / "letterhead.html.j2").write_text(
        '<img src="http://127.0.0.1:9/logo.png">'
    )
    renderer = PdfRenderer(template_dir=tmp_path)
    renderer.html.charts = False
    with pytest.raises(InputError, match="self-contained"):
        renderer.render(assessment)


def test_results_table_extracts_with_its_figures(rendered_dir, assessment):
    """The TPR@FPR table survives as a table (pdfplumber), each cell with the formatted figure."""
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(rendered_dir / "report.pdf") as pdf:
        page = next(
            p for p in pdf.pages if "Share of members identified" in (p.extract_text() or "")
        )
        table = next(t for t in page.extract_tables() if t and t[0][:2] == ["Attack", "AUC"])
    header, rows = table[0], table[1:]
    assert header[2:] == [
        "at 0.1% false positives",
        "at 1% false positives",
        "at 10% false positives",
    ]
    assert len(rows) == len(assessment.attacks)
    for row, outcome in zip(rows, assessment.attacks, strict=True):
        assert " ".join(row[0].split()).startswith(" ".join(outcome.title.split())[:20])
        auc = outcome.metrics.auc
        assert row[1].split("\n")[0] == fmt.decimal(auc.estimate, 3)
        for cell, point in zip(row[2:], outcome.metrics.operating_points, strict=True):
            if point.measurable and point.tpr.estimate is not None:
                assert cell.split("\n")[0] == fmt.pct(point.tpr.estimate)
            else:
                assert cell.startswith("not determinable")

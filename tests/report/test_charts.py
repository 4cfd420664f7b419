"""Charts: SVG text kept as text, reproducible bytes, nothing conveyed by colour alone."""

from __future__ import annotations

import re

from compliance_mia.report import charts


def test_roc_chart_is_byte_stable_and_keeps_text(assessment):
    first = charts.roc_chart(assessment.attacks, highlight="rmia")
    second = charts.roc_chart(assessment.attacks, highlight="rmia")
    assert first == second
    assert first.startswith("<svg")
    assert "<text" in first  # svg.fonttype = none: labels are text, not glyph paths
    assert "random guess" in first
    for outcome in assessment.attacks:  # legend labels wrap at about 46 characters
        assert outcome.title[:25] in first
    assert not re.search(r"(?:src|href)=\"https?://", first)
    assert "<metadata" not in first


def test_chart_ids_are_namespaced_per_chart(assessment):
    svg = charts.roc_chart(assessment.attacks, chart_id="roc")
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("roc-") for i in ids)


def test_heat_map_marks_cells_with_words(assessment):
    svg = charts.heat_map_chart(assessment.risk, assessment.residual_risk)
    assert "NOW" in svg and "AFTER" in svg
    assert "Before controls" in svg and "After recommended controls" in svg
    # every cell names its level: 16 cells per panel, two panels
    cell_labels = re.findall(r">\s*(negligible|limited|significant|maximum)\s*</text>", svg)
    assert len(cell_labels) >= 32


def test_heat_map_without_matrix_still_marks_the_rated_cell(assessment):
    bare = assessment.risk.model_copy(update={"matrix": []})
    svg = charts.heat_map_chart(bare)
    assert "NOW" in svg and bare.level in svg


def test_nothing_to_draw_gives_none(assessment):
    no_hist = assessment.attacks[-1]  # the gap attack records no histogram
    assert charts.score_distribution_chart(no_hist) is None
    assert charts.slices_chart([]) is None
    assert charts.roc_chart([]) is None


def test_slices_chart_labels_small_groups(assessment):
    svg = charts.slices_chart(assessment.slices, overall_auc=0.874)
    assert "too small to rank" in svg
    assert "race = other" in svg


def test_labels_are_xml_escaped(assessment):
    attacks = [assessment.attacks[0].model_copy(update={"title": "<script>alert(1)</script> & co"})]
    svg = charts.roc_chart(attacks)
    assert "<script" not in svg and "&lt;script&gt;" in svg

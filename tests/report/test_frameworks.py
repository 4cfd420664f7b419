"""Regulatory knowledge reaches every format as data: names, threat ids, citations, verification.

The report must cite only frameworks in the policy's scope, mark references
not checked against the official text, and take a framework added to the
controls catalogue (a YAML edit) through to the rendered documents without
any Python change.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from compliance_mia.assessment import Assessment
from compliance_mia.controls import load_catalogue
from compliance_mia.report import HtmlRenderer, MarkdownRenderer, OscalRenderer, RiskRegisterRenderer
from compliance_mia.resources import policies_dir


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _intro(html: str, section_id: str) -> str:
    section = _section(html, section_id)
    match = re.search(r'<p class="section-intro">(.*?)</p>', section, flags=re.S)
    return match.group(1) if match else ""


def _scoped(assessment: Assessment, regulations: list[str]) -> Assessment:
    return assessment.model_copy(
        update={
            "regulations": regulations,
            "citations": [c for c in assessment.citations if c.framework in regulations],
        }
    )


def test_sections_cite_only_frameworks_in_scope(assessment):
    html = HtmlRenderer(charts=False).render(_scoped(assessment, ["gdpr"]))
    for section in ("scope", "threats", "method", "risk", "controls", "change", "signoff"):
        assert "HIPAA" not in _intro(html, section), section
        assert "GDPR" in _intro(html, section) or section in ("threats", "signoff"), section
    assert "HIPAA" not in _section(html, "scope") and "HIPAA" not in _section(html, "summary")
    assert "GDPR Art. 35(7)(c): the methods used" in _section(html, "method")
    full = HtmlRenderer(charts=False).render(assessment)
    assert "HIPAA 164.514(b)(1)" in _section(full, "method")


def test_no_framework_in_scope_leaves_plain_section_intros(assessment):
    html = HtmlRenderer(charts=False).render(_scoped(assessment, []))
    assert '<p class="section-intro">The methods used to assess the risk' in html
    assert _intro(html, "risk").startswith("Severity of the harm")
    assert "Art. 36" not in _section(html, "summary")
    assert "Health data is sensitive: disclosure can cause serious harm." in html


def test_unverified_references_are_marked_and_listed(assessment):
    html = HtmlRenderer(charts=False).render(assessment)
    method = _section(html, "method")
    assert re.search(r"164\.514\(b\)\(1\)<sup class=\"unverified\"[^>]*>&dagger;</sup>", method)
    assert 'Art. 35(7)(c)<sup class="unverified"' not in method  # verified: no mark
    # clause table (7.1): the mapping's unverified clause is marked, the others are not
    controls = _section(html, "controls")
    assert re.search(r"Art\. 25\(1\)<sup class=\"unverified\"", controls)
    assert not re.search(r"Art\. 32\(1\)\(b\)<sup", controls)
    annex = _section(html, "annex-references")
    assert "NISTAML.033" in annex and "164.514(b)(1)" in annex and ">no<" in annex


def test_threat_ids_and_names_come_from_the_assessment(assessment):
    renamed = assessment.model_copy(
        update={
            "frameworks": [
                f.model_copy(update={"title": "ATLAS (renamed)"}) if f.id == "mitre_atlas" else f
                for f in assessment.frameworks
            ]
        }
    )
    threats = _section(HtmlRenderer(charts=False).render(renamed), "threats")
    assert "ATLAS (renamed)" in threats and "AML.T0024.000" in threats
    register = next(csv.DictReader(io.StringIO(RiskRegisterRenderer().render(assessment))))
    assert register["threats"] == (
        "MITRE ATLAS AML.T0024.000; OWASP ML Top 10 ML04:2023; NIST AI 100-2 NISTAML.033 (unverified)"
    )
    assert "GDPR Art. 25(1) (unverified)" in register["clauses"]
    oscal = json.loads(OscalRenderer().render(assessment))
    risk = oscal["assessment-results"]["results"][0]["risks"][0]
    assert [t["id"] for t in risk["threat-ids"]] == ["https://atlas.mitre.org/techniques/AML.T0024.000"]
    assert risk["threat-ids"][0]["system"] == "https://atlas.mitre.org"


def test_an_assessment_of_schema_1_0_still_renders(assessment):
    raw = json.loads(assessment.to_json())
    for key in ("frameworks", "threats", "citations"):
        raw.pop(key)
    for control in raw["controls"]:
        for mapping in control["mappings"]:
            mapping.pop("unverified")
    raw["schema_version"] = "1.0"
    old = Assessment.from_json(json.dumps(raw))
    html = HtmlRenderer(charts=False).render(old)
    assert "This assessment records no catalogued threat identifiers." in html
    assert "Regulations in scope</th><td>gdpr, hipaa, eu-ai-act</td>" in html
    assert MarkdownRenderer().render(old)


NEW_FRAMEWORK = """\
  iso_27701:
    title: ISO/IEC 27701:2019 Privacy information management
    short: ISO/IEC 27701
    note: Added by an analyst in YAML; clause not checked.
    verified: false
"""


def test_a_framework_added_in_yaml_reaches_the_rendered_report(tmp_path: Path, assessment):
    """An analyst adds a framework, a mapping and a citation to a copy of controls.yaml: no Python."""
    text = (policies_dir() / "controls.yaml").read_text(encoding="utf-8")
    text = text.replace("threats:\n", NEW_FRAMEWORK + "\nthreats:\n", 1)
    text = text.replace(
        "  method:\n",
        '  method:\n    - {framework: iso_27701, clause: "7.2.5", requirement: "privacy impact assessment"}\n',
        1,
    )
    text = text.replace(
        '      owasp_ai_exchange: ["#SMALLMODEL"]\n',
        '      owasp_ai_exchange: ["#SMALLMODEL"]\n'
        '      iso_27701: ["7.4.5 de-identification at the end of processing"]\n',
        1,
    )
    path = tmp_path / "controls.yaml"
    path.write_text(text, encoding="utf-8")
    catalogue = load_catalogue(path)
    regulations = ["gdpr", "iso_27701"]
    evidence = catalogue.scope_evidence(regulations)
    controls = [
        c.model_copy(update={"mappings": catalogue.mappings(catalogue.control(c.control_id), regulations)})
        if c.control_id in catalogue.ids()
        else c
        for c in assessment.controls
    ]
    assert any(c.control_id == "regularisation" for c in controls)
    custom = assessment.model_copy(update={"regulations": regulations, "controls": controls, **evidence})
    custom = Assessment.from_json(custom.to_json())  # and it survives assessment.json
    html = HtmlRenderer(charts=False).render(custom)
    assert "Regulations in scope</th><td>GDPR, ISO/IEC 27701</td>" in html
    assert re.search(r"ISO/IEC 27701 7\.2\.5<sup class=\"unverified\"", _section(html, "method"))
    controls_html = _section(html, "controls")
    assert "<b>ISO/IEC 27701</b>" in controls_html and "7.4.5 de-identification" in controls_html
    assert "ISO/IEC 27701:2019 Privacy information management" not in controls_html
    assert "Added by an analyst in YAML" in _section(html, "annex-references")
    register = next(csv.DictReader(io.StringIO(RiskRegisterRenderer().render(custom))))
    assert "iso_27701 7.4.5 de-identification at the end of processing (unverified)" in register["clauses"]


@pytest.mark.parametrize("name", ["partials/names.j2"])
def test_no_second_table_of_framework_names(name):
    from compliance_mia.resources import templates_dir

    assert not (templates_dir() / name).exists()

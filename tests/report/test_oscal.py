"""OSCAL assessment-results: valid against the official models (trestle), stable, complete."""

from __future__ import annotations

import json
import uuid

import pytest

from compliance_mia.report import OscalRenderer
from compliance_mia.report.oscal import OSCAL_VERSION

trestle_ar = pytest.importorskip(
    "trestle.oscal.assessment_results", reason="compliance-trestle (dev extra)"
)


@pytest.fixture(scope="module")
def document(rendered_dir) -> dict:
    return json.loads((rendered_dir / "oscal-assessment-results.json").read_text(encoding="utf-8"))


def test_validates_against_trestle_models(document):
    model = trestle_ar.AssessmentResults.model_validate(document["assessment-results"])
    assert (
        model.model_dump(mode="json", by_alias=True)["metadata"]["oscal-version"] == OSCAL_VERSION
    )
    assert trestle_ar.OSCAL_VERSION == OSCAL_VERSION


def test_uuids_are_deterministic_v5(assessment, document):
    again = json.loads(OscalRenderer().render(assessment))
    assert again == document
    root = document["assessment-results"]
    assert uuid.UUID(root["uuid"]).version == 5
    other = assessment.model_copy(update={"assessment_id": "another"})
    assert json.loads(OscalRenderer().render(other))["assessment-results"]["uuid"] != root["uuid"]


def test_observations_carry_the_figures(assessment, document):
    result = document["assessment-results"]["results"][0]
    observations = result["observations"]
    assert len(observations) == len(assessment.attacks)
    rmia = next(
        o
        for o in observations
        if {"name": "attack", "ns": "urn:compliance-mia:oscal", "value": "rmia"} in o["props"]
    )
    props = {p["name"]: p["value"] for p in rmia["props"]}
    assert props["auc"] == "0.8742"
    assert props["tpr-at-fpr-1pct"] == "0.249888"
    assert props["tpr-at-fpr-0_1pct"] == "not-determinable"
    assert props["strongest-attack"] == "true"
    assert rmia["methods"] == ["TEST"] and rmia["types"] == ["discovery"]
    assert {"report.pdf", "assessment.json"} <= {e["href"] for e in rmia["relevant-evidence"]}


def test_risk_has_atlas_threat_and_facets(assessment, document):
    risk = document["assessment-results"]["results"][0]["risks"][0]
    assert risk["status"] == "open"
    assert risk["threat-ids"][0]["id"].endswith("AML.T0024.000")
    before, after = risk["characterizations"]
    facets = {f["name"]: f["value"] for f in before["facets"]}
    assert facets == {"likelihood": "significant", "impact": "maximum", "risk": "maximum"}
    assert {f["name"]: f["value"] for f in after["facets"]}["risk"] == "limited"
    assert [r["title"] for r in risk["remediations"]][0] == "Return only the predicted label"


def test_findings_target_status(assessment, document):
    findings = document["assessment-results"]["results"][0]["findings"]
    overall = findings[0]
    assert overall["target"]["status"]["state"] == "satisfied"  # residual 'limited' within appetite
    by_id = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in findings[1:]}
    assert by_id == {
        "F-LEAK-01": "not-satisfied",
        "F-SLICE-01": "not-satisfied",
        "F-SAMPLE-01": "satisfied",
        "F-CONF-01": "not-satisfied",
    }
    no_residual = assessment.model_copy(update={"residual_risk": None})
    state = json.loads(OscalRenderer().render(no_residual))["assessment-results"]["results"][0][
        "findings"
    ][0]
    assert state["target"]["status"]["state"] == "not-satisfied"  # 'maximum' is above the appetite

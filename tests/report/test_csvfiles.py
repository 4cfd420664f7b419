"""CSV twins: GRC-friendly register and an IDs-only data-subject list."""

from __future__ import annotations

import csv
import io

from compliance_mia.report import DataSubjectRenderer, RiskRegisterRenderer
from compliance_mia.report.csvfiles import DATA_SUBJECT_COLUMNS, RISK_REGISTER_COLUMNS


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_risk_register_has_risk_and_each_finding(assessment):
    text = RiskRegisterRenderer().render(assessment)
    assert text.splitlines()[0].split(",") == list(RISK_REGISTER_COLUMNS)
    assert "\r\n" in text
    rows = _rows(text)
    assert len(rows) == 1 + len(assessment.findings)
    risk = rows[0]
    assert (risk["severity"], risk["likelihood"], risk["level"], risk["residual_level"]) == (
        "maximum",
        "significant",
        "maximum",
        "limited",
    )
    assert risk["owner"] == "Claims Analytics"
    assert risk["treatment"] == "mitigate: output-labels-only; regularisation"
    assert risk["due"] == "2025-12-15"
    assert "HIPAA 164.312(a)(1)" in risk["clauses"] and "AML.T0024.000" in risk["threats"]
    assert risk["within_appetite"] == "true"
    assert [r["id"] for r in rows[1:]] == [f.id for f in assessment.findings]
    assert all(r["parent_id"] == "RISK-MIA" for r in rows[1:])


def test_spreadsheet_formulas_are_neutralised(assessment):
    evil = assessment.model_copy(
        update={
            "system": assessment.system.model_copy(update={"owner": '=HYPERLINK("http://x","y")'})
        }
    )
    rows = _rows(RiskRegisterRenderer().render(evil))
    assert rows[0]["owner"].startswith("'=")


def test_data_subject_csv_is_ids_only(assessment):
    text = DataSubjectRenderer().render(assessment)
    rows = _rows(text)
    assert tuple(rows[0].keys()) == DATA_SUBJECT_COLUMNS
    assert [r["record_id"] for r in rows] == [
        r.record_id for r in sorted(assessment.records, key=lambda r: r.rank)
    ]
    assert rows[0]["flagged"] == "true" and rows[0]["p_value"] == "0.00022"
    assert "is_member" not in text and "True" not in text
    for row in rows:  # clean numbers: no float noise, no exponent
        assert "e-" not in row["score"] and len(row["score"]) <= 8

"""CSV twins for GRC tools and for data-subject follow-up.

``risk-register.csv`` has one row for the membership inference risk and one
per finding, in columns most GRC tools import directly. ``data-subject-risk.csv``
lists records by ID only (never a feature value, never the label, never
membership), with their rank, score and p-value, so a privacy team can follow
up on the most exposed people.

Both use RFC 4180 CSV (UTF-8, CRLF), numbers in plain decimal notation, and
neutralise cells that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from compliance_mia.assessment import Assessment
from compliance_mia.report.base import Renderer
from compliance_mia.report.formatting import plain_number

__all__ = [
    "DataSubjectRenderer",
    "RiskRegisterRenderer",
    "RISK_REGISTER_COLUMNS",
    "DATA_SUBJECT_COLUMNS",
]

RISK_REGISTER_COLUMNS = (
    "id",
    "parent_id",
    "title",
    "category",
    "severity",
    "likelihood",
    "level",
    "residual_level",
    "appetite",
    "within_appetite",
    "owner",
    "treatment",
    "status",
    "due",
    "clauses",
    "threats",
    "detail",
    "system",
    "system_version",
    "assessment_id",
    "identified",
)
DATA_SUBJECT_COLUMNS = ("record_id", "rank", "score", "p_value", "flagged")

#: Stable ID of the membership inference risk in the register, so re-assessments update one row.
RISK_ID = "RISK-MIA"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """One cell: numbers in plain notation; text a spreadsheet would evaluate is quoted out."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return plain_number(value)
    text = " ".join(str(value).split())
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


class RiskRegisterRenderer(Renderer):
    """risk-register.csv: the risk plus one row per finding."""

    name = "risk-register"
    filename = "risk-register.csv"
    media_type = "text/csv"

    def rows(self, a: Assessment) -> list[dict[str, Any]]:
        residual = a.residual_risk
        rating = residual or a.risk
        planned = [item.control for item in a.action_plan]
        recommended = [
            c.control_id for c in sorted(a.controls, key=lambda c: c.priority) if not c.in_place
        ]
        treatment = planned or recommended
        clauses = sorted(
            {
                f"{m.framework} {clause}" + (" (unverified)" if clause in m.unverified else "")
                for c in a.controls
                for m in c.mappings
                for clause in m.clauses
            }
        )
        threats = "; ".join(
            f"{a.framework_name(t.framework)} {t.id}" + ("" if t.verified else " (unverified)")
            for t in a.threats
        )
        dues = sorted(item.due for item in a.action_plan if item.due)
        common = {
            "system": a.system.name,
            "system_version": a.system.version,
            "assessment_id": a.assessment_id,
            "identified": a.evidence.finished[:10],
        }
        rows = [
            {
                "id": RISK_ID,
                "title": f"Membership inference on {a.system.name}",
                "category": "privacy: membership inference",
                "severity": a.risk.severity,
                "likelihood": a.risk.likelihood,
                "level": a.risk.level,
                "residual_level": residual.level if residual else "",
                "appetite": rating.appetite or "",
                "within_appetite": rating.within_appetite,
                "owner": a.system.owner,
                "treatment": ("mitigate: " + "; ".join(treatment)) if treatment else "",
                "status": "open",
                "due": dues[0] if dues else "",
                "clauses": "; ".join(clauses),
                "threats": threats,
                "detail": " ".join(rule.because for rule in a.risk.rules),
                **common,
            }
        ]
        for finding in a.findings:
            rows.append(
                {
                    "id": finding.id,
                    "parent_id": RISK_ID,
                    "title": finding.title,
                    "category": finding.kind,
                    "severity": finding.severity,
                    "owner": a.system.owner,
                    "status": "open",
                    "detail": finding.detail,
                    **common,
                }
            )
        return rows

    def render(self, assessment: Assessment) -> str:
        return _csv(RISK_REGISTER_COLUMNS, self.rows(assessment))


class DataSubjectRenderer(Renderer):
    """data-subject-risk.csv: one row per scored record, by ID only, most exposed first."""

    name = "data-subjects"
    filename = "data-subject-risk.csv"
    media_type = "text/csv"

    def render(self, assessment: Assessment) -> str:
        rows = (
            {
                "record_id": r.record_id,
                "rank": r.rank,
                "score": r.score,
                "p_value": r.p_value,
                "flagged": r.flagged,
            }
            for r in sorted(assessment.records, key=lambda r: r.rank)
        )
        return _csv(DATA_SUBJECT_COLUMNS, rows)

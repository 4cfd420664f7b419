"""What the report templates see besides the Assessment itself.

Only presentation helpers live here: look-ups (the strongest attack, the
operating point at the reference false-positive rate), the charts, the
document hash and the logo as a data URI. Nothing here rates, ranks or
judges; those decisions are already recorded in the Assessment.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance_mia.assessment import (
    Assessment,
    AttackOutcome,
    Citation,
    ControlRecommendation,
    OperatingPoint,
    RecordRisk,
)
from compliance_mia.errors import InputError, Problem
from compliance_mia.figures import point_at

__all__ = [
    "ChartImage",
    "ReportContext",
    "build_context",
    "document_hash",
    "is_draft",
    "logo_data_uri",
]

logger = logging.getLogger(__name__)

_LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
#: Logo file names picked up from an override template directory when no logo is given.
LOGO_NAMES = ("logo.svg", "logo.png", "logo.jpg", "logo.jpeg")


#: the last Assessment serialised and its canonical JSON: one ``render`` needs that text for
#: assessment.json, the PDF's attachment and the document hash (HTML, Markdown, OSCAL), and
#: an Assessment is frozen, so the same object always serialises to the same text
_last_json: tuple[Assessment, str] | None = None


def canonical_json(assessment: Assessment) -> str:
    """``assessment.to_json()``, computed once per Assessment object (the last one is kept)."""
    global _last_json
    if _last_json is None or _last_json[0] is not assessment:
        _last_json = (assessment, assessment.to_json())
    return _last_json[1]


def document_hash(assessment: Assessment) -> str:
    """SHA-256 of the canonical assessment.json (the bytes written and attached to the PDF)."""
    return hashlib.sha256(canonical_json(assessment).encode("utf-8")).hexdigest()


def is_draft(assessment: Assessment) -> bool:
    """Unsigned (no decision) or not marked final: the report must say DRAFT."""
    return assessment.signoff.decision is None or assessment.signoff.status != "final"


def logo_data_uri(logo: Path | None, template_dir: Path | None = None) -> str | None:
    """Embed the logo as a data URI (the report must not reference files or the network)."""
    if logo is None and template_dir is not None:
        logo = next(
            (Path(template_dir) / n for n in LOGO_NAMES if (Path(template_dir) / n).is_file()), None
        )
    if logo is None:
        return None
    path = Path(logo)
    media = _LOGO_TYPES.get(path.suffix.lower())
    if media is None:
        raise InputError(
            Problem(
                f"logo must be one of {', '.join(sorted(_LOGO_TYPES))}",
                file=path,
                field="report.logo",
            )
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            Problem(f"cannot read logo: {exc.strerror or exc}", file=path, field="report.logo")
        ) from None
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@dataclass(frozen=True)
class ChartImage:
    """A chart as an ``<img>`` data URI with its text alternative.

    An image (rather than inline SVG) keeps the chart's own styling away from
    the page's CSS, keeps the HTML valid when several charts share element
    ids, and still prints as vector graphics with real text in the PDF.
    """

    uri: str
    alt: str

    @classmethod
    def from_svg(cls, svg: str) -> ChartImage:
        match = re.search(r"<title[^>]*>(.*?)</title>", svg, flags=re.S)
        alt = html.unescape(match.group(1)) if match else "chart"
        return cls(uri=_svg_uri(svg), alt=alt)


@dataclass(frozen=True)
class ClauseRow:
    """One clause of one framework and the recommended controls (by number) that help satisfy it."""

    framework: str
    clause: str
    controls: list[int]
    in_scope: bool
    verified: bool = True


def clause_table(assessment: Assessment, controls: list[ControlRecommendation]) -> list[ClauseRow]:
    """Invert control -> clauses into clause -> controls (a traceability table, each clause once).

    Frameworks in the assessment's scope come first, in the order the policy
    lists them; numbers refer to positions in ``controls`` (1-based).
    """
    scope = [r.lower() for r in assessment.regulations]
    rows: dict[tuple[str, str], list[int]] = {}
    unverified: set[tuple[str, str]] = set()
    for number, control in enumerate(controls, start=1):
        for mapping in control.mappings:
            unverified.update((mapping.framework, clause) for clause in mapping.unverified)
            for clause in mapping.clauses:
                numbers = rows.setdefault((mapping.framework, clause), [])
                if number not in numbers:
                    numbers.append(number)

    def order(key: tuple[str, str]) -> tuple[int, str, str]:
        framework = key[0].lower()
        return (scope.index(framework) if framework in scope else len(scope), framework, key[1])

    return [
        ClauseRow(
            framework=f,
            clause=c,
            controls=rows[(f, c)],
            in_scope=f.lower() in scope,
            verified=(f, c) not in unverified,
        )
        for f, c in sorted(rows, key=order)
    ]


@dataclass(frozen=True)
class ReferenceRow:
    """One clause the report's sections cite, with where it is cited and whether it was checked."""

    framework: str
    clause: str
    requirement: str
    verified: bool
    sections: list[str]


def reference_rows(citations: list[Citation], regulations: list[str] | None = None) -> list[ReferenceRow]:
    """The cited clauses once each (first requirement wording wins), by framework in scope order."""
    scope = list(regulations or [])
    rows: dict[tuple[str, str], ReferenceRow] = {}
    for c in citations:
        row = rows.get((c.framework, c.clause))
        if row is None:
            rows[(c.framework, c.clause)] = ReferenceRow(
                c.framework, c.clause, c.requirement, c.verified, [c.section]
            )
        elif c.section not in row.sections:
            row.sections.append(c.section)

    def order(row: ReferenceRow) -> int:
        return scope.index(row.framework) if row.framework in scope else len(scope)

    return sorted(rows.values(), key=order)


def citations_by_section(assessment: Assessment) -> dict[str, list[Citation]]:
    """The Assessment's citations grouped by report section, frameworks in the policy's order."""
    out: dict[str, list[Citation]] = {}
    for c in assessment.citations:
        out.setdefault(c.section, []).append(c)
    return out


@dataclass(frozen=True)
class ReportContext:
    """Everything a report template may use, with the Assessment as ``a``."""

    a: Assessment
    document_hash: str
    draft: bool
    logo_uri: str | None
    watermark_uri: str | None
    strongest: AttackOutcome | None
    reference_point: OperatingPoint | None
    fpr_levels: list[float]
    top_records: list[RecordRisk]
    controls_by_id: dict[str, ControlRecommendation]
    controls: list[ControlRecommendation]
    clauses: list[ClauseRow]
    attack_titles: dict[str, str]
    citations: dict[str, list[Citation]] = field(default_factory=dict)
    references: list[ReferenceRow] = field(default_factory=list)
    framework_names: dict[str, str] = field(default_factory=dict)
    framework_titles: dict[str, str] = field(default_factory=dict)
    charts: dict[str, ChartImage] = field(default_factory=dict)
    #: a language-model assessment: templates word records as texts and show the blind baseline first
    text: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _fpr_levels(assessment: Assessment) -> list[float]:
    configured = assessment.statistics.get("fpr_levels")
    if isinstance(configured, list) and configured:
        return sorted(float(f) for f in configured)
    seen = {p.fpr for outcome in assessment.attacks for p in outcome.metrics.operating_points}
    return sorted(seen)


def _reference_point(assessment: Assessment) -> OperatingPoint | None:
    if assessment.headline is None:
        return None
    return point_at(assessment.headline.tpr_at_fpr, assessment.headline.reference_fpr)


@functools.cache
def _watermark_uri() -> str:
    """The DRAFT watermark as a data URI (the same for every report: drawn once per process)."""
    from compliance_mia.report import charts

    return _svg_uri(charts.watermark_svg("DRAFT"))


def build_context(
    assessment: Assessment,
    *,
    logo_uri: str | None = None,
    with_charts: bool = True,
    with_watermark: bool = True,
) -> ReportContext:
    """Collect look-ups and charts for the templates.

    ``with_watermark=False`` (Markdown) leaves out the page watermark: drawing it, like the
    charts, needs matplotlib, which formats without pages should not import.
    """
    strongest = None
    if assessment.headline is not None:
        strongest = next(
            (o for o in assessment.attacks if o.name == assessment.headline.strongest_attack), None
        )
    limit = assessment.statistics.get("top_records", 20)
    limit = limit if isinstance(limit, int) and limit >= 0 else 20
    top_records = sorted(assessment.records, key=lambda r: r.rank)[:limit]
    rendered: dict[str, ChartImage] = {}
    if with_charts:
        from compliance_mia.report import charts  # matplotlib: only for the formats that draw

        min_fp = assessment.statistics.get("min_false_positives", 10)
        drawn = {
            "roc": charts.roc_chart(
                assessment.attacks,
                min_false_positives=int(min_fp) if isinstance(min_fp, int | float) else 10,
                highlight=strongest.name if strongest else None,
            ),
            "scores": charts.score_distribution_chart(strongest) if strongest else None,
            "slices": charts.slices_chart(
                assessment.slices,
                overall_auc=assessment.headline.auc.estimate if assessment.headline else None,
            ),
            "heatmap": charts.heat_map_chart(assessment.risk, assessment.residual_risk),
        }
        rendered = {name: ChartImage.from_svg(svg) for name, svg in drawn.items() if svg}
    controls = sorted(assessment.controls, key=lambda c: c.priority)
    return ReportContext(
        a=assessment,
        document_hash=document_hash(assessment),
        draft=is_draft(assessment),
        logo_uri=logo_uri,
        watermark_uri=_watermark_uri() if with_watermark and is_draft(assessment) else None,
        strongest=strongest,
        reference_point=_reference_point(assessment),
        fpr_levels=_fpr_levels(assessment),
        top_records=top_records,
        controls_by_id={c.control_id: c for c in assessment.controls},
        controls=controls,
        clauses=clause_table(assessment, controls),
        attack_titles={o.name: o.title for o in assessment.attacks}
        | {p.name: p.title for p in assessment.plan.attacks},
        citations=citations_by_section(assessment),
        references=reference_rows(assessment.citations, assessment.regulations),
        framework_names={f.id: assessment.framework_name(f.id) for f in assessment.frameworks},
        framework_titles={f.id: f.title for f in assessment.frameworks},
        charts=rendered,
        text=assessment.task == "text-generation",
    )

"""OSCAL 1.2 assessment-results: the assessment for GRC tooling.

The document follows NIST OSCAL's assessment-results model: one result with
an observation per attack (method TEST, type discovery, the figures as
properties, evidence pointing at report.pdf and assessment.json), one risk
for membership inference (the catalogued threat ids, likelihood/impact facets
before and after controls, recommended controls as remediations), and
findings (the overall objective "risk within appetite" plus one per finding
of the Assessment).

Every UUID is a version-5 UUID derived from the assessment ID and the
element's role, so re-rendering the same Assessment gives the same file and
a GRC tool can track elements across re-renders.

Two translation conventions, stated here because OSCAL forces a binary
status: the overall objective is ``satisfied`` only when the Assessment says
the rating is within the declared appetite (no appetite -> not-satisfied);
an Assessment finding of severity ``info`` is an observation of a satisfied
objective, any other severity marks it ``not-satisfied``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from compliance_mia.assessment import Assessment, AttackOutcome, ControlMapping, Interval, RiskRating
from compliance_mia.figures import ci_label, operating_point
from compliance_mia.report.base import Renderer
from compliance_mia.report.context import document_hash, is_draft
from compliance_mia.report.formatting import plain_number

__all__ = ["OSCAL_VERSION", "OscalRenderer", "assessment_results"]

OSCAL_VERSION = "1.2.1"
#: Namespace of the custom properties and facets (a URN: an identifier, nothing to fetch).
NS = "urn:compliance-mia:oscal"
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compliance-mia")
OBJECTIVE_ID = "membership-inference-risk-within-appetite"


def _clauses(mapping: ControlMapping) -> list[str]:
    """A mapping's clauses, those not checked against the official text marked as such."""
    return [f"{c} (unverified)" if c in mapping.unverified else c for c in mapping.clauses]


def _threat_ids(a: Assessment) -> list[dict[str, str]]:
    """The Assessment's verified threat identifiers that have an address (OSCAL needs URIs)."""
    systems = {f.id: f.url for f in a.frameworks}
    return [
        {"system": systems.get(t.framework) or t.href, "id": t.href, "href": t.href}
        for t in a.threats
        if t.href and t.verified
    ]


def _uuid(assessment: Assessment, *parts: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, "/".join((assessment.assessment_id, *parts))))


def _timestamp(value: str) -> str:
    """OSCAL needs timezone-aware timestamps; the Assessment's are UTC (assume so if unmarked)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = dt.datetime(1970, 1, 1)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prop(name: str, value: Any, *, cls: str | None = None) -> dict[str, str] | None:
    if value is None:
        return None
    text = plain_number(value) if isinstance(value, float) else str(value).strip()
    if not text:
        return None
    prop = {"name": name, "ns": NS, "value": text}
    if cls:
        prop["class"] = cls
    return prop


def _interval_props(prefix: str, interval: Interval | None) -> list[dict[str, str] | None]:
    if interval is None:
        return []
    return [
        _prop(prefix, interval.estimate),
        _prop(f"{prefix}-lower", interval.lower),
        _prop(f"{prefix}-upper", interval.upper),
        _prop(f"{prefix}-n", interval.n),
        _prop(f"{prefix}-interval", ci_label(interval)) if interval.lower is not None else None,
    ]


def _fpr_token(fpr: float) -> str:
    return plain_number(fpr * 100).replace(".", "_") + "pct"


def _observation(a: Assessment, outcome: AttackOutcome, tool_uuid: str) -> dict[str, Any]:
    metrics = outcome.metrics
    props: list[dict[str, str] | None] = [
        _prop("attack", outcome.name),
        _prop("attack-family", outcome.family),
        _prop("members", metrics.n_members),
        _prop("non-members", metrics.n_non_members),
        *_interval_props("auc", metrics.auc),
        *_interval_props("advantage", metrics.advantage),
        _prop("confidence-level", metrics.auc.confidence),
    ]
    lines = [f"AUC {plain_number(metrics.auc.estimate)} (0.5 = guessing)."]
    for point in metrics.operating_points:
        token = f"tpr-at-fpr-{_fpr_token(point.fpr)}"
        if point.measurable and point.tpr.estimate is not None:
            props.extend(_interval_props(token, point.tpr))
            lines.append(
                f"At {plain_number(point.fpr * 100)}% FPR: TPR {plain_number(point.tpr.estimate)} "
                f"[{plain_number(point.tpr.lower)}, {plain_number(point.tpr.upper)}]."
            )
        else:
            props.append(_prop(token, "not-determinable"))
            lines.append(f"At {plain_number(point.fpr * 100)}% FPR: {operating_point(point, show_n=False)}.")
    if metrics.epsilon is not None and metrics.epsilon.epsilon_lower is not None:
        props.append(_prop("epsilon-lower-bound", metrics.epsilon.epsilon_lower))
        props.append(_prop("epsilon-delta", metrics.epsilon.delta))
    if outcome.reference_models:
        props.append(_prop("reference-models", outcome.reference_models))
    if a.headline is not None and a.headline.strongest_attack == outcome.name:
        props.append(_prop("strongest-attack", "true"))
    return {
        "uuid": _uuid(a, "observation", outcome.name),
        "title": f"Membership inference attack: {outcome.title}",
        "description": f"{outcome.summary} Reads: {outcome.signal}. " + " ".join(lines),
        "props": [p for p in props if p],
        "methods": ["TEST"],
        "types": ["discovery"],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
        "relevant-evidence": [
            {
                "href": "report.pdf",
                "description": "Privacy impact assessment report (section 5, Results).",
            },
            {
                "href": "assessment.json",
                "description": "Machine-readable assessment with every figure.",
            },
        ],
        "collected": _timestamp(a.evidence.finished),
    }


def _characterization(rating: RiskRating, phase: str, tool_uuid: str) -> dict[str, Any]:
    system = f"urn:compliance-mia:risk-scale:{rating.scale}"
    return {
        "props": [
            p for p in (_prop("phase", phase), _prop("matrix-version", rating.matrix_version)) if p
        ],
        "origin": {"actors": [{"type": "tool", "actor-uuid": tool_uuid}]},
        "facets": [
            {"name": "likelihood", "system": system, "value": rating.likelihood},
            {"name": "impact", "system": system, "value": rating.severity},
            {"name": "risk", "system": system, "value": rating.level},
        ],
    }


def assessment_results(assessment: Assessment) -> dict[str, Any]:
    """Build the OSCAL assessment-results document as plain JSON-ready data."""
    a = assessment
    tool_uuid = _uuid(a, "component", "compliance-mia")
    org_uuid = _uuid(a, "party", "organisation")
    assessor_uuid = _uuid(a, "party", "assessor")
    risk_uuid = _uuid(a, "risk", "membership-inference")
    observations = [_observation(a, outcome, tool_uuid) for outcome in a.attacks]
    observation_refs = [{"observation-uuid": o["uuid"]} for o in observations]
    started, finished = _timestamp(a.evidence.started), _timestamp(a.evidence.finished)

    parties: list[dict[str, Any]] = [
        {
            "uuid": org_uuid,
            "type": "organization",
            "name": a.organisation or a.system.controller or a.system.owner,
        }
    ]
    responsible = [{"role-id": "system-owner", "party-uuids": [org_uuid]}]
    roles = [{"id": "system-owner", "title": "System owner"}]
    if a.signoff.assessor:
        parties.append({"uuid": assessor_uuid, "type": "person", "name": a.signoff.assessor})
        responsible.append({"role-id": "assessor", "party-uuids": [assessor_uuid]})
        roles.append({"id": "assessor", "title": "Assessor"})

    remediations = []
    for control in sorted(a.controls, key=lambda c: c.priority):
        clauses = "; ".join(f"{m.framework} {', '.join(_clauses(m))}" for m in control.mappings)
        props = [
            _prop("control-id", control.control_id),
            _prop("priority", control.priority),
            _prop("category", control.category),
        ]
        if control.what_if is not None and control.what_if.auc is not None:
            props.append(_prop("what-if-auc", control.what_if.auc.estimate))
        if control.what_if is not None and control.what_if.residual is not None:
            props.append(_prop("what-if-risk", control.what_if.residual.level))
        remediations.append(
            {
                "uuid": _uuid(a, "response", control.control_id),
                "lifecycle": "completed" if control.in_place else "recommendation",
                "title": control.title,
                "description": control.why + (f" Helps satisfy: {clauses}." if clauses else ""),
                "props": [p for p in props if p],
            }
        )

    characterizations = [_characterization(a.risk, "before-controls", tool_uuid)]
    if a.residual_risk is not None:
        characterizations.append(
            _characterization(a.residual_risk, "after-recommended-controls", tool_uuid)
        )
    threat_ids = _threat_ids(a)
    risk: dict[str, Any] = {
        "uuid": risk_uuid,
        "title": f"Membership inference on {a.system.name}",
        "description": (
            f"An attacker who can query {a.system.name} ({a.exposure.description}) infers "
            "whether a "
            f"person's record was in its training data ({', '.join(a.data.categories)} data of "
            f"{a.data.data_subjects} people)."
        ),
        "statement": " ".join(rule.because for rule in a.risk.rules) or f"Rated {a.risk.level}.",
        "props": [
            p for p in (_prop("risk-level", a.risk.level), _prop("appetite", a.risk.appetite)) if p
        ],
        "status": "open",
        **({"threat-ids": threat_ids} if threat_ids else {}),
        "characterizations": characterizations,
        "related-observations": observation_refs,
    }
    if remediations:
        risk["remediations"] = remediations
    dues = sorted(item.due for item in a.action_plan if item.due)
    if dues:
        risk["deadline"] = _timestamp(dues[0])

    rating = a.residual_risk or a.risk
    findings = [
        {
            "uuid": _uuid(a, "finding", "overall"),
            "title": "Membership inference risk within the declared appetite",
            "description": (
                f"Rated {a.risk.level}"
                + (
                    f", {a.residual_risk.level} after the recommended controls"
                    if a.residual_risk
                    else ""
                )
                + (
                    f"; appetite {rating.appetite}."
                    if rating.appetite
                    else "; no appetite declared."
                )
            ),
            "target": {
                "type": "objective-id",
                "target-id": OBJECTIVE_ID,
                "status": {"state": "satisfied" if rating.within_appetite else "not-satisfied"},
            },
            "related-observations": observation_refs,
            "related-risks": [{"risk-uuid": risk_uuid}],
        }
    ]
    for finding in a.findings:
        findings.append(
            {
                "uuid": _uuid(a, "finding", finding.id),
                "title": finding.title,
                "description": finding.detail or finding.title,
                "props": [
                    p
                    for p in (
                        _prop("finding-id", finding.id),
                        _prop("severity", finding.severity),
                        _prop("kind", finding.kind),
                    )
                    if p
                ],
                "target": {
                    "type": "objective-id",
                    "target-id": finding.id,
                    "status": {
                        "state": "satisfied" if finding.severity == "info" else "not-satisfied"
                    },
                },
                "related-risks": [{"risk-uuid": risk_uuid}],
            }
        )

    clauses = sorted(
        {
            f"{m.framework} {c}"
            for control in a.controls
            for m in control.mappings
            for c in _clauses(m)
        }
    )
    result = {
        "uuid": _uuid(a, "result"),
        "title": f"Membership inference assessment of {a.system.name} {a.system.version}",
        "description": (
            f"{a.system.assessment_type} assessment of whether records used to train "
            f"{a.system.name} can be identified through its outputs. Status: "
            f"{'draft (not signed off)' if is_draft(a) else 'final, ' + str(a.signoff.decision)}."
        ),
        "start": started,
        "end": finished,
        "props": [
            p
            for p in (
                _prop("assessment-id", a.assessment_id),
                _prop("overall-risk", a.risk.level),
                _prop("status", "draft" if is_draft(a) else "final"),
                _prop("seed", a.seed),
            )
            if p
        ],
        "local-definitions": {
            "components": [
                {
                    "uuid": tool_uuid,
                    "type": "software",
                    "title": "compliance-mia",
                    "description": "Membership inference assessment toolkit, version "
                    f"{a.evidence.tool_version}.",
                    "props": [{"name": "version", "value": a.evidence.tool_version}],
                    "status": {"state": "operational"},
                }
            ]
        },
        "reviewed-controls": {
            "description": "Controls protecting the confidentiality of training data against "
            "membership inference" + (f": {'; '.join(clauses)}." if clauses else "."),
            "control-selections": [{"include-all": {}}],
        },
        "observations": observations,
        "risks": [risk],
        "findings": findings,
    }
    return {
        "assessment-results": {
            "uuid": _uuid(a, "assessment-results"),
            "metadata": {
                "title": f"{a.title}: {a.system.name} {a.system.version}",
                "last-modified": finished,
                "version": a.assessment_id,
                "oscal-version": OSCAL_VERSION,
                "roles": roles,
                "parties": parties,
                "responsible-parties": responsible,
            },
            "import-ap": {
                "href": "assessment.json",
                "remarks": "The assessment plan (attacks chosen and skipped, with reasons) is the "
                "'plan' member of assessment.json; no separate OSCAL assessment plan is produced.",
            },
            "results": [result],
            "back-matter": {
                "resources": [
                    {
                        "uuid": _uuid(a, "resource", "report"),
                        "title": "Privacy impact assessment report",
                        "rlinks": [{"href": "report.pdf", "media-type": "application/pdf"}],
                    },
                    {
                        "uuid": _uuid(a, "resource", "assessment-json"),
                        "title": "Assessment (compliance-mia JSON)",
                        "rlinks": [
                            {
                                "href": "assessment.json",
                                "media-type": "application/json",
                                "hashes": [{"algorithm": "SHA-256", "value": document_hash(a)}],
                            }
                        ],
                    },
                ]
            },
        }
    }


class OscalRenderer(Renderer):
    """OSCAL 1.2 assessment-results JSON (validated in tests with compliance-trestle)."""

    name = "oscal"
    filename = "oscal-assessment-results.json"
    media_type = "application/json"

    def render(self, assessment: Assessment) -> str:
        return json.dumps(assessment_results(assessment), indent=2, ensure_ascii=False) + "\n"

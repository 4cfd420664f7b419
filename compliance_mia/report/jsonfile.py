"""assessment.json: the Assessment itself, canonical and byte-stable."""

from __future__ import annotations

from compliance_mia.assessment import Assessment
from compliance_mia.report.base import Renderer
from compliance_mia.report.context import canonical_json

__all__ = ["JsonRenderer"]


class JsonRenderer(Renderer):
    """Canonical JSON (sorted keys, fixed indent): the evidence every format derives from."""

    name = "json"
    filename = "assessment.json"
    media_type = "application/json"

    def render(self, assessment: Assessment) -> str:
        return canonical_json(assessment)

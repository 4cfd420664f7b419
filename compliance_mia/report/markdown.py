"""summary.md: the assessment in a few lines, for a pull-request comment or a ticket."""

from __future__ import annotations

from pathlib import Path

from compliance_mia.assessment import Assessment
from compliance_mia.report.base import Renderer
from compliance_mia.report.context import build_context
from compliance_mia.report.environment import make_environment, render_template

__all__ = ["MarkdownRenderer"]


class MarkdownRenderer(Renderer):
    """Render ``summary.md.j2`` (overridable) with Markdown-safe escaping of every value."""

    name = "markdown"
    filename = "summary.md"
    media_type = "text/markdown"

    def __init__(
        self, *, template_dir: Path | None = None, template: str = "summary.md.j2"
    ) -> None:
        self.template_dir = template_dir
        self.template = template

    @classmethod
    def from_options(
        cls, *, template_dir: Path | None = None, logo: Path | None = None
    ) -> MarkdownRenderer:
        return cls(template_dir=template_dir)

    def render(self, assessment: Assessment) -> str:
        env = make_environment(self.template_dir, markdown=True)
        context = build_context(assessment, with_charts=False, with_watermark=False)
        return render_template(env, self.template, **context.as_dict())

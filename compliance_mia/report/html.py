"""The HTML report: the privacy impact assessment as one self-contained page.

The same HTML is what the PDF renderer hands to WeasyPrint, so the two can
never disagree. It carries its stylesheet inline, its charts as inline SVG
and its logo as a data URI: it opens offline and references nothing outside
itself.
"""

from __future__ import annotations

from pathlib import Path

from compliance_mia.assessment import Assessment
from compliance_mia.report.base import Renderer
from compliance_mia.report.context import build_context, logo_data_uri
from compliance_mia.report.environment import make_environment, render_template

__all__ = ["HtmlRenderer"]


class HtmlRenderer(Renderer):
    """Render ``report.html.j2`` (or an organisation's override of it).

    Parameters
    ----------
    template_dir
        Directory searched before the shipped templates; may also hold
        ``logo.svg``/``logo.png`` used when ``logo`` is not given.
    logo
        Image for the cover (SVG, PNG or JPEG), embedded as a data URI.
    template
        Name of the top-level template.
    charts
        Draw the charts (on by default; off gives a lighter text-only page).
    """

    name = "html"
    filename = "report.html"
    media_type = "text/html"

    def __init__(
        self,
        *,
        template_dir: Path | None = None,
        logo: Path | None = None,
        template: str = "report.html.j2",
        charts: bool = True,
    ) -> None:
        self.template_dir = template_dir
        self.logo = logo
        self.template = template
        self.charts = charts
        # the last page rendered: an Assessment is immutable, so rendering the same object
        # again (report.html, then report.pdf from the same renderer) re-uses it
        self._last: tuple[Assessment, str] | None = None

    @classmethod
    def from_options(
        cls, *, template_dir: Path | None = None, logo: Path | None = None
    ) -> HtmlRenderer:
        return cls(template_dir=template_dir, logo=logo)

    def render(self, assessment: Assessment) -> str:
        if self._last is not None and self._last[0] is assessment:
            return self._last[1]
        env = make_environment(self.template_dir)
        context = build_context(
            assessment,
            logo_uri=logo_data_uri(self.logo, self.template_dir),
            with_charts=self.charts,
        )
        page = render_template(env, self.template, **context.as_dict())
        self._last = (assessment, page)
        return page

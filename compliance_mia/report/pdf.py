"""The PDF report: the HTML report laid out for print by WeasyPrint.

Offline by construction: the URL fetcher refuses everything but ``data:``
URIs, so a template that points at a web font, stylesheet or image fails
loudly instead of silently phoning home or reading local files. The
assessment JSON travels inside the PDF as an attachment. Dates in the PDF
(document info, attachment, embedded font subsets) come from the
Assessment's own timestamps and the file identifier from its ID, so the
same Assessment renders to the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from compliance_mia.assessment import Assessment
from compliance_mia.errors import InputError, Problem
from compliance_mia.report.base import Renderer
from compliance_mia.report.context import canonical_json
from compliance_mia.report.html import HtmlRenderer

__all__ = ["PdfRenderer"]

logger = logging.getLogger(__name__)


def _timestamp(value: str | None) -> dt.datetime:
    """Parse an Assessment timestamp (UTC if no zone); the epoch if absent or unreadable."""
    if value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        except ValueError:
            logger.warning("unreadable timestamp %r in the assessment; using 1970-01-01", value)
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@contextlib.contextmanager
def _source_date_epoch(stamp: dt.datetime) -> Iterator[None]:
    """Pin embedded-font timestamps to the assessment's time (the reproducible-builds convention).

    WeasyPrint subsets fonts with fontTools, which writes "now" into each
    font's ``head.modified`` unless ``SOURCE_DATE_EPOCH`` is set; without
    this, two renders of the same Assessment differ by a few bytes.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


class PdfRenderer(Renderer):
    """HTML renderer + WeasyPrint, with the assessment JSON attached.

    Parameters
    ----------
    template_dir, logo
        As for :class:`~compliance_mia.report.html.HtmlRenderer`.
    attach_json
        Embed ``assessment.json`` in the PDF (on by default: the evidence
        travels with the document).
    """

    name = "pdf"
    filename = "report.pdf"
    media_type = "application/pdf"

    def __init__(
        self,
        *,
        template_dir: Path | None = None,
        logo: Path | None = None,
        attach_json: bool = True,
    ) -> None:
        self.html = HtmlRenderer(template_dir=template_dir, logo=logo)
        self.attach_json = attach_json

    @classmethod
    def from_options(
        cls, *, template_dir: Path | None = None, logo: Path | None = None
    ) -> PdfRenderer:
        return cls(template_dir=template_dir, logo=logo)

    def render(self, assessment: Assessment) -> bytes:
        import weasyprint  # heavy import (pango, fonts): only when a PDF is wanted
        import weasyprint.urls

        html = self.html.render(assessment)
        stamp = _timestamp(assessment.evidence.finished)
        attachments = []
        if self.attach_json:
            attachments.append(
                weasyprint.Attachment(
                    string=canonical_json(assessment),
                    name="assessment.json",
                    description="The assessment this report renders (compliance-mia JSON)",
                    created=stamp,
                    modified=stamp,
                    relationship="Source",
                )
            )
        # Only data: URIs may load; any other reference stops the render (fail_on_errors) instead of
        # fetching from the network or disk, and is reported as the user's template problem.
        fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url=None)
        identifier = (
            hashlib.sha256(assessment.assessment_id.encode("utf-8"))
            .hexdigest()[:32]
            .encode("ascii")
        )
        try:
            with _source_date_epoch(stamp):
                return document.write_pdf(
                    attachments=attachments,
                    pdf_identifier=identifier,
                    pdf_tags=True,
                    uncompressed_pdf=False,
                )
        except weasyprint.urls.FatalURLFetchingError as exc:
            raise InputError(
                Problem(
                    f"{exc}: reports must be self-contained (embed images as data: URIs and "
                    "name installed fonts by family)",
                    field="report.template_dir",
                )
            ) from None

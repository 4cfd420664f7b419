"""The Assessment as Python callers get it: the evidence model plus its documents.

:class:`Assessment` subclasses the evidence model of
:mod:`compliance_mia.assessment` (same fields, same JSON, same schema) and adds
the ways to read it: :meth:`~Assessment.summary`, :meth:`~Assessment.to_pdf`,
:meth:`~Assessment.to_html`, :meth:`~Assessment.save` and a card for Jupyter.
The rendering methods live here, above the renderers, so that
``compliance_mia.assessment`` stays the contract every renderer reads and
imports nothing of them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

from compliance_mia import assessment as _evidence

__all__ = ["Assessment"]


class Assessment(_evidence.Assessment):
    """A membership inference assessment, with its report formats.

    Returned by :func:`compliance_mia.assess` and :func:`compliance_mia.run`;
    :meth:`load` reads an ``assessment.json`` written by either or by the CLI.
    Every field of the evidence (``risk``, ``headline``, ``attacks``,
    ``findings``, ``verdict``...) is an attribute; the JSON is
    :meth:`to_json`.

    Examples
    --------
    >>> from compliance_mia import Assessment
    >>> a = Assessment.load(example_json)          # doctest: +SKIP
    >>> print(a.summary())                        # doctest: +SKIP
    >>> a.save("report/")                         # doctest: +SKIP
    """

    _template_dir: Path | None = PrivateAttr(default=None)
    _logo: Path | None = PrivateAttr(default=None)

    @classmethod
    def _wrap(
        cls, core: _evidence.Assessment, *, template_dir: Path | None = None, logo: Path | None = None
    ) -> Assessment:
        """The runner's Assessment as this class (fields copied as they are, not re-validated)."""
        made = cls.model_construct(_fields_set=core.model_fields_set, **dict(core))
        made._template_dir = template_dir
        made._logo = logo
        return made

    # ------------------------------------------------------------ documents
    def to_pdf(self, path: str | Path | None = None) -> bytes:
        """Render the privacy impact assessment as PDF; write it to ``path`` when given.

        Returns the PDF's bytes. The file is written atomically (never half-written).
        """
        data = self._render("pdf")
        if path is not None:
            from compliance_mia.report import write_atomic

            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        return data

    def to_html(self) -> str:
        """The full HTML report (a self-contained page) as text."""
        return self._render("html").decode("utf-8")

    def to_markdown(self) -> str:
        """The Markdown summary (``summary.md``: a pull-request comment or a ticket)."""
        return self._render("markdown").decode("utf-8")

    def to_oscal(self) -> str:
        """The OSCAL 1.2 assessment results as JSON text."""
        return self._render("oscal").decode("utf-8")

    def save(self, folder: str | Path, *, formats: list[str] | None = None) -> list[Path]:
        """Write every format (or ``formats``) into ``folder``, as ``compliance-mia run --out`` does.

        Everything is rendered in memory first and each file written
        atomically, so a failure leaves no half-written report. Returns the
        paths written: report.pdf, report.html, assessment.json,
        oscal-assessment-results.json, risk-register.csv,
        data-subject-risk.csv and summary.md.
        """
        from compliance_mia.report import render_all

        return render_all(self, Path(folder), formats=formats, template_dir=self._template_dir, logo=self._logo)

    def _render(self, fmt_name: str) -> bytes:
        from compliance_mia.report import render_one

        return render_one(self, fmt_name, template_dir=self._template_dir, logo=self._logo)

    # --------------------------------------------------------------- reading
    def summary(self) -> str:
        """The console summary: the decision, the rating, each headline figure with its named interval and meaning.

        Returns
        -------
        str
            One ``label  value`` line per row, exactly the rows ``compliance-mia run`` prints.
        """
        from compliance_mia.report.console import summary_text

        return summary_text(self)

    def _summary_rows(self) -> list[tuple[str, str]]:
        from compliance_mia.report.console import summary_rows

        return [(label or "", value) for label, value in summary_rows(self)]

    def __str__(self) -> str:
        return f"{self.title}: {self.system.name}\n{self.summary()}"

    def _repr_html_(self) -> str:
        """A compact card for Jupyter: decision, rating, appetite, headline figures, top findings."""
        esc = html.escape
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em;vertical-align:top'>{esc(label)}</th>"
            f"<td style='text-align:left'>{esc(value)}</td></tr>"
            for label, value in self._summary_rows()
        )
        order = {"high": 0, "medium": 1, "low": 2, "info": 3}
        findings = sorted(self.findings, key=lambda f: order.get(f.severity, 4))[:3]
        items = "".join(f"<li><b>{esc(f.severity)}</b>: {esc(f.title)}</li>" for f in findings)
        colour = _LEVEL_COLOURS.get(_rank(self.risk), "#555")
        return (
            "<div style='border:1px solid #ccc;border-left:6px solid "
            f"{colour};padding:8px 12px;font-family:sans-serif;max-width:760px'>"
            f"<div style='font-weight:bold;font-size:1.05em'>{esc(self.system.name)}"
            f" <span style='font-weight:normal;color:#666'>{esc(self.system.version)} · "
            f"{esc(self.title)}</span></div>"
            f"<table style='margin-top:6px'>{rows}</table>"
            + (f"<div style='margin-top:6px'>Top findings<ul style='margin:2px 0'>{items}</ul></div>" if items else "")
            + "<div style='color:#666;font-size:0.85em'>.to_pdf(path) · .save(folder) · .summary() · "
            f"assessment {esc(self.assessment_id)}</div></div>"
        )

    def __repr__(self) -> str:
        head = self.headline
        auc = f", auc={head.auc.estimate:.3f}" if head is not None and head.auc.estimate is not None else ""
        return f"<Assessment {self.system.name!r}: rating={self.risk.level!r}{auc}>"


_LEVEL_COLOURS = {0: "#2e7d32", 1: "#f9a825", 2: "#ef6c00", 3: "#c62828"}


def _rank(risk: Any) -> int:
    """0 (lowest) to 3 (highest) for colouring, whatever the scale's length."""
    levels = list(risk.levels) or [risk.level]
    index = levels.index(risk.level) if risk.level in levels else 0
    return round(3 * index / max(1, len(levels) - 1))

"""Renderers: one Assessment in, every document an auditor files out.

pip-audit style: each format is a small :class:`Renderer` class (options in
``__init__``, ``render(assessment)`` in memory); :data:`FORMATS` maps format
names to classes; :func:`render_all` renders the chosen formats and only then
writes them, each atomically, so a failing renderer leaves no half-written
report behind. Nothing here imports attacks, targets, data or metrics: the
Assessment is the contract.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from compliance_mia.assessment import Assessment
from compliance_mia.errors import InputError, Problem
from compliance_mia.report.base import Renderer
from compliance_mia.report.csvfiles import DataSubjectRenderer, RiskRegisterRenderer
from compliance_mia.report.html import HtmlRenderer
from compliance_mia.report.jsonfile import JsonRenderer
from compliance_mia.report.markdown import MarkdownRenderer
from compliance_mia.report.oscal import OscalRenderer
from compliance_mia.report.pdf import PdfRenderer

__all__ = [
    "FORMATS",
    "FORMAT_ALIASES",
    "DataSubjectRenderer",
    "HtmlRenderer",
    "JsonRenderer",
    "MarkdownRenderer",
    "OscalRenderer",
    "PdfRenderer",
    "Renderer",
    "RiskRegisterRenderer",
    "render_all",
    "render_one",
    "expand_formats",
    "write_atomic",
]

logger = logging.getLogger(__name__)

#: Format name -> renderer class, in the order ``render_all`` writes them.
FORMATS: dict[str, type[Renderer]] = {
    cls.name: cls
    for cls in (
        JsonRenderer,
        HtmlRenderer,
        PdfRenderer,
        OscalRenderer,
        RiskRegisterRenderer,
        DataSubjectRenderer,
        MarkdownRenderer,
    )
}


#: Short names accepted on the command line: one name may stand for several formats.
FORMAT_ALIASES: dict[str, tuple[str, ...]] = {
    "csv": ("risk-register", "data-subjects"),
    "md": ("markdown",),
    "summary": ("markdown",),
}


def expand_formats(names: Iterable[str]) -> list[str]:
    """Resolve aliases (``csv`` -> both CSV files, ``md`` -> markdown), keep order, drop repeats."""
    expanded: list[str] = []
    for name in names:
        expanded.extend(FORMAT_ALIASES.get(name, (name,)))
    return list(dict.fromkeys(expanded))


def _renderer(fmt: str, *, template_dir: Path | None, logo: Path | None) -> Renderer:
    try:
        cls = FORMATS[fmt]
    except KeyError:
        raise InputError(
            Problem(
                f"unknown report format '{fmt}'; choose from {', '.join(FORMATS)} "
                f"(or {', '.join(FORMAT_ALIASES)})",
                field="formats",
            )
        ) from None
    return cls.from_options(template_dir=template_dir, logo=logo)


def render_one(
    assessment: Assessment,
    fmt: str,
    *,
    template_dir: Path | None = None,
    logo: Path | None = None,
) -> bytes:
    """Render one format in memory and return its bytes (text formats UTF-8)."""
    names = expand_formats([fmt])
    if len(names) != 1:
        raise InputError(
            Problem(
                f"'{fmt}' stands for {len(names)} files; render them with render_all",
                field="formats",
            )
        )
    return _renderer(names[0], template_dir=template_dir, logo=logo).render_bytes(assessment)


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and ``os.replace``: never half-written."""
    handle = tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def render_all(
    assessment: Assessment,
    out_dir: Path,
    *,
    formats: Iterable[str] | None = None,
    template_dir: Path | None = None,
    logo: Path | None = None,
) -> list[Path]:
    """Render the chosen formats (default: all) into ``out_dir`` and return the paths written.

    Everything is rendered in memory first; files are written only when
    every renderer has succeeded, each one atomically.

    Parameters
    ----------
    assessment
        The assessment to render.
    out_dir
        Output directory, created if missing.
    formats
        Format names from :data:`FORMATS` or :data:`FORMAT_ALIASES`; ``None`` for all.
    template_dir
        An organisation's template directory searched before the shipped templates.
    logo
        Logo image for the cover page (SVG, PNG or JPEG).
    """
    names = list(FORMATS) if formats is None else expand_formats(formats)
    renderers = [_renderer(name, template_dir=template_dir, logo=logo) for name in names]
    # The PDF is the HTML page printed: when both are wanted, build the page (and its charts) once.
    html = next((r for r in renderers if isinstance(r, HtmlRenderer)), None)
    for renderer in renderers:
        if isinstance(renderer, PdfRenderer) and html is not None:
            renderer.html = html
    rendered: list[tuple[Path, bytes]] = []
    out = Path(out_dir)
    for renderer in renderers:
        logger.info("rendering %s", renderer.filename)
        rendered.append((out / renderer.filename, renderer.render_bytes(assessment)))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot create output directory: {exc.strerror or exc}", file=out)
        ) from None
    for path, data in rendered:
        write_atomic(path, data)
    return [path for path, _ in rendered]

"""Renderers: one Assessment in, every document an auditor files out.

pip-audit style: each format is a small :class:`Renderer` class (options in
``__init__``, ``render(assessment)`` in memory); :data:`FORMATS` maps format
names to classes; :func:`render_all` renders the chosen formats and only then
writes them, as a set, so a failing or interrupted run leaves no
half-written or mixed report behind. Nothing here imports attacks, targets, data or metrics: the
Assessment is the contract.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
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
    "REPORT_FILES",
    "RiskRegisterRenderer",
    "existing_report_files",
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


#: Every file name a report set can hold: what ``render_all`` writes for some choice of formats.
REPORT_FILES: tuple[str, ...] = tuple(cls.filename for cls in FORMATS.values())


def existing_report_files(out_dir: Path) -> list[Path]:
    """Report files (any of :data:`REPORT_FILES`) already in ``out_dir``, in :data:`FORMATS` order."""
    out = Path(out_dir)
    return [out / name for name in REPORT_FILES if (out / name).is_file() or (out / name).is_symlink()]


def render_all(
    assessment: Assessment,
    out_dir: Path,
    *,
    formats: Iterable[str] | None = None,
    template_dir: Path | None = None,
    logo: Path | None = None,
    replace: bool = False,
    before_write: Callable[[], None] | None = None,
) -> list[Path]:
    """Render the chosen formats (default: all) into ``out_dir`` and return the paths written.

    Everything is rendered in memory first and written to a staging folder
    inside ``out_dir``; only when every file is there are they moved into
    place. If moving fails or is interrupted, the files moved so far are
    taken back and the previous set restored, so ``out_dir`` holds either
    the old set or the new one, never a mix.

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
    replace
        Also remove every report file (:data:`REPORT_FILES`) this call does
        not write, so no file of an older run survives beside the new set.
    before_write
        Called right before anything is written (and again before the files
        are moved into place); raising from it aborts with nothing written.
        The command line uses it to honour a signal whose exception was
        swallowed inside C code (the PDF stack).
    """
    names = list(FORMATS) if formats is None else expand_formats(formats)
    renderers = [_renderer(name, template_dir=template_dir, logo=logo) for name in names]
    # The PDF is the HTML page printed: when both are wanted, build the page (and its charts) once.
    html = next((r for r in renderers if isinstance(r, HtmlRenderer)), None)
    for renderer in renderers:
        if isinstance(renderer, PdfRenderer) and html is not None:
            renderer.html = html
    rendered: list[tuple[str, bytes]] = []
    out = Path(out_dir)
    for renderer in renderers:
        logger.info("rendering %s", renderer.filename)
        rendered.append((renderer.filename, renderer.render_bytes(assessment)))
    if before_write is not None:
        before_write()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            Problem(f"cannot create output directory: {exc.strerror or exc}", file=out)
        ) from None
    new_names = [name for name, _ in rendered]
    stale = [p.name for p in existing_report_files(out) if p.name not in new_names] if replace else []
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".rendering-"))
    backup = staging / ".previous"
    try:
        for name, data in rendered:
            write_atomic(staging / name, data)
        if before_write is not None:
            before_write()
        _swap(out, staging, backup, new_names, stale)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in new_names]


def _swap(out: Path, staging: Path, backup: Path, new_names: list[str], stale: list[str]) -> None:
    """Move the staged files into ``out``; on any failure put the previous set back."""
    backup.mkdir()
    moved_old: list[str] = []
    placed: list[str] = []
    try:
        for name in [*new_names, *stale]:
            if (out / name).exists() or (out / name).is_symlink():
                os.replace(out / name, backup / name)
                moved_old.append(name)
        for name in new_names:
            os.replace(staging / name, out / name)
            placed.append(name)
    except BaseException:
        for name in placed:
            with contextlib.suppress(OSError):
                (out / name).unlink()
        for name in moved_old:
            with contextlib.suppress(OSError):
                os.replace(backup / name, out / name)
        raise

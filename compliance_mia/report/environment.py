"""The Jinja2 environment every template-based renderer shares.

Autoescaping is on for everything but plain-text templates (``*.txt.j2``), so
a system name such as ``<script>`` prints as text in HTML and Markdown.
Undefined variables raise instead of printing blanks, so a template typo
cannot silently drop a figure from an audit document. An organisation's
template directory, when given, is searched first: any shipped template,
stylesheet, letterhead or logo can be replaced by a file of the same name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup

from compliance_mia.errors import InputError, Problem
from compliance_mia.report.formatting import FILTERS
from compliance_mia.resources import templates_dir

__all__ = ["make_environment", "md_escape", "render_template"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


def _autoescape(name: str | None) -> bool:
    """Escape everything except plain-text templates (diff output for a terminal)."""
    return not (name or "").endswith((".txt.j2", ".txt"))


def by_severity(findings: list[_T]) -> list[_T]:
    """Most severe first, else the Assessment's order (presentation order, not a rating)."""
    return sorted(
        findings, key=lambda f: _SEVERITY_ORDER.get(str(getattr(f, "severity", "")).lower(), 5)
    )


def md_cell(value: Any) -> str:
    """Fold text onto one line for a Markdown table cell (finalize escapes the pipes)."""
    return " ".join(str(value).split())


_MD_SPECIAL = str.maketrans(
    {c: f"\\{c}" for c in "\\`*_[]|"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
)


def md_escape(value: Any) -> str:
    """Print a value as literal Markdown: no HTML, links, emphasis or table breaks."""
    if value is None:
        return ""
    if isinstance(
        value, Markup
    ):  # already escaped (a macro's output marked |safe): do not escape twice
        return str(value)
    return str(value).translate(_MD_SPECIAL)


def make_environment(
    template_dir: Path | None = None, *, markdown: bool = False
) -> jinja2.Environment:
    """Build the environment: override directory first, then the shipped templates.

    Parameters
    ----------
    template_dir
        An organisation's directory of templates. Files there shadow shipped
        files of the same name (``report.html.j2``, ``report.css``,
        ``partials/letterhead.html.j2`` ...).
    markdown
        Escape every printed value for Markdown instead of HTML (for
        ``*.md.j2`` templates: PR comments and tickets render Markdown, where
        HTML entities for quotes would show up literally).
    """
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        directory = Path(template_dir)
        if not directory.is_dir():
            raise InputError(
                Problem(
                    "template directory not found (expected a folder of Jinja2 templates)",
                    file=directory,
                    field="report.template_dir",
                )
            )
        loaders.append(jinja2.FileSystemLoader(str(directory)))
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False if markdown else _autoescape,
        finalize=md_escape if markdown else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(FILTERS)
    env.filters["by_severity"] = by_severity
    env.filters["md_cell"] = md_cell
    env.globals["has_override"] = template_dir is not None
    return env


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    """Render one template, turning template mistakes into located, user-facing errors.

    A broken override template is the user's input, so it is reported as an
    :class:`~compliance_mia.errors.InputError` naming file and line rather
    than a traceback.
    """
    return _guard(
        lambda: env.get_template(name).render(**context),
        name,
        user_templates=bool(env.globals.get("has_override")),
    )


def _guard(call: Callable[[], str], name: str, *, user_templates: bool) -> str:
    if not user_templates:  # a mistake in a shipped template is a bug: let it surface as one
        return call()
    try:
        return call()
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            Problem(
                f"template syntax error: {exc.message}",
                file=Path(exc.filename or exc.name or name),
                line=exc.lineno,
            )
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise InputError(Problem(f"template not found: {exc.name}", file=Path(name))) from None
    except jinja2.UndefinedError as exc:
        raise InputError(
            Problem(f"template uses an undefined value: {exc.message}", file=Path(name))
        ) from None

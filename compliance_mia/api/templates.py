"""Starting policies for common cases (``compliance-mia init --template NAME``).

Each template is a commented policy YAML under ``policies/templates/`` whose
first line reads ``# title: ...``. Templates name the built-in example's
files (``builtin:health-insurance/...``), so each one validates and runs as
written; an analyst replaces those paths with their own files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compliance_mia.errors import InputError, Problem
from compliance_mia.resources import policies_dir

__all__ = ["PolicyTemplate", "get_template", "list_templates", "write_template"]


@dataclass(frozen=True)
class PolicyTemplate:
    """A shipped starting policy."""

    name: str
    title: str
    path: Path

    @property
    def text(self) -> str:
        """The template's YAML, comments included."""
        return self.path.read_text(encoding="utf-8")


def _title(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first and first[0].startswith("# title:"):
        return first[0].removeprefix("# title:").strip()
    return path.stem.replace("-", " ")


def list_templates() -> list[PolicyTemplate]:
    """The shipped templates, by name.

    Examples
    --------
    >>> from compliance_mia.api.templates import list_templates
    >>> "public-label-only" in [t.name for t in list_templates()]
    True
    """
    folder = policies_dir() / "templates"
    return [PolicyTemplate(p.stem, _title(p), p) for p in sorted(folder.glob("*.yaml"))]


def get_template(name: str) -> PolicyTemplate:
    """The template called ``name``; :class:`InputError` naming the available ones otherwise."""
    templates = {t.name: t for t in list_templates()}
    if name not in templates:
        import difflib

        close = difflib.get_close_matches(name, list(templates), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InputError(
            Problem(f"unknown template '{name}'{hint}; available: {', '.join(templates)}", field="--template")
        )
    return templates[name]


def write_template(name: str, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write template ``name`` to ``out``; refuses to replace an existing file unless ``overwrite``."""
    template = get_template(name)
    target = Path(out)
    if target.exists() and not overwrite:
        raise InputError(Problem("file exists; choose another --out or pass --force", file=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(template.text, encoding="utf-8")
    return target

"""Rendering a ChangeSummary for ``compliance-mia diff``: terminal text, or Markdown for a PR.

:mod:`compliance_mia.diff` computes the comparison; this module only prints
it, through ``diff.txt.j2`` / ``diff.md.j2`` like every other document.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from compliance_mia.assessment import ChangeSummary
from compliance_mia.report.environment import make_environment, render_template

__all__ = ["render_change"]


def render_change(
    summary: ChangeSummary,
    *,
    fmt: Literal["text", "markdown"] = "text",
    template_dir: Path | None = None,
) -> str:
    """Render a ChangeSummary for ``compliance-mia diff``: terminal text, or Markdown for a PR."""
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', not {fmt!r}")
    markdown = fmt == "markdown"
    env = make_environment(template_dir, markdown=markdown)
    return render_template(env, "diff.md.j2" if markdown else "diff.txt.j2", change=summary)

"""The renderer interface: one Assessment in, one document out.

Like pip-audit's formats, each output is a small class whose options go to
``__init__`` and whose :meth:`Renderer.render` turns an Assessment into text
or bytes held in memory. Renderers never write files (``render_all`` does,
atomically) and never decide anything about risk: every judgement is already
in the Assessment.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from compliance_mia.assessment import Assessment

__all__ = ["Renderer"]


class Renderer(ABC):
    """One output format.

    Attributes
    ----------
    name
        Format name used on the command line (``--format pdf``).
    filename
        File name ``render_all`` writes the output to.
    media_type
        MIME type of the output.
    """

    name: ClassVar[str]
    filename: ClassVar[str]
    media_type: ClassVar[str]

    @classmethod
    def from_options(
        cls, *, template_dir: Path | None = None, logo: Path | None = None
    ) -> Renderer:
        """Build from ``render_all``'s options; formats without templates ignore them."""
        return cls()

    @abstractmethod
    def render(self, assessment: Assessment) -> str | bytes:
        """Render the whole document in memory."""

    def render_bytes(self, assessment: Assessment) -> bytes:
        """The document as bytes (text is UTF-8 encoded), ready to write."""
        out = self.render(assessment)
        return out.encode("utf-8") if isinstance(out, str) else out

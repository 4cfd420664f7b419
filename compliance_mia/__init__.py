"""compliance-mia: membership inference risk assessments as audit evidence.

The public entry points are re-exported here; everything else is an
implementation detail that may move between releases.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]

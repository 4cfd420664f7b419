"""Where the shipped templates and policy data live.

templates/ and policies/ sit at the top of the source tree (the layout is
fixed by the design) and are force-included into the wheel under the package.
An installed wheel therefore finds them inside the package; an editable
install or a source checkout finds them beside it.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"compliance-mia's '{name}' directory is missing from the installation "
        f"(looked in {_PACKAGE_DIR / name} and {_PACKAGE_DIR.parent / name}); reinstall the package"
    )


def templates_dir() -> Path:
    """Directory holding the Jinja2 report templates."""
    return _locate("templates")


def policies_dir() -> Path:
    """Directory holding the risk matrix, controls catalogue and example policies."""
    return _locate("policies")

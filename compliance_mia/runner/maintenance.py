"""What the command line asks of the engine besides running it: the attack list and the cache.

The CLI talks to the runner only, so these thin entry points keep it from
reaching past the runner into the attack registry or the reference cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def describe_registry() -> list[dict[str, str]]:
    """Every registered attack with what it needs, for ``compliance-mia attacks``."""
    from compliance_mia.plan import describe_registry as describe

    return describe()


def cache_info(directory: Path | None = None) -> dict[str, Any]:
    """Where reference models are cached, how many, and their size in bytes."""
    from compliance_mia.reference import ReferenceCache

    return ReferenceCache(directory).info()


def clear_cache(directory: Path | None = None) -> int:
    """Delete every cached reference model; returns how many files were removed."""
    from compliance_mia.reference import ReferenceCache

    return ReferenceCache(directory).clear()

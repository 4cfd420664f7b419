"""Where compliance-mia keeps things worth re-using between runs.

Trained reference models and the materialised built-in example live under one
cache directory, chosen by ``$COMPLIANCE_MIA_CACHE``, else
``$XDG_CACHE_HOME/compliance-mia``, else ``~/.cache/compliance-mia``. A
policy or the CLI can point elsewhere; nothing in the cache is trusted
without checking (models are loaded with skops, never unpickled).
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    explicit = os.environ.get("COMPLIANCE_MIA_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "compliance-mia"


#: Seed of the built-in example's model and data split (part of its cache folder name).
BUILTIN_EXAMPLE_SEED = 20240601


def builtin_inputs_dir(name: str = "health-insurance") -> Path:
    """Cache directory holding the materialised built-in example ``name``.

    Only the location lives here, so the policy layer can resolve
    ``builtin:`` paths without importing the demo that builds them.
    """
    from compliance_mia import __version__

    return default_cache_dir() / "examples" / f"{name}-{__version__}-{BUILTIN_EXAMPLE_SEED}"

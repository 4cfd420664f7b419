"""compliance-mia: membership inference risk assessments as audit evidence.

The public entry points are re-exported here; everything else is an
implementation detail that may move between releases. They are loaded on
first use, so ``import compliance_mia`` stays cheap (no pandas, no
scikit-learn until an assessment needs them).

>>> import compliance_mia
>>> sorted(compliance_mia.__all__)[:3]
['Assessment', 'ComplianceMiaError', 'Policy']
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "ComplianceMiaError",
    "Policy",
    "__version__",
    "assess",
    "check_policy",
    "load_policy",
    "run",
]

#: public name -> module that defines it (imported on first access)
_LAZY = {
    "Assessment": "compliance_mia.api",
    "Policy": "compliance_mia.api",
    "assess": "compliance_mia.api",
    "check_policy": "compliance_mia.api",
    "load_policy": "compliance_mia.api",
    "run": "compliance_mia.api",
    "ComplianceMiaError": "compliance_mia.errors",
}

# Type checkers and IDEs read the names from __init__.pyi. No static import of the API here:
# modules below it import ``__version__`` from this package, and imports point down the flow.


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'compliance_mia' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Policy in, Assessment out: the one flow, wired together.

========================  ======================================================
module                    job
========================  ======================================================
preparation               open the target, load and check the data, plan
session                   run attacks against one target under any exposure
whatif                    re-run the attacks under each control, re-rate
assemble                  rate, recommend, and assemble the Assessment
========================  ======================================================

:func:`run_assessment` writes nothing; the CLI hands the Assessment to the
renderers.

The names below are imported on first use (PEP 562), so ``compliance-mia
validate`` or ``attacks`` does not pay for numpy, pandas, scipy and
scikit-learn, which only running an assessment needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from compliance_mia.runner.assemble import measure_control, run_assessment
    from compliance_mia.runner.maintenance import cache_info, clear_cache, describe_registry
    from compliance_mia.runner.policy_checks import gate_levels, load_policy
    from compliance_mia.runner.preparation import PlanPreview, Prepared, prepare, preview
    from compliance_mia.runner.session import AttackSession, NullProgress, Progress

_WHERE = {
    "measure_control": "assemble",
    "run_assessment": "assemble",
    "cache_info": "maintenance",
    "clear_cache": "maintenance",
    "describe_registry": "maintenance",
    "gate_levels": "policy_checks",
    "load_policy": "policy_checks",
    "PlanPreview": "preparation",
    "Prepared": "preparation",
    "prepare": "preparation",
    "preview": "preparation",
    "AttackSession": "session",
    "NullProgress": "session",
    "Progress": "session",
}

__all__ = [
    "AttackSession",
    "NullProgress",
    "PlanPreview",
    "Prepared",
    "Progress",
    "cache_info",
    "clear_cache",
    "describe_registry",
    "gate_levels",
    "load_policy",
    "measure_control",
    "prepare",
    "preview",
    "run_assessment",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'compliance_mia.runner' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"compliance_mia.runner.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))

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
"""

from compliance_mia.runner.assemble import measure_control, run_assessment
from compliance_mia.runner.maintenance import cache_info, clear_cache, describe_registry
from compliance_mia.runner.policy_checks import gate_levels, load_policy
from compliance_mia.runner.preparation import PlanPreview, Prepared, prepare, preview
from compliance_mia.runner.session import AttackSession, NullProgress, Progress

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

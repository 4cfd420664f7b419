"""How strongly a leakage finding is worded, graded by the matrix's own thresholds.

The thresholds live in ``policies/risk_matrix.yaml`` (``finding_grades``),
next to the likelihood rules they mirror, so editing the matrix moves the
findings too; nothing here holds a number.
"""

from __future__ import annotations

from collections.abc import Sequence

from compliance_mia.assessment import Interval, OperatingPoint
from compliance_mia.risk.facts import figure_facts
from compliance_mia.risk.matrix import RiskMatrix


def finding_grade(matrix: RiskMatrix, auc: Interval | None, points: Sequence[OperatingPoint]) -> str:
    """The grade (high, medium, low) of a finding quoting ``auc`` and ``points``."""
    raw = figure_facts(auc, points)
    for rule in matrix.spec.finding_grades:
        if rule.when is None or rule.when.holds(raw):
            return rule.grade
    raise AssertionError("validated matrices end with a default grade")

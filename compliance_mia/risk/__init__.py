"""Severity × likelihood → a risk level, every step recorded.

A GRC reader signs a rating, not an AUC. The rating is made by the risk
matrix (``policies/risk_matrix.yaml``): data, not code. The matrix is a list
of rules written in a small declarative language: each rule has a condition
on named *facts* (the data categories, the exposure, the strongest attack's
measured figures), a result per scale and a plain-language reason. The
language has no expressions and no eval: a condition is a comparison of one
fact with a literal (``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``in``,
``not_in``, ``intersects``, ``disjoint``, ``known``, ``unknown``), or
``all`` / ``any`` / ``not`` of conditions. Facts, operators, values, result
levels and reason placeholders are all checked when the matrix is loaded,
and every error names the file and line.

Rating proceeds in four steps, each recorded as a
:class:`~compliance_mia.assessment.RuleFired` with the facts it read:

1. severity: the first severity rule whose condition holds;
2. likelihood: the first likelihood rule whose condition holds;
3. adjustments: every adjustment whose condition holds shifts severity or
   likelihood by whole levels (clamped to the scale);
4. level: the scale's matrix cell for (severity, likelihood), then the
   comparison with the policy's risk appetite.

Comparisons with a figure that is unknown (not measurable at this sample
size, or not reported) are false, so "not measurable" never counts as
evidence of leakage or of safety; ``known`` / ``unknown`` test for it.
"""

from compliance_mia.risk.decision import DecisionSpec, decide
from compliance_mia.risk.facts import FACTS, FactSpec, RiskInputs, fact_values
from compliance_mia.risk.matrix import (
    MatrixSpec,
    RiskMatrix,
    ScaleSpec,
    covered_categories,
    load_matrix,
    normalise_level,
    validate_appetite,
)
from compliance_mia.risk.rating import rate
from compliance_mia.risk.rules import Adjustment, Condition, Rule

__all__ = [
    "FACTS",
    "Adjustment",
    "Condition",
    "DecisionSpec",
    "FactSpec",
    "MatrixSpec",
    "RiskInputs",
    "RiskMatrix",
    "Rule",
    "ScaleSpec",
    "covered_categories",
    "decide",
    "fact_values",
    "load_matrix",
    "normalise_level",
    "rate",
    "validate_appetite",
]

"""Statistics an auditor can sign: intervals, ε bounds, slices, power, per-record risk.

Pure functions of per-record attack scores (higher = more likely a member)
and membership labels. Every figure carries its interval, confidence and
sample size, and every interval says what it is (``scope`` single or
simultaneous over ``comparisons`` attacks, the exact ``method``, and for
TPRs the counts that reproduce it). Figures the sample cannot support are
marked not determinable by one rule (:func:`tpr_determinable`), with the
reason. See docs/methodology.md.
"""

from __future__ import annotations

from compliance_mia.figures import ci_label  # noqa: F401 - re-exported (the wording lives in figures)
from compliance_mia.metrics._determinable import Determinability, tpr_determinable
from compliance_mia.metrics._epsilon import epsilon_bound, threshold_grid
from compliance_mia.metrics._evaluate import (
    evaluate_attack,
    operating_points,
    tpr_interval_record,
)
from compliance_mia.metrics._findings import statistics_findings
from compliance_mia.metrics._headline import headline, strongest
from compliance_mia.metrics._intervals import (
    advantage_interval,
    bootstrap_auc,
    clopper_pearson,
    min_detectable_tpr,
    tpr_interval,
)
from compliance_mia.metrics._power import (
    SampleSizePlan,
    SampleSizeRow,
    members_needed,
    power_table,
    records_needed,
)
from compliance_mia.metrics._ranking import (
    TIE_POLICY,
    Roc,
    auc_score,
    roc_curve,
    tpr_at_fpr,
)
from compliance_mia.metrics._records import MAX_RECORDS, record_risks
from compliance_mia.metrics._settings import StatisticsSettings, default_delta
from compliance_mia.metrics._slices import most_exposed_slice, slice_results

__all__ = [
    "Determinability",
    "ci_label",
    "default_delta",
    "tpr_determinable",
    "tpr_interval_record",
    "MAX_RECORDS",
    "TIE_POLICY",
    "Roc",
    "SampleSizePlan",
    "SampleSizeRow",
    "StatisticsSettings",
    "advantage_interval",
    "auc_score",
    "bootstrap_auc",
    "clopper_pearson",
    "epsilon_bound",
    "evaluate_attack",
    "headline",
    "members_needed",
    "most_exposed_slice",
    "power_table",
    "record_risks",
    "records_needed",
    "slice_results",
    "statistics_findings",
    "strongest",
    "min_detectable_tpr",
    "operating_points",
    "roc_curve",
    "threshold_grid",
    "tpr_at_fpr",
    "tpr_interval",
]

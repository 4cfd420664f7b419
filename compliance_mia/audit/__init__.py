"""One-run privacy audit of a training pipeline (Steinke, Nasr & Jagielski, NeurIPS 2023).

Sits just below the runner: like the what-if recipes it trains a model, but
it attacks nothing the deployment returns; it checks a differential-privacy
claim about the training recipe itself.
"""

from compliance_mia.audit.bound import audit_bound, epsilon_lower_bound, guess_grid, p_value
from compliance_mia.audit.run import audit_estimator, canary_scores, run_privacy_audit

__all__ = [
    "audit_bound",
    "audit_estimator",
    "canary_scores",
    "epsilon_lower_bound",
    "guess_grid",
    "p_value",
    "run_privacy_audit",
]

"""The one error the reference package raises for things a user can fix."""

from __future__ import annotations

from compliance_mia.errors import ComplianceMiaError


class ReferenceModelError(ComplianceMiaError):
    """Reference models cannot be trained as configured (estimator, backend, data)."""

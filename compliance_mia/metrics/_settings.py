"""Statistical settings shared by every metric.

The settings are a small frozen value built once from the policy
(:meth:`StatisticsSettings.from_policy`) so that metric functions never see
the policy itself and can be called, tested and benchmarked on their own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance_mia.policy.schema import Policy

#: δ is never set above this when derived from the number of data subjects:
#: 1/N for a handful of subjects would make the ε bound meaningless.
MAX_DEFAULT_DELTA = 1e-3

#: δ derived from N data subjects is 1/(DELTA_DIVISOR · N): strictly below 1/N.
DELTA_DIVISOR = 10


def default_delta(data_subjects: int) -> float:
    """δ = min(1/(10·N), 10⁻³) for N data subjects: always strictly below 1/N.

    δ is the probability with which an (ε, δ) guarantee may fail outright;
    δ = 1/N would allow a mechanism that publishes one whole record of N
    and still be called private, so the convention is δ well below 1/N. A
    factor 10 below keeps that margin while not making δ so small that the
    bound loses its meaning for large N (the bound hardly depends on δ when
    δ is much smaller than the measured TPR). The cap keeps δ meaningful
    for a handful of subjects.
    """
    n = max(int(data_subjects), 1)
    return min(1.0 / (DELTA_DIVISOR * n), MAX_DEFAULT_DELTA)


@dataclass(frozen=True)
class StatisticsSettings:
    """How figures are estimated, and when a sample is too small to support them.

    Attributes
    ----------
    confidence_level
        Two-sided confidence of every interval (one-sided for the ε lower bound).
    fpr_levels
        False-positive rates at which the true-positive rate is reported.
    bootstrap_resamples
        Resamples behind the AUC interval.
    delta
        δ of the empirical (ε, δ) lower bound.
    member_prior
        Assumed share of members among the people an attacker tests (for PPV).
    min_false_positives
        A TPR at FPR f is measurable only if f × non-members reaches this.
    min_slice_size
        Slices with fewer members or non-members are flagged, not ranked.
    min_group_size
        Groups with fewer members or fewer non-members than this are never
        reported by value (small-cell suppression, k-anonymity style).
    max_tie_share
        A TPR at FPR is not determinable when more than this share of the
        records the attack flags at that FPR are picked at random from a
        group of tied scores rather than by the score itself.
    top_records
        How many highest-risk record IDs the report lists.
    reference_fpr
        FPR at which records and slices are "flagged" and attacks compared.
    """

    confidence_level: float = 0.95
    fpr_levels: tuple[float, ...] = (0.001, 0.01, 0.1)
    bootstrap_resamples: int = 1000
    delta: float = 1e-5
    member_prior: float = 0.5
    min_false_positives: int = 10
    min_slice_size: int = 50
    min_group_size: int = 10
    max_tie_share: float = 0.5
    top_records: int = 20
    reference_fpr: float = 0.01

    def __post_init__(self) -> None:
        if not 0.5 < self.confidence_level < 1:
            raise ValueError("confidence_level must be between 0.5 and 1")
        if not self.fpr_levels or any(not 0 < f < 1 for f in self.fpr_levels):
            raise ValueError(
                "fpr_levels must be a non-empty list of rates strictly between 0 and 1"
            )
        object.__setattr__(self, "fpr_levels", tuple(sorted(float(f) for f in self.fpr_levels)))
        if self.bootstrap_resamples < 10:
            raise ValueError("bootstrap_resamples must be at least 10")
        if not 0 < self.delta < 1:
            raise ValueError("delta must be strictly between 0 and 1")
        if not 0 < self.member_prior < 1:
            raise ValueError("member_prior must be strictly between 0 and 1")
        if self.min_false_positives < 1 or self.min_slice_size < 1 or self.top_records < 0:
            raise ValueError(
                "min_false_positives and min_slice_size must be positive, top_records >= 0"
            )
        if self.min_group_size < 1:
            raise ValueError("min_group_size must be positive")
        if not 0 <= self.max_tie_share < 1:
            raise ValueError("max_tie_share must be at least 0 and below 1")
        if not 0 < self.reference_fpr < 1:
            raise ValueError("reference_fpr must be strictly between 0 and 1")

    @property
    def alpha(self) -> float:
        """Error rate allowed by the confidence level (1 − confidence)."""
        return 1.0 - self.confidence_level

    @classmethod
    def from_policy(cls, policy: Policy) -> StatisticsSettings:
        """Settings from the policy's ``statistics`` section.

        δ defaults to 1/(10 · number of data subjects), strictly below 1/N
        (see :func:`default_delta`), never above :data:`MAX_DEFAULT_DELTA`.
        ``min_group_size`` and ``max_tie_share`` are read from the policy when
        it has them (defaults 10 and 0.5 otherwise). The member prior
        defaults to 0.5 (an attacker testing as many members as non-members).
        The reference FPR is 1% when the policy lists it, otherwise the
        listed level closest to 1%.
        """
        spec = policy.statistics
        delta = spec.delta
        if delta is None:
            delta = default_delta(int(policy.data.data_subjects))
        levels = tuple(sorted(float(f) for f in spec.fpr_levels))
        reference = min(levels, key=lambda f: (abs(math.log(f / 0.01)), f))
        return cls(
            confidence_level=float(spec.confidence_level),
            fpr_levels=levels,
            bootstrap_resamples=int(spec.bootstrap_resamples),
            delta=float(delta),
            member_prior=float(spec.member_prior) if spec.member_prior is not None else 0.5,
            min_false_positives=int(spec.min_false_positives),
            min_slice_size=int(spec.min_slice_size),
            min_group_size=int(getattr(spec, "min_group_size", cls.min_group_size)),
            max_tie_share=float(getattr(spec, "max_tie_share", cls.max_tie_share)),
            top_records=int(spec.top_records),
            reference_fpr=float(reference),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready view, recorded in the Assessment's ``statistics``."""
        out = asdict(self)
        out["fpr_levels"] = [float(f) for f in self.fpr_levels]
        return out

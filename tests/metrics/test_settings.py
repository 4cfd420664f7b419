"""StatisticsSettings from the policy."""

from __future__ import annotations

import pytest

from compliance_mia.metrics import StatisticsSettings
from compliance_mia.policy.schema import Policy


def _policy(statistics: dict, subjects: int = 50_000) -> Policy:
    return Policy.model_validate(
        {
            "system": {"name": "s", "owner": "o", "assessment_type": "ad-hoc"},
            "model": {"format": "skops", "artifact": "m.skops"},
            "data": {
                "members": "m.csv",
                "non_members": "n.csv",
                "id_column": "id",
                "label_column": "y",
                "categories": ["health"],
                "data_subjects": subjects,
            },
            "exposure": {"outputs": "probabilities", "access": "public"},
            "statistics": statistics,
        }
    )


def test_defaults_from_policy() -> None:
    s = StatisticsSettings.from_policy(_policy({}))
    assert s.delta == pytest.approx(1 / 500_000)  # 1/(10 N): strictly below 1/N
    assert s.delta < 1 / 50_000
    assert (s.min_group_size, s.max_tie_share) == (10, 0.5)
    assert s.member_prior == 0.5
    assert s.reference_fpr == 0.01
    assert s.as_dict()["fpr_levels"] == [0.001, 0.01, 0.1]


def test_delta_capped_for_few_subjects_and_explicit_values() -> None:
    assert StatisticsSettings.from_policy(_policy({}, subjects=10)).delta == 1e-3
    s = StatisticsSettings.from_policy(
        _policy(
            {
                "delta": 1e-7,
                "member_prior": 0.1,
                "fpr_levels": [0.05, 0.002],
                "confidence_level": 0.9,
            }
        )
    )
    assert (s.delta, s.member_prior, s.confidence_level) == (1e-7, 0.1, 0.9)
    assert s.fpr_levels == (0.002, 0.05)
    assert s.reference_fpr == 0.002


def test_invalid_settings_rejected() -> None:
    with pytest.raises(ValueError, match="confidence_level"):
        StatisticsSettings(confidence_level=1.2)
    with pytest.raises(ValueError, match="fpr_levels"):
        StatisticsSettings(fpr_levels=())

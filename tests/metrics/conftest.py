"""Fixtures for the statistics tests."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.metrics import StatisticsSettings


@pytest.fixture
def settings() -> StatisticsSettings:
    return StatisticsSettings(bootstrap_resamples=300)


@pytest.fixture
def gen() -> np.random.Generator:
    return np.random.default_rng(20240601)

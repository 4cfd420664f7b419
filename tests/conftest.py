"""Fixtures shared by the whole suite.

The cache (reference models, the materialised built-in example) is pointed at
a per-session temporary directory, so tests never read or write the user's
~/.cache and never depend on what an earlier run left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from cases import write_small_case


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("COMPLIANCE_MIA_CACHE")
    os.environ["COMPLIANCE_MIA_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("COMPLIANCE_MIA_CACHE", None)
    else:
        os.environ["COMPLIANCE_MIA_CACHE"] = old


@pytest.fixture
def small_case(tmp_path: Path) -> Path:
    return write_small_case(tmp_path / "case")


@pytest.fixture(scope="session")
def small_case_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_case(tmp_path_factory.mktemp("case"))


def read_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


@pytest.fixture(autouse=True)
def _compliance_mia_loggers_enabled():
    """Keep the package's loggers enabled for caplog.

    Some libraries imported by other tests (dask.distributed) apply a logging
    config with ``disable_existing_loggers``, which would silently disable
    loggers created before it and make warning assertions order-dependent.
    """
    import logging

    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("compliance_mia") and isinstance(logger, logging.Logger):
            logger.disabled = False
    yield

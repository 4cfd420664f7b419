"""The same assessment on loky, dask (LocalCluster) and Ray (local) gives identical figures.

tests/test_reference.py already checks that the reference models' raw
outputs are bit-identical on every backend; this checks the whole
assessment.json (attacks, label-only perturbed queries, bootstrap intervals,
what-if, rating) through :mod:`benchmarks.jsondiff`, ignoring only timings,
cache bookkeeping and the backend's own name.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from cases import write_small_case
from perf_run_compare import figure_differences

from compliance_mia.runner import load_policy, run_assessment

FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
ATTACKS = ["loss", "lira-offline", "label-robustness", "label-robustness-calibrated", "gap"]


def _run(directory: Path, backend: str, n_jobs: int = 2) -> str:
    policy_path = write_small_case(
        directory,
        n_members=150,
        n_non_members=150,
        n_population=300,
        policy_overrides={
            "attacks": {
                "select": ATTACKS,
                "label_only_queries": 4,
                "reference_models": {
                    "count": 2,
                    "backend": backend,
                    "n_jobs": n_jobs,
                    "cache_dir": str(directory / "cache"),
                },
            },
            "statistics": {"bootstrap_resamples": 100},
        },
    )
    return run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED).to_json()


@pytest.fixture(scope="module")
def loky(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _run(tmp_path_factory.mktemp("loky"), "loky")


def test_the_case_runs_the_perturbed_and_reference_attacks(loky: str) -> None:
    import json

    names = {a["name"] for a in json.loads(loky)["attacks"]}
    assert {"label-robustness-calibrated", "lira-offline"} <= names


def test_dask_local_cluster_gives_the_figures_of_loky(loky: str, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed (extra: dask)")
    assert figure_differences(loky, _run(tmp_path, "dask")) == []


def test_ray_local_gives_the_figures_of_loky(loky: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not importable (pip install 'compliance-mia[ray]'); the Ray backend is untested here")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        assert figure_differences(loky, _run(tmp_path, "ray")) == []
    finally:
        ray.shutdown()


def test_one_worker_gives_the_figures_of_two(loky: str, tmp_path: Path) -> None:
    assert figure_differences(loky, _run(tmp_path, "loky", n_jobs=1)) == []

"""A small in-memory case for the Python API: frames and a fitted model, plus the same as files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cases import write_small_case


@dataclass(frozen=True)
class MemoryCase:
    model: object
    members: pd.DataFrame
    non_members: pd.DataFrame
    population: pd.DataFrame
    policy: dict


#: assess() keyword arguments equivalent to the small case's policy file
SMALL_CASE_KWARGS = dict(
    exposure="probabilities",
    access="public",
    label_column="diagnosis",
    id_column="record_id",
    categories=["health", "phi"],
    regulations=["gdpr", "hipaa"],
    reference_models=2,
    backend="sequential",
    seed=7,
    name="Tumour triage model",
    owner="Oncology ML",
    system={"assessment_type": "pre-deployment"},
    data={"exclude_columns": ["site"], "slice_columns": ["site"]},
    statistics={"bootstrap_resamples": 200},
)


def load_memory_case(folder: Path) -> MemoryCase:
    import skops.io as sio

    policy_file = write_small_case(folder)
    model_file = folder / "model.skops"
    model = sio.load(model_file, trusted=sio.get_untrusted_types(file=model_file))
    read = {
        name: pd.read_csv(folder / f"{name}.csv", dtype={"record_id": str})
        for name in ("members", "non_members", "population")
    }
    return MemoryCase(
        model, read["members"], read["non_members"], read["population"], yaml.safe_load(policy_file.read_text())
    )


@pytest.fixture(scope="session")
def memory_case(tmp_path_factory: pytest.TempPathFactory) -> MemoryCase:
    return load_memory_case(tmp_path_factory.mktemp("memory-case"))


@pytest.fixture(scope="session")
def assessed(memory_case: MemoryCase):
    import compliance_mia

    return compliance_mia.assess(
        memory_case.model,
        memory_case.members,
        memory_case.non_members,
        population=memory_case.population,
        progress=None,
        **SMALL_CASE_KWARGS,
    )

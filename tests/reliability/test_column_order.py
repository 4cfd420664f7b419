"""Figures must not depend on the column order of the data files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cases import write_small_case

from compliance_mia.errors import DataError
from compliance_mia.runner import load_policy, run_assessment

FILES = ("members.csv", "non_members.csv", "population.csv")


def _shuffle_columns(directory: Path, seed: int) -> None:
    """Rewrite every data file with its columns in another (seeded) order; same order in each file."""
    columns = list(pd.read_csv(directory / FILES[0], nrows=0).columns)
    order = list(np.random.default_rng(seed).permutation(columns))
    for name in FILES:
        frame = pd.read_csv(directory / name, dtype={"record_id": str})
        frame[order].to_csv(directory / name, index=False)


def _figures(policy_path: Path) -> dict[str, tuple[float, float, float]]:
    assessment = run_assessment(load_policy(policy_path, materialise_builtins=True), policy_path=policy_path)
    return {
        a.name: (a.metrics.auc.estimate, a.metrics.auc.lower, a.metrics.auc.upper) for a in assessment.attacks
    }


def _copy_case(source: Path, target: Path) -> Path:
    shutil.copytree(source.parent, target)
    return target / source.name


@pytest.mark.slow
def test_shuffled_columns_give_identical_figures(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "a", n_members=80, n_non_members=80, n_population=120)
    shuffled = _copy_case(policy, tmp_path / "b")
    _shuffle_columns(shuffled.parent, seed=3)
    first, second = _figures(policy), _figures(shuffled)
    assert first and first == second


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:X has feature names")
def test_declared_feature_columns_fix_the_order_for_a_model_without_names(tmp_path: Path) -> None:
    """A model fitted on arrays records no names: the policy's data.feature_columns gives the order."""
    import skops.io as sio
    from sklearn.ensemble import RandomForestClassifier

    policy = write_small_case(tmp_path / "a", n_members=80, n_non_members=80, n_population=120)
    members = pd.read_csv(policy.parent / "members.csv")
    features = [c for c in members.columns if c not in ("record_id", "diagnosis", "site")]
    model = RandomForestClassifier(n_estimators=20, random_state=0)
    model.fit(members[features].to_numpy(), members["diagnosis"])
    sio.dump(model, policy.parent / "model.skops")
    doc = yaml.safe_load(policy.read_text())
    doc["data"]["feature_columns"] = features
    policy.write_text(yaml.safe_dump(doc, sort_keys=False))
    shuffled = _copy_case(policy, tmp_path / "b")
    _shuffle_columns(shuffled.parent, seed=5)
    assert _figures(policy) == _figures(shuffled)


def test_missing_model_feature_is_a_located_data_error(tmp_path: Path) -> None:
    from compliance_mia.data import load_audit_data, reorder_features

    policy = write_small_case(tmp_path / "a", n_members=40, n_non_members=40, n_population=40)
    spec = load_policy(policy).data
    data = load_audit_data(spec, seed=0)
    with pytest.raises(DataError) as info:
        reorder_features(data, [*data.feature_names, "not_in_the_data"])
    assert "not_in_the_data" in str(info.value)
    assert "members.csv" in str(info.value)
    reordered = reorder_features(data, list(reversed(data.feature_names)))
    assert list(reordered.members.X.columns) == list(reversed(data.feature_names))
    assert list(reordered.non_members.X.columns) == list(reversed(data.feature_names))

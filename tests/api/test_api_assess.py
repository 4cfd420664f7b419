"""compliance_mia.assess / run / load_policy: the CLI's engine and evidence, from Python."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SMALL_CASE_KWARGS
from typer.testing import CliRunner

import compliance_mia
from compliance_mia.cli import app
from compliance_mia.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]
VOLATILE = ("started", "finished", "duration_seconds", "command")
#: wall-clock and cache bookkeeping: how long things took, whether a reference model came from the cache
TIMING = {"duration_seconds", "seconds", "cache_hits", "trained", "training_seconds_saved"}


def _scrub(value):
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _comparable(text: str, *, drop_files: bool) -> dict:
    doc = json.loads(text)
    for key in VOLATILE:
        doc["evidence"].pop(key)
    doc = _scrub(doc)
    if drop_files:  # different files (a hand-written YAML, another skops zip) hash differently
        doc.pop("assessment_id")
        doc["evidence"]["files"] = sorted(f["role"] for f in doc["evidence"]["files"])
    return doc


def test_import_is_cheap_and_names_resolve() -> None:
    code = (
        "import sys, compliance_mia as c; "
        "assert not {'pandas', 'sklearn', 'numpy', 'pydantic'} & set(sys.modules), sorted(sys.modules); "
        "[getattr(c, n) for n in c.__all__]; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stdout.strip() == "ok", proc.stderr
    with pytest.raises(AttributeError):
        compliance_mia.no_such_name  # noqa: B018


def test_same_inputs_give_the_cli_runs_assessment(memory_case, assessed, tmp_path: Path) -> None:
    """The same frames and model written as files with a YAML policy, run by the CLI: the same JSON."""
    import skops.io as sio

    case = tmp_path / "files"
    case.mkdir()
    memory_case.members.to_parquet(case / "members.parquet", index=False)
    memory_case.non_members.to_parquet(case / "non_members.parquet", index=False)
    memory_case.population.to_parquet(case / "population.parquet", index=False)
    sio.dump(memory_case.model, case / "model.skops")
    policy = dict(memory_case.policy)
    policy["data"] = {
        **policy["data"],
        "members": "members.parquet",
        "non_members": "non_members.parquet",
        "population": "population.parquet",
    }
    (case / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    result = CliRunner().invoke(
        app, ["run", str(case / "policy.yaml"), "--out", str(tmp_path / "out"), "-q", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    cli_json = (tmp_path / "out" / "assessment.json").read_text()
    assert _comparable(assessed.to_json(), drop_files=True) == _comparable(cli_json, drop_files=True)
    # the data files are the same bytes, so their evidence hashes agree
    hashes = {f.role: f.sha256 for f in assessed.evidence.files}
    cli_hashes = {f["role"]: f["sha256"] for f in json.loads(cli_json)["evidence"]["files"]}
    for role in ("members", "non-members", "population"):
        assert hashes[role] == cli_hashes[role]


def test_kept_inputs_reproduce_byte_for_byte_with_the_cli(memory_case, assessed, tmp_path: Path) -> None:
    kept = tmp_path / "inputs"
    again = compliance_mia.assess(
        memory_case.model,
        memory_case.members,
        memory_case.non_members,
        population=memory_case.population,
        progress=None,
        keep_inputs=kept,
        **SMALL_CASE_KWARGS,
    )
    assert sorted(p.name for p in kept.iterdir()) == [
        "members.parquet",
        "model.skops",
        "non_members.parquet",
        "policy.yaml",
        "population.parquet",
    ]
    # equal model bytes (skops zip stamped with a fixed time): the same assessment ID run after run
    assert again.assessment_id == assessed.assessment_id
    result = CliRunner().invoke(
        app, ["run", str(kept / "policy.yaml"), "--out", str(tmp_path / "out"), "-q", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    cli = _comparable((tmp_path / "out" / "assessment.json").read_text(), drop_files=False)
    assert cli == _comparable(again.to_json(), drop_files=False)


def test_numpy_arrays_with_labels() -> None:
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=400, n_features=5, random_state=1)
    model = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
    seen: list[tuple[str, int, int | None]] = []
    result = compliance_mia.assess(
        model,
        (X[:200], y[:200]),
        X[200:],
        labels=(y[:200], y[200:]),
        attacks={"select": ["loss", "gap"]},
        controls={"what_if": False},
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert {a.name for a in result.attacks} == {"loss", "gap"}
    assert result.data.n_members == 200 and result.data.feature_names == [f"x{i}" for i in range(5)]
    assert any(stage.startswith("Running") for stage, _, _ in seen)
    assert result.records and all(r.record_id[0] in "MN" for r in result.records)


def test_policy_mistakes_name_the_field_not_a_temporary_file(memory_case) -> None:
    with pytest.raises(PolicyError) as info:
        compliance_mia.assess(
            memory_case.model,
            memory_case.members,
            memory_case.non_members,
            label_column="diagnosis",
            exposure="probs",
            progress=None,
        )
    text = str(info.value)
    assert "exposure.outputs" in text and "probs" in text
    assert "policy.yaml" not in text and "compliance-mia-" not in text


def test_missing_labels_are_explained(memory_case) -> None:
    with pytest.raises(ValueError, match="label_column"):
        compliance_mia.assess(memory_case.model, memory_case.members, memory_case.non_members, progress=None)
    with pytest.raises(ValueError, match="2 labels"):
        compliance_mia.assess(memory_case.model, np.zeros((3, 2)), np.zeros((3, 2)), labels=([0, 1], [0, 1, 0]))


def test_run_a_policy_built_in_python(small_case: Path) -> None:
    folder = small_case.parent
    policy = compliance_mia.Policy(
        system={"name": "Tumour triage model", "owner": "Oncology ML", "assessment_type": "ad-hoc"},
        model={"format": "skops", "artifact": folder / "model.skops"},
        data={
            "members": folder / "members.csv",
            "non_members": folder / "non_members.csv",
            "id_column": "record_id",
            "label_column": "diagnosis",
            "exclude_columns": ["site"],
            "categories": ["health"],
            "data_subjects": 300,
        },
        exposure={"outputs": "label", "access": "internal"},
        attacks={"select": ["gap"]},
        controls={"what_if": False},
    )
    result = compliance_mia.run(policy, progress=None)
    assert [a.name for a in result.attacks] == ["gap"]
    assert result.evidence.command == "compliance_mia.run(policy)"
    bad = policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"select": ["lossy"]})})
    with pytest.raises(PolicyError, match="did you mean 'loss'"):
        compliance_mia.run(bad, progress=None)


def test_load_policy_and_run_a_file(small_case: Path) -> None:
    policy = compliance_mia.load_policy(small_case)
    assert isinstance(policy, compliance_mia.Policy)
    assert policy.exposure.outputs == "probabilities"


def test_docstring_examples_run(small_case: Path) -> None:
    import compliance_mia.api._assess as assess_module
    import compliance_mia.api.templates as templates_module

    for module in (compliance_mia, assess_module, templates_module):
        failures, _ = doctest.testmod(module, extraglobs={"example_policy": small_case}, optionflags=doctest.ELLIPSIS)
        assert failures == 0, module.__name__


def test_named_model_inputs_are_the_features(memory_case) -> None:
    """A model fitted on named columns: extra columns in the frames are not taken as inputs."""
    result = compliance_mia.assess(
        memory_case.model,
        memory_case.members,
        memory_case.non_members,
        label_column="diagnosis",
        attacks={"select": ["loss"]},
        controls={"what_if": False},
        progress=None,
    )
    assert "site" not in result.data.feature_names
    assert result.data.feature_names == list(memory_case.model.feature_names_in_)

"""A few hostile inputs through the real command line: exit codes, located messages, the right IDs written."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cases import write_small_case


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compliance_mia", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def zero_padded_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    policy = write_small_case(tmp_path_factory.mktemp("zeros"), n_members=120, n_non_members=120, n_population=160)
    for name in ("members.csv", "non_members.csv", "population.csv"):
        path = policy.parent / name
        frame = pd.read_csv(path, dtype={"record_id": str})
        frame["record_id"] = [f"{int(r[1:]):06d}" for r in frame["record_id"]]  # R00042 -> 000042
        frame.to_csv(path, index=False)
    return policy


@pytest.mark.slow
def test_zero_padded_ids_are_written_as_given(zero_padded_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _cli("run", str(zero_padded_case), "--out", str(out), "-f", "csv", "-f", "json", "--quiet")
    assert proc.returncode in (0, 1), proc.stderr
    expected = set(pd.read_csv(zero_padded_case.parent / "members.csv", dtype=str)["record_id"])
    expected |= set(pd.read_csv(zero_padded_case.parent / "non_members.csv", dtype=str)["record_id"])
    with (out / "data-subject-risk.csv").open(encoding="utf-8", newline="") as fh:
        written = [row["record_id"] for row in csv.DictReader(fh)]
    assert written and set(written) <= expected
    assert all(len(i) == 6 for i in written)
    ids = {r["record_id"] for r in json.loads((out / "assessment.json").read_text(encoding="utf-8"))["records"]}
    assert ids <= expected and any(i.startswith("0000") for i in ids)


def test_infinite_feature_exits_2_located_and_writes_nothing(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case", n_members=60, n_non_members=60, n_population=80)
    lines = (policy.parent / "non_members.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fields = lines[4].split(",")
    fields[header.index("mean_radius")] = "inf"
    lines[4] = ",".join(fields)
    (policy.parent / "non_members.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _cli("run", str(policy), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "non_members.csv:5: mean_radius: 1 infinite value(s)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_same_records_under_new_ids_exit_2(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case", n_members=60, n_non_members=60, n_population=80)
    members = pd.read_csv(policy.parent / "members.csv", dtype={"record_id": str})
    non_members = pd.read_csv(policy.parent / "non_members.csv", dtype={"record_id": str})
    copy = members.iloc[:5].copy()
    copy["record_id"] = [f"NEW{i}" for i in range(5)]
    pd.concat([non_members, copy], ignore_index=True).to_csv(policy.parent / "non_members.csv", index=False)
    out = tmp_path / "out"
    proc = _cli("run", str(policy), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "non_members.csv:62: records with identical feature values" in proc.stderr
    assert "5 between members and non-members" in proc.stderr
    assert not out.exists()


def test_labels_coded_differently_from_the_model_exit_2(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case", n_members=60, n_non_members=60, n_population=80)
    for name in ("members.csv", "non_members.csv", "population.csv"):
        path = policy.parent / name
        frame = pd.read_csv(path, dtype={"record_id": str})
        frame["diagnosis"] = frame["diagnosis"].map({"benign": "no", "malignant": "yes"})
        frame.to_csv(path, index=False)
    out = tmp_path / "out"
    proc = _cli("run", str(policy), "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "members.csv:2: diagnosis: 60 members record(s) have a label that is not one of the model's classes" in (
        proc.stderr
    )
    assert "'benign', 'malignant'" in proc.stderr
    assert not out.exists()

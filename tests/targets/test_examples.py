"""The target examples under policies/examples/: each validates, and each runs end to end.

The end-to-end runs use the committed example files (target-demo/) with the
effort turned down (fewer bootstrap resamples, two reference models, two
perturbed queries per record) so the suite stays fast; the policies as
shipped were run in full by hand (see docs/targets.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compliance_mia.runner import load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "policies" / "examples"
TARGET_EXAMPLES = [
    "onnx-target.yaml",
    "http-target.yaml",
    "predictions-file.yaml",
    "pickle-trusted.yaml",
    "blackbox-surrogate.yaml",
]


@pytest.mark.parametrize("name", TARGET_EXAMPLES)
def test_example_policy_validates(name) -> None:
    policy = load_policy(EXAMPLES / name)
    assert policy.system.name
    for path in (policy.data.members, policy.data.non_members, policy.data.population):
        assert path is not None and path.is_file()


def test_committed_demo_files_are_small() -> None:
    files = list((EXAMPLES / "target-demo").iterdir())
    names = {f.name for f in files}
    assert names >= {"members.csv", "model.onnx", "model.joblib", "predictions.csv"}
    assert sum(f.stat().st_size for f in files) < 2_000_000


def _quick(policy):
    """The example policy with the effort turned down for the test suite."""
    attacks = policy.attacks.model_copy(
        update={
            "label_only_queries": 2,
            "reference_models": policy.attacks.reference_models.model_copy(
                update={"count": 2, "backend": "sequential"}
            ),
        }
    )
    statistics = policy.statistics.model_copy(update={"bootstrap_resamples": 200})
    return policy.model_copy(update={"attacks": attacks, "statistics": statistics})


def _run(name: str, policy=None):
    from compliance_mia.runner import run_assessment

    path = EXAMPLES / name
    policy = _quick(policy or load_policy(path))
    return run_assessment(policy, policy_path=path)


def _plan(assessment) -> dict[str, tuple[bool, str]]:
    return {a.name: (a.selected, a.reason) for a in assessment.plan.attacks}


@pytest.fixture(scope="module", autouse=True)
def _runner_available():
    pytest.importorskip("compliance_mia.runner", reason="the runner is not in this checkout yet")


@pytest.mark.slow
def test_onnx_example_end_to_end() -> None:
    pytest.importorskip("onnxruntime")
    assessment = _run("onnx-target.yaml")
    assert assessment.model.format == "onnx" and "ONNX model" in assessment.model.estimator
    assert assessment.model.classes == ["benign", "malignant"]
    assert assessment.model.surrogate is None
    plan = _plan(assessment)
    needs_refs = [a for a in assessment.plan.attacks if a.needs_reference_models]
    assert needs_refs and all(not a.selected and "cannot be cloned" in a.reason for a in needs_refs)
    assert plan["loss"][0] and assessment.attack("loss").metrics.auc.estimate > 0.5
    assert assessment.evidence.target_queries >= 569


@pytest.mark.slow
def test_blackbox_surrogate_example_end_to_end() -> None:
    pytest.importorskip("onnxruntime")
    assessment = _run("blackbox-surrogate.yaml")
    assert assessment.model.surrogate == "RandomForestClassifier"
    refs = assessment.plan.reference_models
    assert refs is not None and refs.surrogate and refs.estimator == "RandomForestClassifier"
    ran = [o for o in assessment.attacks if o.reference_models > 0]
    assert ran, "an attack with (surrogate) reference models should have run"


@pytest.mark.slow
def test_predictions_example_end_to_end() -> None:
    assessment = _run("predictions-file.yaml")
    assert assessment.model.format == "predictions"
    assert assessment.model.estimator == "black box (predictions file predictions.csv)"
    assert assessment.model.surrogate == "RandomForestClassifier"
    perturbing = [a for a in assessment.plan.attacks if "arbitrary_queries" in a.requires]
    assert perturbing and all(not a.selected for a in perturbing)
    assert all("new (perturbed) inputs" in a.reason for a in perturbing)
    assert assessment.evidence.target_queries == 569  # every record looked up once
    assert any(f.role == "predictions" for f in assessment.evidence.files)


@pytest.mark.slow
def test_pickle_example_end_to_end_is_flagged() -> None:
    assessment = _run("pickle-trusted.yaml")
    assert assessment.model.unsafe_load is True and assessment.model.format == "joblib"
    assert any("pickle" in w and "executes code" in w for w in assessment.warnings)
    refs = assessment.plan.reference_models
    assert refs is None or not refs.surrogate  # a real clone of the unpickled model


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a dev dependency
        return ""
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


@pytest.mark.slow
def test_http_example_end_to_end_and_the_key_never_leaks(api_factory, secret, fault,
                                                           tmp_path) -> None:
    """The HTTP example against a loopback API, through the CLI, with faults on the way.

    The API key is set in the environment; afterwards every file written
    (report and twins, cache) and everything printed or logged is searched for it.
    """
    env_name, key = secret
    server = api_factory(layout="demo", token=key)
    server.faults.extend([fault(status=503), fault(status=429, retry_after="0")])
    doc = yaml.safe_load((EXAMPLES / "http-target.yaml").read_text(encoding="utf-8"))
    doc["model"]["http"].update(url=server.url, auth_env=env_name, backoff_seconds=0.05)
    for role in ("members", "non_members", "population"):
        doc["data"][role] = str(EXAMPLES / doc["data"][role])
    doc["attacks"]["label_only_queries"] = 2
    doc["attacks"]["reference_models"]["count"] = 2
    doc["statistics"]["bootstrap_resamples"] = 200
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert key not in policy.read_text(encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, env_name: key, "COMPLIANCE_MIA_CACHE": str(cache), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "compliance_mia", "--debug", "run", str(policy), "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]

    # the credential was really used ...
    assert server.seen and all(s.headers.get("Authorization") == f"Bearer {key}"
                               for s in server.seen)
    # ... and appears nowhere the tool wrote or printed
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != policy]
    assert any(p.name == "assessment.json" for p in written) and len(written) >= 5
    for text in (proc.stdout, proc.stderr):
        assert key not in text
    assert "DEBUG" in proc.stderr or "INFO" in proc.stderr or proc.stderr.strip(), "expected logs"
    for path in written:
        assert key.encode() not in path.read_bytes(), path
        if path.suffix == ".pdf":
            assert key not in _pdf_text(path), path

    assessment = json.loads((out / "assessment.json").read_text(encoding="utf-8"))
    assert assessment["model"]["format"] == "http"
    assert assessment["model"]["estimator"].startswith("black box (prediction API at http://127.0.0.1")
    # every record answered was counted: audit + population + perturbed queries
    assert assessment["evidence"]["target_queries"] == server.answered_records >= 569

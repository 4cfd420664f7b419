"""MLflow: figures as metrics, the policy as params (never secrets), the evidence as artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

mlflow = pytest.importorskip("mlflow")

from compliance_mia.cli import app  # noqa: E402
from compliance_mia.integrations.mlflow import log_assessment, policy_params  # noqa: E402


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # a local file store, as a laptop without a tracking server has (MLflow 3 asks for the opt-in)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    old = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    yield uri
    if mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(old)


def _artifacts(client, run_id: str) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id, "compliance-mia")}


def test_log_to_the_active_run(assessed, tracking) -> None:
    from mlflow.tracking import MlflowClient

    with mlflow.start_run() as run:
        run_id = log_assessment(assessed)
    assert run_id == run.info.run_id
    client = MlflowClient()
    data = client.get_run(run_id).data
    assert data.metrics["mia.auc"] == pytest.approx(assessed.headline.auc.estimate)
    assert data.metrics["mia.auc_lower"] <= data.metrics["mia.auc"] <= data.metrics["mia.auc_upper"]
    assert f"mia.attack.{assessed.headline.strongest_attack}.auc" in data.metrics
    assert data.params["exposure.outputs"] == "probabilities"
    assert data.tags["compliance_mia.rating"] == assessed.risk.level
    assert _artifacts(client, run_id) == {
        "compliance-mia/report.pdf",
        "compliance-mia/assessment.json",
        "compliance-mia/oscal-assessment-results.json",
    }


def test_without_an_active_run_one_is_started_and_ended(assessed, tracking) -> None:
    run_id = log_assessment(assessed, formats=["json"])
    assert mlflow.active_run() is None
    assert mlflow.get_run(run_id).info.status == "FINISHED"


def test_policy_params_never_carry_secrets(small_case: Path) -> None:
    import compliance_mia
    from compliance_mia.policy.schema import HttpTargetSpec

    policy = compliance_mia.load_policy(small_case)
    http = policy.model_copy(
        update={
            "model": policy.model.model_copy(
                update={
                    "format": "http",
                    "http": HttpTargetSpec(
                        url="https://api.example/predict",
                        auth_env="SECRET_TOKEN_VAR",
                        request_template={"token": "abc", "instances": "$records"},
                    ),
                }
            )
        }
    )
    params = policy_params(http)
    text = repr(params)
    assert "SECRET_TOKEN_VAR" not in text and "abc" not in text and "auth" not in text
    assert params["model.http.url"] == "https://api.example/predict"
    assert params["data.members"] == "members.csv"  # file names, not local paths
    assert all(len(v) <= 500 for v in params.values())


def test_cli_run_mlflow(small_case: Path, tmp_path: Path, tracking, monkeypatch) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    result = CliRunner().invoke(
        app, ["run", str(small_case), "--out", str(tmp_path / "out"), "-q", "-f", "json", "--mlflow"]
    )
    assert result.exit_code == 0, result.output
    run_id = result.output.split("logged to MLflow run ")[1].split()[0]
    data = MlflowClient().get_run(run_id).data
    assert "mia.auc" in data.metrics
    assert data.params["system.name"] == "Tumour triage model"
    assert data.params["attacks.reference_models.count"] == "2"
    assert "compliance-mia/report.pdf" in _artifacts(MlflowClient(), run_id)

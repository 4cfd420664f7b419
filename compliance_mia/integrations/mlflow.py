"""Log an assessment to MLflow: headline figures as metrics, the policy as params, the evidence as artifacts.

Needs the optional extra: ``pip install "compliance-mia[mlflow]"``.

========================  ======================================================
what                      logged as
========================  ======================================================
headline figures          metrics ``mia.auc``, ``mia.auc_lower``/``_upper``,
                          ``mia.tpr_at_1pct_fpr`` (+ interval), ``mia.epsilon_lower``,
                          ``mia.risk_level_index``, ``mia.within_appetite``, and
                          ``mia.attack.<name>.auc`` per attack
the policy                params, flattened (``exposure.outputs``...); credentials,
                          headers and request templates never
report.pdf, assessment.json,
OSCAL results             artifacts under ``compliance-mia/``
========================  ======================================================
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ARTIFACT_FORMATS", "assessment_metrics", "log_assessment", "policy_params", "require_mlflow"]

#: formats logged as artifacts (names of :data:`compliance_mia.report.FORMATS`)
ARTIFACT_FORMATS = ("pdf", "json", "oscal")
#: policy keys never logged: credentials, where they live, and what is sent with them
_SECRET = re.compile(r"auth|secret|token|password|passwd|credential|api_?key|header|request_template", re.I)
_PARAM_LIMIT = 500  # MLflow's smallest supported parameter value length


def require_mlflow() -> Any:
    """The ``mlflow`` module, or an InputError saying how to install the extra."""
    try:
        import mlflow
    except ImportError:
        from compliance_mia.errors import InputError

        raise InputError('MLflow is not installed; install the extra: pip install "compliance-mia[mlflow]"') from None
    return mlflow


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def assessment_metrics(assessment: Any) -> dict[str, float]:
    """The headline figures as MLflow metrics (only those the sample supports)."""
    from compliance_mia import figures

    metrics: dict[str, float] = {}
    risk = assessment.risk
    if risk.level in risk.levels:
        metrics["mia.risk_level_index"] = float(list(risk.levels).index(risk.level))
    if risk.within_appetite is not None:
        metrics["mia.within_appetite"] = 1.0 if risk.within_appetite else 0.0
    if assessment.residual_risk is not None and assessment.residual_risk.level in assessment.residual_risk.levels:
        residual = assessment.residual_risk
        metrics["mia.residual_level_index"] = float(list(residual.levels).index(residual.level))
    head = assessment.headline
    if head is not None:
        if head.auc.determinable:
            for suffix, value in (("", head.auc.estimate), ("_lower", head.auc.lower), ("_upper", head.auc.upper)):
                if _finite(value):
                    metrics[f"mia.auc{suffix}"] = float(value)
        point = figures.point_at(head.tpr_at_fpr, 0.01)
        if point is not None and point.measurable and point.tpr.determinable:
            tpr = point.tpr
            for suffix, value in (("", tpr.estimate), ("_lower", tpr.lower), ("_upper", tpr.upper)):
                if _finite(value):
                    metrics[f"mia.tpr_at_1pct_fpr{suffix}"] = float(value)
        if head.epsilon is not None and _finite(head.epsilon.epsilon_lower):
            metrics["mia.epsilon_lower"] = float(head.epsilon.epsilon_lower)
    for outcome in assessment.attacks:
        auc = outcome.metrics.auc
        if auc.determinable and _finite(auc.estimate):
            metrics[f"mia.attack.{outcome.name}.auc"] = float(auc.estimate)
    metrics["mia.n_members"] = float(assessment.data.n_members)
    metrics["mia.n_non_members"] = float(assessment.data.n_non_members)
    return metrics


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if _SECRET.search(str(key)):
                continue
            yield from _flatten(item, name)
    else:
        yield prefix, value


def policy_params(policy: Any) -> dict[str, str]:
    """The policy flattened to ``section.field`` params; credentials and request templates left out.

    Lists are written as comma-separated text, paths by file name only,
    long values cut to MLflow's 500-character limit; unset fields are left out.
    """
    raw = policy.model_dump(mode="json", by_alias=True, exclude_none=True)
    params: dict[str, str] = {}
    for key, value in _flatten(raw):
        if value in (None, [], {}):
            continue
        if isinstance(value, list):
            text = ", ".join(str(v) if not isinstance(v, (dict, list)) else repr(v) for v in value)
        else:
            text = str(value)
        if _is_path_field(key) and text:
            text = Path(text).name if not text.startswith("builtin:") else text
        params[key] = text[:_PARAM_LIMIT]
    return params


def _is_path_field(key: str) -> bool:
    return key.split(".")[-1] in {
        "artifact",
        "members",
        "non_members",
        "population",
        "file",
        "matrix",
        "catalogue",
        "template_dir",
        "logo",
        "previous_assessment",
        "cache_dir",
    }


def _assessment_params(assessment: Any) -> dict[str, str]:
    """What the assessment itself records, when no policy is given."""
    return {
        "system.name": assessment.system.name,
        "system.version": assessment.system.version,
        "model.format": assessment.model.format,
        "model.estimator": assessment.model.estimator,
        "data.categories": ", ".join(assessment.data.categories),
        "exposure.outputs": assessment.exposure.outputs,
        "exposure.access": assessment.exposure.access,
        "regulations": ", ".join(assessment.regulations),
        "seed": str(assessment.seed),
        "risk.scale": assessment.risk.scale,
        **({"risk.appetite": assessment.risk.appetite} if assessment.risk.appetite else {}),
    }


def _run_id(mlflow: Any, run: Any) -> tuple[str, bool]:
    """The run to log to, and whether this call started it (and must end it)."""
    if isinstance(run, str):
        return run, False
    if run is not None:
        info = getattr(run, "info", None)
        if info is None or not getattr(info, "run_id", None):
            raise TypeError(f"run: expected an MLflow run, a run id or None, got {run!r}")
        return info.run_id, False
    active = mlflow.active_run()
    if active is not None:
        return active.info.run_id, False
    return mlflow.start_run().info.run_id, True


def log_assessment(
    assessment: Any,
    *,
    run: Any = None,
    policy: Any = None,
    artifact_path: str = "compliance-mia",
    formats: Iterable[str] = ARTIFACT_FORMATS,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log an assessment to MLflow and return the run id.

    Parameters
    ----------
    assessment
        An Assessment (from :func:`compliance_mia.assess`, :func:`compliance_mia.run`
        or ``Assessment.load``).
    run
        An MLflow run (``mlflow.start_run()``), a run id, or ``None``: the active
        run, or a new run started and ended here.
    policy
        The Policy the assessment ran with, logged as params; default: the
        exposure, data categories and scope the assessment records.
    artifact_path
        Folder of the run's artifacts the documents go in.
    formats
        Report formats logged as artifacts (default PDF, JSON and OSCAL).
    tags
        Extra run tags; ``compliance_mia.rating`` and ``compliance_mia.assessment_id`` are always set.

    Examples
    --------
    >>> import mlflow                                           # doctest: +SKIP
    >>> from compliance_mia.integrations.mlflow import log_assessment
    >>> with mlflow.start_run():                                # doctest: +SKIP
    ...     log_assessment(result)
    """
    mlflow = require_mlflow()
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    from compliance_mia.report import render_all

    run_id, started = _run_id(mlflow, run)
    client = MlflowClient()
    try:
        import time

        stamp = int(time.time() * 1000)
        params = policy_params(policy) if policy is not None else _assessment_params(assessment)
        run_tags = {
            "compliance_mia.rating": assessment.risk.level,
            "compliance_mia.assessment_id": assessment.assessment_id,
            "compliance_mia.system": assessment.system.name,
            **({"compliance_mia.decision": assessment.verdict.headline[:_PARAM_LIMIT]} if assessment.verdict else {}),
            **dict(tags or {}),
        }
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in sorted(assessment_metrics(assessment).items())],
            params=[Param(k, v) for k, v in sorted(params.items())],
            tags=[RunTag(k, v) for k, v in sorted(run_tags.items())],
        )
        with tempfile.TemporaryDirectory(prefix="compliance-mia-mlflow-") as tmp:
            render_all(assessment, Path(tmp), formats=list(formats))
            client.log_artifacts(run_id, tmp, artifact_path)
    finally:
        if started:
            mlflow.end_run()
    return run_id

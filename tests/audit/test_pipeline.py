"""The audit as a policy section: run, recorded in the Assessment, judged by the matrix, rendered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from cases import write_small_case

from compliance_mia.assessment import Assessment
from compliance_mia.errors import ComplianceMiaError, PolicyError
from compliance_mia.report import render_all
from compliance_mia.runner import load_policy, run_assessment

FIXED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
#: one cheap attack, no what-if: these tests are about the audit, not the attacks
FAST = {"controls": {"what_if": False}, "attacks": {"select": ["loss"]}, "statistics": {"bootstrap_resamples": 100}}


def _run(directory: Path, audit: dict | None) -> Assessment:
    overrides = dict(FAST)
    if audit is not None:
        overrides["privacy_audit"] = audit
    policy_path = write_small_case(directory, policy_overrides=overrides)
    return run_assessment(load_policy(policy_path), policy_path=policy_path, now=FIXED)


@pytest.fixture(scope="module")
def contradicted(tmp_path_factory) -> Assessment:
    return _run(tmp_path_factory.mktemp("audit"), {"claimed_epsilon": 0.5, "canaries": 300})


def test_an_overfit_model_contradicts_its_claim_in_the_assessment(contradicted):
    pa = contradicted.privacy_audit
    assert pa is not None
    assert pa.canaries == 300 and pa.claimed_epsilon == 0.5 and pa.delta == 1e-5 and pa.confidence == 0.95
    assert pa.epsilon_lower > 1.0
    assert pa.verdict == "claim contradicted"
    assert pa.estimator == "RandomForestClassifier"
    assert pa.training_records == contradicted.data.n_members + pa.canaries_included
    finding = next(f for f in contradicted.findings if f.id == "CONF-DP-CLAIM-CONTRADICTED")
    assert finding.kind == "configuration" and finding.severity == "high"
    assert finding.figures == {"privacy_audit_epsilon_lower": pa.epsilon_lower, "claimed_epsilon": 0.5}
    assert f"{pa.epsilon_lower:.2f}" in finding.detail and "0.50" in finding.detail


def test_the_audit_survives_json_and_is_rendered(contradicted, tmp_path):
    again = Assessment.from_json(contradicted.to_json())
    assert again.privacy_audit == contradicted.privacy_audit
    render_all(contradicted, tmp_path, formats=["json", "markdown", "html"])
    data = json.loads((tmp_path / "assessment.json").read_text(encoding="utf-8"))
    assert data["privacy_audit"]["verdict"] == "claim contradicted"
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "DP claim audit (one run)" in summary and "claim contradicted" in summary
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="results-privacy-audit"' in html
    assert "lower bound" in html and "does <b>not</b> prove the claim" in html
    pa = contradicted.privacy_audit
    assert f"{pa.correct} of {pa.guesses} guesses were right" in html


def test_no_audit_unless_asked(tmp_path):
    a = _run(tmp_path, None)
    assert a.privacy_audit is None
    assert not any(f.id == "CONF-DP-CLAIM-CONTRADICTED" for f in a.findings)
    render_all(a, tmp_path / "out", formats=["html"])
    assert "results-privacy-audit" not in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_claim_the_audit_cannot_reach_is_not_contradicted(tmp_path):
    audit = {"claimed_epsilon": 50, "canaries": 100, "guesses": 20, "delta": 0}
    a = _run(tmp_path, {**audit, "estimator": {"class": "sklearn.naive_bayes.GaussianNB"}})
    pa = a.privacy_audit
    assert pa.estimator == "GaussianNB"  # the named recipe, not the assessed forest
    assert pa.verdict == "claim not contradicted" and pa.epsilon_lower < 50
    assert pa.guess_grid == [20] and pa.guesses_in == pa.guesses_out == 20
    assert not any(f.id == "CONF-DP-CLAIM-CONTRADICTED" for f in a.findings)


def test_too_few_population_records_is_a_located_error(tmp_path):
    with pytest.raises(PolicyError) as err:
        _run(tmp_path, {"claimed_epsilon": 1, "canaries": 5000, "canary_source": "population"})
    text = str(err.value)
    assert "privacy_audit.canaries" in text and "400" in text and "canary_source: synthetic" in text


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"claimed_epsilon": 0}, "claimed_epsilon"),
        ({"canaries": 1000}, "claimed_epsilon"),
        ({"claimed_epsilon": 1, "canaries": 5}, "canaries"),
        ({"claimed_epsilon": 1, "canary_source": "made-up"}, "canary_source"),
        ({"claimed_epsilon": 1, "extra": 1}, "extra"),
        ({"claimed_epsilon": 1, "canaries": 100, "guesses": 51}, ""),
    ],
)
def test_policy_section_is_checked_with_its_field(tmp_path, section, field):
    policy_path = write_small_case(tmp_path)
    raw = yaml.safe_load(policy_path.read_text(encoding="utf-8"))
    raw["privacy_audit"] = section
    policy_path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    with pytest.raises(ComplianceMiaError) as err:
        load_policy(policy_path)
    assert f"privacy_audit.{field}".rstrip(".") in str(err.value)


def test_a_black_box_without_a_named_recipe_is_a_located_error(small_case):
    from compliance_mia.audit import run_privacy_audit
    from compliance_mia.policy.schema import PrivacyAuditSpec
    from compliance_mia.runner.preparation import prepare

    class BlackBox:
        """What an HTTP or ONNX target offers the audit: no copy of its estimator."""

        def estimator_template(self):
            return None

    prepared = prepare(load_policy(small_case))
    try:
        with pytest.raises(PolicyError) as err:
            run_privacy_audit(PrivacyAuditSpec(claimed_epsilon=1), target=BlackBox(), data=prepared.data, seed=1)
    finally:
        prepared.target.close()
    assert "privacy_audit.estimator" in str(err.value) and "cannot be copied" in str(err.value)

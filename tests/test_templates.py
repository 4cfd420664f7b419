"""Policy templates: listed, written by `compliance-mia init`, valid, and each runs end to end.

Each template names the built-in example's files, so it runs as written;
here each run is trimmed (two attacks, two reference models, fewer bootstrap
resamples) so the four together take well under a minute.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compliance_mia.api.templates import get_template, list_templates
from compliance_mia.cli import app

runner = CliRunner()

#: attacks kept per template: one cheap attack and one the exposure characterises
FAST_ATTACKS = {
    "hospital-diagnostic-hipaa": ["loss", "lira-offline"],
    "credit-scoring-gdpr": ["confidence", "rmia-offline"],
    "partner-model-file": ["loss", "calibrated-loss"],
    "public-label-only": ["gap", "label-robustness"],
}


def test_the_four_common_cases_ship() -> None:
    names = {t.name for t in list_templates()}
    assert set(FAST_ATTACKS) <= names
    for template in list_templates():
        assert template.title and not template.title.startswith(template.name)
        assert template.text.startswith("# title:")


def test_init_list_shows_every_template() -> None:
    result = runner.invoke(app, ["init", "--list"])
    assert result.exit_code == 0, result.output
    for name in FAST_ATTACKS:
        assert name in result.output


def test_init_writes_the_template_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "policy.yaml"
    result = runner.invoke(app, ["init", "--template", "credit-scoring-gdpr", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == get_template("credit-scoring-gdpr").text
    again = runner.invoke(app, ["init", "--template", "public-label-only", "--out", str(target)])
    assert again.exit_code == 2
    assert target.read_text() == get_template("credit-scoring-gdpr").text
    forced = runner.invoke(app, ["init", "--template", "public-label-only", "--out", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "label" in yaml.safe_load(target.read_text())["exposure"]["outputs"]


def test_init_unknown_template_names_the_available_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--template", "credit-scoring", "--out", str(tmp_path / "p.yaml")])
    assert result.exit_code == 2
    assert "did you mean 'credit-scoring-gdpr'" in result.output
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize("name", sorted(FAST_ATTACKS))
def test_template_validates_as_written(name: str, tmp_path: Path) -> None:
    target = tmp_path / "policy.yaml"
    assert runner.invoke(app, ["init", "-t", name, "-o", str(target)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(target)])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAST_ATTACKS))
def test_template_runs_end_to_end_on_the_builtin_data(name: str, tmp_path: Path) -> None:
    doc = yaml.safe_load(get_template(name).text)
    doc["attacks"] = {
        **doc.get("attacks", {}),
        "select": FAST_ATTACKS[name],
        "reference_models": {"count": 2, "backend": "sequential"},
        "label_only_queries": 4,
    }
    doc["statistics"] = {"bootstrap_resamples": 200}
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "report"
    result = runner.invoke(app, ["run", str(policy), "--out", str(out), "--quiet", "-f", "json", "-f", "md"])
    assert result.exit_code == 0, result.output
    evidence = json.loads((out / "assessment.json").read_text())
    assert sorted(a["name"] for a in evidence["attacks"]) == sorted(FAST_ATTACKS[name])
    assert evidence["exposure"]["outputs"] == doc["exposure"]["outputs"]
    assert evidence["regulations"] == doc["regulations"]
    assert evidence["risk"]["level"] in evidence["risk"]["levels"]
    assert (out / "summary.md").read_text().strip()

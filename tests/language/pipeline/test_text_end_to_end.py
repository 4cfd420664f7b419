"""A text policy run end to end through the CLI: a memorising model is caught, a shifted sample is named as such.

The target is a real memorising language model (a character 5-gram fitted on
the members, tests/language/pipeline/pipeline_ngram.py) reached the way an
owner who cannot share the model would: a per-token log-probability file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pypdf
import pytest
from pipeline_ngram import write_text_case
from typer.testing import CliRunner

from compliance_mia.assessment import Assessment
from compliance_mia.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def memorised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Assessment]:
    folder = tmp_path_factory.mktemp("text-case")
    policy = write_text_case(folder)
    out = folder / "report"
    result = runner.invoke(app, ["run", str(policy), "--out", str(out), "-q", "-f", "json", "-f", "pdf", "-f", "md"])
    assert result.exit_code == 0, result.output
    return out, Assessment.load(out / "assessment.json")


def test_attacks_detect_the_memorising_model_and_the_blind_baseline_does_not_fire(
    memorised: tuple[Path, Assessment],
) -> None:
    _, a = memorised
    assert a.task == "text-generation" and a.model.task == "text-generation"
    assert a.blind_baseline is not None and not a.blind_baseline.distinguishes
    assert a.blind_baseline.outcome.metrics.auc.lower < 0.5 < a.blind_baseline.outcome.metrics.auc.upper
    assert a.headline is not None and a.headline.auc.scope == "simultaneous"
    assert a.headline.auc.lower > 0.8  # the 5-gram model memorised its members
    assert all(o.metrics.n_members == 160 and o.metrics.n_non_members == 160 for o in a.attacks)
    assert a.verdict is not None and a.verdict.rule_id != "DEC-INVALID-SAMPLE"
    assert "LIK-DISTRIBUTION-SHIFT" not in {r.rule_id for r in a.risk.rules}
    assert "LEAK-MEMBERSHIP" in {f.id for f in a.findings}
    assert a.records and a.records[0].record_id.startswith("m-")  # records by ID
    assert {s.column for s in a.slices} == {"ward"}
    assert not any("training_recipes" in c.why for c in a.controls)  # a tabular-only hint
    assert {c.control_id for c in a.controls} >= {"text-generated-only", "text-dp-finetuning"}
    assert not {"output-label-only", "output-rounding", "regularisation"} & {c.control_id for c in a.controls}


def test_output_controls_are_measured_on_poorer_exposures(memorised: tuple[Path, Assessment]) -> None:
    _, a = memorised
    labels = {w.control_id: w for w in a.what_if}
    assert set(labels) == {"text-no-top-logprobs", "text-generated-only"}
    from compliance_mia.language.attacks import text_attacks

    needs = {name: cls.spec.needs for name, cls in text_attacks().items()}
    no_top = labels["text-no-top-logprobs"]
    assert no_top.attacks_run and all(needs[n] != "top_k_logprobs" for n in no_top.attacks_run)
    assert any(needs[o.name] == "top_k_logprobs" for o in a.attacks)  # ran under the deployment's exposure
    assert no_top.auc is not None and no_top.auc.estimate > 0.8
    gen = labels["text-generated-only"]
    assert gen.auc is None and "a log-probability file cannot produce" in gen.note
    assert gen.residual is None  # not measured is not a lower risk
    assert a.residual_risk is not None and a.residual_risk.rules[-1].inputs["control"] != "text-generated-only"


def test_the_pdf_and_summary_read_right_for_text(memorised: tuple[Path, Assessment]) -> None:
    out, _ = memorised
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(out / "report.pdf").pages)
    flat = " ".join(text.split())
    assert "Validity check passed" in flat
    assert flat.index("5.0 Before any figure") < flat.rindex("5.1 Attack success")
    assert "Class balance" not in flat and "Input columns" not in flat and "Predicted classes" not in flat
    assert "How the attacks work on texts" in flat
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert md.index("Validity check passed") < md.index("| Figure | Value |")


def test_a_shifted_sample_is_caught_and_the_report_says_the_figures_are_not_evidence(tmp_path: Path) -> None:
    policy = write_text_case(tmp_path, shifted=True)
    out = tmp_path / "report"
    result = runner.invoke(app, ["run", str(policy), "--out", str(out), "-q", "-f", "json", "-f", "html"])
    assert result.exit_code == 0, result.output
    a = Assessment.load(out / "assessment.json")
    assert a.blind_baseline is not None and a.blind_baseline.distinguishes
    assert a.blind_baseline.outcome.metrics.auc.lower > 0.9
    assert a.verdict is not None and a.verdict.rule_id == "DEC-INVALID-SAMPLE"
    assert [r.rule_id for r in a.risk.rules if r.dimension == "likelihood"][0] == "LIK-DISTRIBUTION-SHIFT"
    ids = [f.id for f in a.findings]
    assert ids[0] == "DATA-DISTRIBUTION-SHIFT" and "LEAK-MEMBERSHIP" not in ids
    assert not a.what_if  # output controls are not measured on figures that measure nothing
    html = " ".join((out / "report.html").read_text(encoding="utf-8").split())
    assert "Validity check failed: member and non-member texts differ in distribution." in html
    assert "not evidence of memorisation" in html
    assert json.loads((out / "assessment.json").read_text())["blind_baseline"]["distinguishes"] is True
    # the terminal summary says it too, before any attack figure
    from compliance_mia.report.console import summary_text

    lines = summary_text(a).splitlines()
    blind = next(i for i, line in enumerate(lines) if line.startswith("Blind baseline"))
    strongest = next(i for i, line in enumerate(lines) if line.startswith("Strongest attack"))
    assert blind < strongest and "NOT evidence of memorisation" in lines[blind]

"""README command 1, as a new user runs it: `compliance-mia demo --out DIR` gives a real report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from compliance_mia.assessment import Assessment


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo-report"
    proc = subprocess.run(
        [sys.executable, "-m", "compliance_mia", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    (out / "stdout.txt").write_text(proc.stdout)
    return out


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_demo_writes_every_format_and_the_policy_it_used(demo: Path) -> None:
    for name in (
        "assessment.json",
        "report.html",
        "report.pdf",
        "oscal-assessment-results.json",
        "risk-register.csv",
        "data-subject-risk.csv",
        "summary.md",
    ):
        assert (demo / name).stat().st_size > 0, name
    for name in ("policy.yaml", "model.skops", "members.csv", "non_members.csv", "population.csv"):
        assert (demo / "inputs" / name).exists(), name
    a = Assessment.load(demo / "assessment.json")
    assert a.data.n_members == 5000 and a.data.n_non_members == 5000
    assert "racial_ethnic_origin" in a.data.categories


def test_the_summary_printed_matches_the_assessment(demo: Path) -> None:
    a = Assessment.load(demo / "assessment.json")
    stdout = (demo / "stdout.txt").read_text()
    assert a.risk.level.upper() in stdout
    assert f"{a.headline.auc.estimate:.3f}" in stdout
    assert str(demo / "report.pdf") in stdout.replace("\n", "")


def test_demo_model_leaks_and_the_strongest_attack_is_state_of_the_art(demo: Path) -> None:
    a = Assessment.load(demo / "assessment.json")
    names = {o.name for o in a.attacks}
    assert {"lira-offline", "rmia-offline", "shadow", "loss", "calibrated-loss", "gap", "label-robustness"} <= names
    assert all(o.reference_models == 8 for o in a.attacks if o.name in {"lira-offline", "rmia-offline"})
    assert a.headline.auc.lower > 0.75  # an unregularised forest on 5,000 records leaks
    loss = a.attack("loss").metrics.auc.estimate
    assert a.headline.auc.estimate > loss  # reference-model attacks beat the loss threshold
    recipe = next(w for w in a.what_if if w.kind == "training")
    assert recipe.auc.estimate < a.headline.auc.estimate  # regularisation measurably helps
    assert a.residual_risk is not None


def test_pdf_is_multi_page_and_its_headline_figures_match_the_json(demo: Path) -> None:
    a = Assessment.load(demo / "assessment.json")
    reader = pypdf.PdfReader(demo / "report.pdf")
    assert len(reader.pages) >= 10
    text = _pdf_text(demo / "report.pdf")
    assert a.system.name in text
    assert f"{a.headline.auc.estimate:.3f}" in text
    one_pct = next(op for op in a.headline.tpr_at_fpr if abs(op.fpr - 0.01) < 1e-12)
    assert f"{one_pct.tpr.estimate:.1%}" in text
    for rec in a.records[:5]:
        assert rec.record_id in text
    # the evidence travels with the document
    attached = reader.attachments["assessment.json"][0]
    assert json.loads(attached) == json.loads((demo / "assessment.json").read_text())


def test_render_from_the_json_alone_reproduces_the_report(demo: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "compliance_mia", "render", str(demo / "assessment.json"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("report.html", "report.pdf", "summary.md", "risk-register.csv", "oscal-assessment-results.json"):
        assert (tmp_path / name).read_bytes() == (demo / name).read_bytes(), name


def test_data_subject_register_names_records_by_id_only(demo: Path) -> None:
    header, *rows = (demo / "data-subject-risk.csv").read_text().splitlines()
    assert header.split(",")[:2] == ["rank", "record_id"] or "record_id" in header
    members = (demo / "inputs" / "members.csv").read_text()
    assert rows and all(row.split(",")[1].startswith("HI-") or "HI-" in row for row in rows)
    # no column of the source data appears in the register
    for column in members.splitlines()[0].split(","):
        if column != "record_id":
            assert column not in header

"""The Assessment as Python callers get it: summary, documents, the Jupyter card, loading."""

from __future__ import annotations

from pathlib import Path

import compliance_mia
from compliance_mia.api._progress import CallbackProgress, SilentProgress, TqdmProgress, make_progress

EVERY_FILE = {
    "assessment.json",
    "report.html",
    "report.pdf",
    "oscal-assessment-results.json",
    "risk-register.csv",
    "data-subject-risk.csv",
    "summary.md",
}


def test_summary_reads_like_the_console(assessed) -> None:
    from compliance_mia.report.console import summary_text

    text = assessed.summary()
    assert text == summary_text(assessed)  # the very rows the CLI prints
    assert "Overall rating" in text and assessed.risk.level.upper() in text
    assert f"({assessed.headline.strongest_attack})" in text
    assert "AUC" in text and "95%" in text
    assert "Members identified at 1% false positives" in text
    if assessed.verdict is not None:
        assert text.splitlines()[0].endswith(assessed.verdict.headline)


def test_jupyter_card_is_compact_and_escaped(assessed) -> None:
    card = assessed._repr_html_()
    assert card.startswith("<div") and "<html" not in card
    assert assessed.risk.level.upper() in card and "AUC" in card
    assert "Top findings" in card
    assert len(card) < 6000


def test_documents(assessed, tmp_path: Path) -> None:
    assert "<html" in assessed.to_html().lower()
    pdf = assessed.to_pdf(tmp_path / "sub" / "report.pdf")
    assert pdf.startswith(b"%PDF") and (tmp_path / "sub" / "report.pdf").read_bytes() == pdf
    assert assessed.to_markdown().strip()
    written = assessed.save(tmp_path / "all")
    assert {p.name for p in written} == EVERY_FILE
    loaded = compliance_mia.Assessment.load(tmp_path / "all" / "assessment.json")
    assert isinstance(loaded, compliance_mia.Assessment)
    assert loaded.to_json() == assessed.to_json()


def test_progress_choices() -> None:
    assert isinstance(make_progress(None), SilentProgress)
    assert isinstance(make_progress(False), SilentProgress)
    assert isinstance(make_progress("tqdm"), TqdmProgress)
    assert isinstance(make_progress("auto"), TqdmProgress)
    calls = []
    cb = make_progress(lambda *a: calls.append(a))
    assert isinstance(cb, CallbackProgress)
    cb.stage("step", 2)
    cb.advance()
    assert calls == [("step", 0, 2), ("step", 1, 2)]

    class Mine:
        def __init__(self) -> None:
            self.seen = []

        def stage(self, description, total=None):
            self.seen.append(description)

        def advance(self, amount=1):
            pass

    mine = Mine()
    reporter = make_progress(mine)
    reporter.stage("x")
    reporter.close()
    assert mine.seen == ["x"]

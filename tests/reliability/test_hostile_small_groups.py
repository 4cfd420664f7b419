"""A value held by a handful of people in a slice column never appears in any output (issue 12).

A rare ethnicity or a one-person site printed by value with a group size of
one singles that person out. Every output the run writes is searched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
from cases import write_small_case


def test_a_rare_slice_value_is_suppressed_in_every_output(tmp_path: Path) -> None:
    policy = write_small_case(tmp_path / "case", n_members=120, n_non_members=120, n_population=160)
    rare = "Atlantis-Rare-Group"
    for name, rows in (("members.csv", [3, 17]), ("non_members.csv", [5])):
        path = policy.parent / name
        frame = pd.read_csv(path)
        frame.loc[rows, "site"] = rare
        frame.to_csv(path, index=False)
    text = policy.read_text(encoding="utf-8")
    policy.write_text(
        text.replace("attacks:\n", "attacks:\n  select: [loss, confidence]\n", 1)
        if "attacks:\n" in text
        else text,
        encoding="utf-8",
    )
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "compliance_mia", "run", str(policy), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p for p in out.iterdir() if p.is_file())
    assert {p.name for p in written} >= {"assessment.json", "report.pdf", "report.html", "risk-register.csv"}
    for path in written:
        if path.suffix == ".pdf":
            from pypdf import PdfReader

            content = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            content = path.read_text(encoding="utf-8")
        assert rare not in content, f"{path.name} names the rare group"
    assessment = (out / "assessment.json").read_text(encoding="utf-8")
    assert "suppressed" in assessment

"""SIGINT and SIGTERM end a command with one line, exit 130 / 143, and nothing written to --out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cases import write_small_case

REPORT = ("assessment.json", "report.pdf", "report.html", "summary.md", "risk-register.csv")
REPORT_ALL = (*REPORT, "oscal-assessment-results.json", "data-subject-risk.csv")


@pytest.fixture(scope="module")
def slow_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of about ten seconds: eight reference models, no cache."""
    return write_small_case(
        tmp_path_factory.mktemp("signals"),
        n_members=200,
        n_non_members=200,
        n_population=300,
        policy_overrides={"attacks": {"reference_models": {"count": 8, "backend": "sequential", "use_cache": False}}},
    )


class _Proc:
    """A CLI subprocess whose output is collected by threads, so it can be polled for a progress line."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "200"}  # progress lines reach a pipe
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "compliance_mia", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _drain(stream, sink: list[str]) -> None:  # noqa: ANN001
        for chunk in iter(lambda: stream.read(1), ""):
            sink.append(chunk)

    def wait_for(self, text: str, timeout: float = 120) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in "".join(self.out) + "".join(self.err):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return code, "".join(self.out), "".join(self.err)


def _assert_stopped(code: int, err: str, expected: int, line: str) -> None:
    assert code == expected, err[-2000:]
    assert line in err
    assert "Traceback" not in err
    assert "Exception ignored" not in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "expected", "line"),
    [
        (signal.SIGTERM, 143, "terminated (SIGTERM); nothing was written"),
        (signal.SIGINT, 130, "interrupted (SIGINT); nothing was written"),
    ],
)
def test_signal_during_the_attacks_writes_nothing(
    slow_case: Path, tmp_path: Path, sig: int, expected: int, line: str
) -> None:
    out = tmp_path / "out"
    run = _Proc("run", str(slow_case), "--out", str(out))
    assert run.wait_for("Running"), "".join(run.err)
    run.proc.send_signal(sig)
    code, _, err = run.finish()
    _assert_stopped(code, err, expected, line)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_sigint_while_rendering_leaves_the_older_report_whole(slow_case: Path, tmp_path: Path) -> None:
    """--force into a folder with an older report, interrupted while the PDF is rendered: the old set survives."""
    out = tmp_path / "out"
    out.mkdir()
    for name in REPORT:
        (out / name).write_text(f"older {name}")
    run = _Proc("run", str(slow_case), "--out", str(out), "--force")
    assert run.wait_for("Rendering the report"), "".join(run.err)
    time.sleep(0.3)  # inside the HTML/PDF stack
    run.proc.send_signal(signal.SIGINT)
    code, _, err = run.finish()
    assert code == 130, err[-2000:]
    assert "Traceback" not in err and "Exception ignored" not in err
    if "after the report was written in full" in err:  # the signal came after the set was in place
        assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_ALL)
        assert all(not (out / name).read_text(errors="replace").startswith("older") for name in REPORT)
        return
    _assert_stopped(code, err, 130, "interrupted (SIGINT); nothing was written")
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT)  # no staging folder left behind
    for name in REPORT:
        assert (out / name).read_text() == f"older {name}"


@pytest.mark.slow
def test_sigterm_during_the_demo_leaves_no_inputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = _Proc("demo", "--out", str(out))
    assert run.wait_for("Building the demo"), "".join(run.err)
    time.sleep(0.5)
    run.proc.send_signal(signal.SIGTERM)
    code, _, err = run.finish()
    _assert_stopped(code, err, 143, "terminated (SIGTERM); nothing was written")
    assert not out.exists()


def test_a_stop_swallowed_by_c_code_is_not_reported_as_ignored() -> None:
    """An exception raised in a cffi callback is reported through sys.unraisablehook: ours stays quiet."""
    from types import SimpleNamespace

    from compliance_mia import cli

    seen: list[BaseException] = []
    hook = cli._unraisable(lambda info: seen.append(info.exc_value))
    hook(SimpleNamespace(exc_value=cli.Stopped(signal.SIGTERM)))
    other = RuntimeError("a real problem")
    hook(SimpleNamespace(exc_value=other))
    assert seen == [other]

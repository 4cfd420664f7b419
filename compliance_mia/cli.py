"""The ``compliance-mia`` command line: parse, call the library, map outcomes to exit codes.

Exit codes: 0 success; 1 the gate failed (rating at or above ``--fail-on``,
above the risk appetite, or ``diff`` found a worsening); 2 bad input (policy,
data, model, assessment file) with a located message and nothing written;
3 an internal error, which is a bug in compliance-mia; 130 interrupted
(SIGINT) and 143 terminated (SIGTERM), with nothing written.

Text from the user or their files (system names, paths, values quoted in
errors) is never read as Rich markup: the consoles have markup and emoji
codes off, and styled prefixes are built as :class:`rich.text.Text`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from compliance_mia import __version__
from compliance_mia.errors import ComplianceMiaError
from compliance_mia.text import without_quoted

app = typer.Typer(
    name="compliance-mia",
    help="Membership inference risk assessments for ML models, rendered as audit evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cache_app = typer.Typer(help="Inspect or clear the reference-model cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

# markup and emoji off: user text such as "[/]" or ":warning:" is printed as written, never interpreted
out = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)
_state: dict[str, bool] = {"debug": False}

EXIT_OK, EXIT_GATE, EXIT_INPUT, EXIT_BUG = 0, 1, 2, 3
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM
F = TypeVar("F", bound=Callable[..., Any])


def _error(line: str) -> None:
    """One ``error:`` line on stderr; ``line`` is printed literally (never read as markup)."""
    err.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------- signals
class Stopped(KeyboardInterrupt):
    """Raised in the main thread when SIGINT or SIGTERM arrives (a KeyboardInterrupt, so worker pools stop)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _SignalState:
    received: int | None = None  # the first SIGINT/SIGTERM of this command
    deferred = False  # the report set is being put in place: record only, never raise half-way
    written: Path | None = None  # the report set is in place in this folder


_signals = _SignalState()


def _on_signal(signum: int, frame: Any) -> None:
    # Only the first signal raises: a second one must not interrupt the clean-up the first started.
    if _signals.received is None:
        _signals.received = signum
        if not _signals.deferred:
            raise Stopped(signum)


def _unraisable(hook: Any) -> Any:
    """Keep a Stopped swallowed inside C code (cffi callbacks of the PDF stack) off the terminal."""

    def quiet(info: Any) -> None:
        if isinstance(info.exc_value, Stopped):
            return
        hook(info)

    return quiet


def check_signal() -> None:
    """Raise :class:`Stopped` if a signal arrived, even if its exception was swallowed in C code."""
    if _signals.received is not None:
        raise Stopped(_signals.received)


def _before_write() -> None:
    """render_all's hook: a recorded signal aborts; after the last check the set is written whole."""
    check_signal()
    _signals.deferred = True


@contextlib.contextmanager
def _writing(out_dir: Path) -> Iterator[None]:
    """Around render_all: once it returns the set is in place; a signal deferred meanwhile ends the command."""
    try:
        yield
        _signals.written = out_dir
    finally:
        _signals.deferred = False
    check_signal()


@contextlib.contextmanager
def _signal_handlers() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Stopped` in the main thread while a command runs."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _signals.received, _signals.deferred, _signals.written = None, False, None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(hook)
    for sig in previous:
        signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = hook


def _stopped_message(signum: int | None) -> tuple[str, int]:
    if signum == signal.SIGTERM:
        what, code = "terminated (SIGTERM)", EXIT_SIGTERM
    else:
        what, code = "interrupted (SIGINT)", EXIT_SIGINT
    if _signals.written is not None:
        return f"{what} after the report was written in full to {_signals.written}", code
    return f"{what}; nothing was written", code


def _guard(func: F) -> F:
    """Turn library errors into located messages and exit codes, never tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _signal_handlers():
                result = func(*args, **kwargs)
                check_signal()  # a signal swallowed in C code after the last check still ends the command
                return result
        except typer.Exit:
            raise
        except ComplianceMiaError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                _error(line)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:
            message, code = _stopped_message(exc.signum if isinstance(exc, Stopped) else _signals.received)
            err.print(message, highlight=False, soft_wrap=True)
            raise typer.Exit(code) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            err.print(
                Text.assemble(
                    ("internal error:", "bold red"),
                    f" {type(exc).__name__}: {without_quoted(str(exc))}\n"
                    "This is a bug in compliance-mia. Re-run with --debug to see the traceback and report it.",
                ),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_BUG) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"compliance-mia {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what the tool is doing.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
    json_progress: Annotated[
        bool,
        typer.Option(
            "--json-progress",
            help="Report progress as JSON lines on stderr (for CI logs) instead of a progress bar.",
        ),
    ] = False,
) -> None:
    _state["debug"] = debug
    _state["json_progress"] = json_progress
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
        force=True,
    )
    # Layout and font-subsetting chatter from the PDF stack is not the user's business
    # unless they ask for it.
    for noisy in ("weasyprint", "fontTools", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR)


# --------------------------------------------------------------------- progress
class RichProgress:
    """Progress display for the runner's stages (the library only calls stage/advance)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: Any = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)

    def finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)


class JsonLinesProgress:
    """Progress as one JSON object per line on stderr, for CI logs and schedulers.

    Each line has the event (``stage``, ``advance``, ``done``), the stage's
    description, how much of it is done and its total, and the seconds since
    the run started, so a log shipper can track a run without parsing a bar.
    """

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._description = ""
        self._done = 0
        self._total: int | None = None

    def _emit(self, event: str) -> None:
        import json

        line = {
            "event": event,
            "stage": self._description,
            "completed": self._done,
            "total": self._total,
            "elapsed_seconds": round(time.perf_counter() - self._start, 2),
        }
        sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stderr.flush()

    def stage(self, description: str, total: int | None = None) -> None:
        self._description, self._done, self._total = description, 0, total
        self._emit("stage")

    def advance(self, amount: int = 1) -> None:
        self._done += amount
        self._emit("advance")

    def finish(self) -> None:
        self._emit("done")


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[RichProgress | JsonLinesProgress | None]:
    if quiet:
        yield None
        return
    if _state.get("json_progress"):
        reporter_json = JsonLinesProgress()
        yield reporter_json
        reporter_json.finish()
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=24),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as progress:
        reporter = RichProgress(progress)
        yield reporter
        reporter.finish()


# -------------------------------------------------------------------- helpers
def _command_line() -> str:
    return "compliance-mia " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _with_overrides(
    policy: Any,
    *,
    backend: str | None,
    n_jobs: int | None,
    cache_dir: Path | None,
    no_cache: bool,
    scheduler_address: str | None = None,
) -> Any:
    ref = policy.attacks.reference_models
    update: dict[str, Any] = {}
    if backend:
        update["backend"] = backend
    if scheduler_address:
        update["scheduler_address"] = scheduler_address
    if n_jobs is not None:
        update["n_jobs"] = n_jobs
    if cache_dir is not None:
        update["cache_dir"] = cache_dir.resolve()
    if no_cache:
        update["use_cache"] = False
    if not update:
        return policy
    ref = ref.model_copy(update=update)
    return policy.model_copy(update={"attacks": policy.attacks.model_copy(update={"reference_models": ref})})


def _print_summary(assessment: Any, files: list[Path], seconds: float) -> None:
    from rich.text import Text

    from compliance_mia.report.console import summary_rows

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, text in summary_rows(assessment):
        table.add_row(Text(label), Text(text))  # Text: user text is never read as markup
    out.print(table)
    for f in files:
        out.print(Text(f"  wrote {f}"))
    out.print(f"Done in {seconds:.1f} s.")


def _check_gate(policy: Any, fail_on: str | None) -> None:
    """Refuse a --fail-on level the policy's risk scale does not have, before running."""
    if fail_on is None:
        return
    from compliance_mia.errors import InputError
    from compliance_mia.runner import gate_levels

    levels = gate_levels(policy)
    if fail_on == "appetite":
        if policy.risk.appetite is None:
            raise InputError("--fail-on appetite: the policy sets no risk.appetite")
        return
    if fail_on not in levels:
        raise InputError(
            f"--fail-on: '{fail_on}' is not a level of the {policy.risk.scale} scale; "
            f"use one of {', '.join(levels)}, or appetite"
        )


def _gate(assessment: Any, fail_on: str | None) -> int:
    if fail_on is None:
        return EXIT_OK
    risk = assessment.risk
    levels = list(risk.levels)
    # _check_gate has already refused levels the scale lacks and 'appetite' without one
    if fail_on == "appetite":
        failed = risk.within_appetite is False
        rule = f"rating above the risk appetite '{risk.appetite}'"
    else:
        failed = levels.index(risk.level) >= levels.index(fail_on)
        rule = f"rating '{fail_on}' or higher"
    outcome = "FAIL" if failed else "pass"
    out.print(f"Gate ({rule}): rating is '{risk.level}' → {outcome}")
    return EXIT_GATE if failed else EXIT_OK


def _check_out_dir(out_dir: Path, *, force: bool, extra: tuple[str, ...] = ()) -> None:
    """Refuse an --out folder that holds another run's report (a folder of mixed evidence) unless --force."""
    from compliance_mia.errors import InputError
    from compliance_mia.report import existing_report_files

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a folder")
    if force:
        return
    found = [p.name for p in existing_report_files(out_dir)]
    found += [name for name in extra if (out_dir / name).exists()]
    if found:
        raise InputError(
            f"--out {out_dir} already holds a report ({', '.join(found)}); writing beside it would mix the "
            "evidence of two runs. Choose another --out folder, or pass --force to replace the whole set"
        )


def _check_formats(formats: list[str] | None) -> None:
    """Refuse an unknown --format before anything runs (not after the attacks)."""
    if not formats:
        return
    from compliance_mia.errors import InputError
    from compliance_mia.report import FORMAT_ALIASES, FORMATS, expand_formats

    unknown = [name for name in expand_formats(formats) if name not in FORMATS]
    if unknown:
        raise InputError(
            f"--format: unknown report format '{unknown[0]}'; choose from {', '.join(FORMATS)} "
            f"(or {', '.join(FORMAT_ALIASES)})"
        )


def _run_and_render(
    policy_path: Path, policy: Any, out_dir: Path, *, quiet: bool, formats: list[str] | None
) -> Any:
    from compliance_mia.report import render_all
    from compliance_mia.runner import run_assessment

    start = time.perf_counter()
    with _progress(quiet) as progress:
        assessment = run_assessment(policy, policy_path=policy_path, progress=progress, command=_command_line())
        if progress is not None:
            progress.stage("Rendering the report")
        with _writing(out_dir):
            files = render_all(
                assessment,
                out_dir,
                formats=formats,
                template_dir=policy.report.template_dir,
                logo=policy.report.logo,
                replace=True,  # _check_out_dir has refused an older report unless --force
                before_write=_before_write,
            )
    _print_summary(assessment, files, time.perf_counter() - start)
    return assessment


OutOption = Annotated[Path, typer.Option("--out", "-o", help="Directory to write the report and its twins to.")]
FormatOption = Annotated[
    list[str] | None,
    typer.Option("--format", "-f", help="Only these formats (json, html, pdf, oscal, csv, md); repeatable."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace a report already in --out: every report file of the older run is removed or replaced.",
    ),
]


# ------------------------------------------------------------------- commands
@app.command()
@_guard
def demo(
    out_dir: OutOption = Path("demo-report"),
    quiet: QuietOption = False,
    force: ForceOption = False,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="tabular: a random forest on the health-insurance survey; text: a small language model trained "
            "on licence-clean text (passages held out from the same documents as non-members).",
        ),
    ] = "tabular",
    shifted: Annotated[
        bool,
        typer.Option(
            "--shifted",
            help="With --kind text: draw non-members from a different source, to show the blind baseline "
            "catching a distribution shift.",
        ),
    ] = False,
) -> None:
    """Train a model on built-in data and assess it end to end (--kind tabular or text).

    Writes the inputs it used (data, model, policy.yaml) to OUT/inputs and the
    report (PDF, HTML, JSON and twins) to OUT.
    """
    import shutil

    from compliance_mia.runner import load_policy

    if kind not in ("tabular", "text"):
        _error(f"--kind: '{kind}' is not one of tabular, text")
        raise typer.Exit(EXIT_INPUT)
    if shifted and kind != "text":
        _error("--shifted applies to --kind text only")
        raise typer.Exit(EXIT_INPUT)
    _check_out_dir(out_dir, force=force, extra=("inputs",))
    if kind == "text":
        out.print(
            "Building the text demo: a small language model trained from scratch on licence-clean passages"
            + (", non-members from a different source (--shifted)." if shifted else ".")
        )
    else:
        out.print("Building the demo: 22,272 health-insurance survey records (Ecdat HI), random forest on 5,000.")
    created_out = not out_dir.exists()
    inputs_dir = out_dir / "inputs"
    # With --force the older run's inputs go aside first and come back if this run does not finish.
    previous = None
    if inputs_dir.exists():
        previous = out_dir / f".inputs-previous-{os.getpid()}"
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(inputs_dir, previous)
    done = False
    policy_path: Path | None = None
    try:
        if kind == "text":
            from compliance_mia.runner.text import build_text_demo

            policy_path = build_text_demo(inputs_dir, shifted=shifted, log=out.print)
        else:
            from compliance_mia.demo import build_demo_inputs

            policy_path = build_demo_inputs(inputs_dir).policy
        policy = load_policy(policy_path)
        _run_and_render(policy_path, policy, out_dir, quiet=quiet, formats=None)
        done = True
    finally:
        if done or _signals.written is not None:  # the report is in place: keep the inputs it names
            if previous is not None:
                shutil.rmtree(previous, ignore_errors=True)
        else:
            shutil.rmtree(inputs_dir, ignore_errors=True)
            if previous is not None:
                os.replace(previous, inputs_dir)
            if created_out:
                with contextlib.suppress(OSError):
                    out_dir.rmdir()  # only if empty
    out.print(f"The policy used is {policy_path}; adapt it to assess your own model.")


@app.command()
@_guard
def run(
    policy_file: Annotated[Path, typer.Argument(help="Policy YAML.", metavar="POLICY")],
    out_dir: OutOption = Path("report"),
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 when the rating is this level or higher, or 'appetite': above the policy's risk appetite."
        ),
    ] = None,
    fmt: FormatOption = None,
    backend: Annotated[
        str | None, typer.Option(help="Reference-model backend: loky, threading, sequential, dask, ray.")
    ] = None,
    n_jobs: Annotated[int | None, typer.Option(help="Parallel workers (-1 = all cores).")] = None,
    scheduler_address: Annotated[
        str | None,
        typer.Option(
            help="An existing Dask scheduler (tcp://host:8786) or Ray cluster (ray://host:10001) to train "
            "reference models on; needs --backend dask or ray (or the policy's backend)."
        ),
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Reference-model cache directory.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Train reference models afresh.")] = False,
    quiet: QuietOption = False,
    mlflow: Annotated[
        bool,
        typer.Option(
            "--mlflow",
            help="Also log the figures (metrics), the policy (params) and the PDF, JSON and OSCAL (artifacts) "
            "to the active MLflow run, or a new one (MLFLOW_TRACKING_URI; needs the mlflow extra).",
        ),
    ] = False,
    force: ForceOption = False,
) -> None:
    """Run the assessment a policy describes and write the report."""
    from compliance_mia.runner import load_policy

    if mlflow:
        from compliance_mia.integrations.mlflow import require_mlflow

        require_mlflow()  # before anything runs
    if backend is not None and backend not in ("loky", "threading", "sequential", "dask", "ray"):
        _error(f"--backend: '{backend}' is not one of loky, threading, sequential, dask, ray")
        raise typer.Exit(EXIT_INPUT)
    _check_out_dir(out_dir, force=force)  # before anything runs
    _check_formats(fmt)
    policy = load_policy(policy_file, materialise_builtins=True)
    _check_gate(policy, fail_on)  # before anything runs or is written
    policy = _with_overrides(
        policy,
        backend=backend,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        no_cache=no_cache,
        scheduler_address=scheduler_address,
    )
    if scheduler_address and policy.attacks.reference_models.backend not in ("dask", "ray"):
        _error(
            f"--scheduler-address: the reference models' backend is "
            f"'{policy.attacks.reference_models.backend}'; a scheduler address needs --backend dask or ray"
        )
        raise typer.Exit(EXIT_INPUT)
    assessment = _run_and_render(policy_file, policy, out_dir, quiet=quiet, formats=fmt)
    if mlflow:
        from compliance_mia.integrations.mlflow import log_assessment

        run_id = log_assessment(assessment, policy=policy)
        out.print(f"logged to MLflow run {run_id}")
    raise typer.Exit(_gate(assessment, fail_on))


@app.command()
@_guard
def init(
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="Template name (see --list).")
    ] = None,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Policy file to write.")] = Path("policy.yaml"),
    list_templates: Annotated[bool, typer.Option("--list", help="List the templates and exit.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented starting policy for a common case (hospital model, credit scoring, ...)."""
    from compliance_mia.api import templates as policy_templates

    if list_templates or template is None:
        table = Table(title="Policy templates (compliance-mia init --template NAME)")
        table.add_column("name")
        table.add_column("for")
        for item in policy_templates.list_templates():
            table.add_row(item.name, item.title)
        out.print(table)
        if template is None and not list_templates:
            err.print("choose one with --template NAME")
            raise typer.Exit(EXIT_INPUT)
        return
    path = policy_templates.write_template(template, out_file, overwrite=force)
    out.print(
        f"wrote {path} ({template}); it runs as is on the built-in example data. "
        f"Point model.artifact and data.* at your files, then: compliance-mia validate {path}"
    )


@app.command()
@_guard
def validate(policy_file: Annotated[Path, typer.Argument(help="Policy YAML.", metavar="POLICY")]) -> None:
    """Check a policy (fields, values, referenced files) without running anything."""
    from compliance_mia.runner import load_policy

    policy = load_policy(policy_file)
    out.print(
        Text.assemble(
            ("valid", "green"),
            f": {policy_file} — {policy.system.name} ({policy.system.assessment_type}), "
            f"exposure: {policy.exposure.outputs}, access: {policy.exposure.access}",
        ),
        highlight=False,
    )


@app.command()
@_guard
def render(
    assessment_file: Annotated[Path, typer.Argument(help="assessment.json of a previous run.", metavar="ASSESSMENT")],
    out_dir: OutOption = Path("report"),
    fmt: FormatOption = None,
    template_dir: Annotated[Path | None, typer.Option(help="Templates overriding the shipped ones.")] = None,
    logo: Annotated[Path | None, typer.Option(help="Logo for the cover page.")] = None,
    force: ForceOption = False,
) -> None:
    """Re-render the report and its twins from assessment.json alone (no model or data needed)."""
    from compliance_mia.assessment import Assessment
    from compliance_mia.report import render_all

    _check_out_dir(out_dir, force=force)
    _check_formats(fmt)
    assessment = Assessment.load(assessment_file)
    with _writing(out_dir):
        files = render_all(
            assessment,
            out_dir,
            formats=fmt,
            template_dir=template_dir,
            logo=logo,
            replace=True,
            before_write=_before_write,
        )
    for f in files:
        out.print(f"wrote {f}")


@app.command()
@_guard
def schema(
    assessment: Annotated[bool, typer.Option("--assessment", help="Print the assessment.json schema instead.")] = False,
) -> None:
    """Print the JSON Schema of the policy (for editor autocompletion) or of assessment.json."""
    import json

    if assessment:
        from compliance_mia.assessment import assessment_json_schema

        text = json.dumps(assessment_json_schema(), indent=2, sort_keys=True)
    else:
        from compliance_mia.policy import policy_json_schema

        text = json.dumps(policy_json_schema(), indent=2, sort_keys=True)
    sys.stdout.write(text + "\n")


@app.command("attacks")
@_guard
def list_attacks() -> None:
    """List the attacks compliance-mia can run and what each needs."""
    from compliance_mia.runner import describe_registry

    table = Table(title="Membership inference attacks")
    for col in ("name", "title", "family", "needs", "reference models", "cost"):
        table.add_column(col)
    for row in describe_registry():
        table.add_row(row["name"], row["title"], row["family"], row["needs"], row["reference_models"], row["cost"])
    out.print(table)


@app.command()
@_guard
def plan(
    policy_file: Annotated[Path, typer.Argument(help="Policy YAML.", metavar="POLICY")],
    lift: Annotated[
        float,
        typer.Option(help="Goal: detect an attack that flags members this many times as often as non-members."),
    ] = 2.0,
) -> None:
    """Before running: which attacks will run and why, and whether the data can support each figure."""
    from compliance_mia.runner import load_policy, preview

    if lift <= 1:
        _error("--lift must be above 1 (an attack better than guessing)")
        raise typer.Exit(EXIT_INPUT)
    policy = load_policy(policy_file, materialise_builtins=True)
    if policy.model.task == "text-generation":
        from compliance_mia.runner.text import preview_text

        view = preview_text(policy, lift=lift)
    else:
        view = preview(policy, lift=lift)
    table = Table(title=f"Attack plan for {policy.system.name}")
    for col in ("attack", "runs", "about", "why"):
        table.add_column(col)
    for item in view.plan.attacks:
        seconds = f"{item.estimated_seconds:.0f} s" if item.estimated_seconds is not None and item.selected else ""
        table.add_row(item.title, "yes" if item.selected else "no", seconds, item.reason)
    out.print(table)

    needs = view.sample_size
    power = Table(
        title=f"Sample size: {view.n_members:,} members, {view.n_non_members:,} non-members "
        f"(goal: detect an attack flagging members {lift:g}× as often as non-members)"
    )
    for col in ("at FPR", "measurable now", "smallest detectable TPR now", "non-members needed", "members needed"):
        power.add_column(col)
    for row in needs.rows:
        power.add_row(
            f"{row.fpr:.1%}",
            "yes" if row.measurable_now else "no",
            f"{row.min_detectable_tpr_now:.1%}" if row.min_detectable_tpr_now is not None else "none",
            f"{row.non_members_needed:,}",
            f"{row.members_needed:,}" if row.members_needed is not None else "more than available",
        )
    out.print(power)
    for note in [*needs.notes, *view.notes]:
        out.print(f"- {note}")


@app.command()
@_guard
def whatif(
    policy_file: Annotated[Path, typer.Argument(help="Policy YAML.", metavar="POLICY")],
    control: Annotated[str, typer.Option(help="Catalogue control id to measure, e.g. output-label-only.")],
    quiet: QuietOption = False,
) -> None:
    """Measure what one control would change: re-run the attacks under it and re-rate."""
    from compliance_mia import figures as fmt
    from compliance_mia.runner import load_policy, measure_control

    policy = load_policy(policy_file, materialise_builtins=True)
    with _progress(quiet) as progress:
        before, result = measure_control(policy, control, progress=progress)
    table = Table(title=f"What-if: {result.label}")
    for col in ("", "now", f"with {result.control_id}"):
        table.add_column(col)
    table.add_row("rating", before.risk.level, result.residual.level if result.residual else "n/a")
    head = before.headline
    table.add_row("strongest attack", head.strongest_attack if head else "none", result.strongest_attack or "none")
    table.add_row("AUC", fmt.interval_score(head.auc if head else None), fmt.interval_score(result.auc))
    now_point = fmt.point_at(head.tpr_at_fpr, 0.01) if head else None
    now_tpr = now_point.tpr if now_point is not None else None
    table.add_row(
        "TPR at 1% FPR",
        fmt.interval_pct(now_tpr, show_n=False),
        fmt.interval_pct(result.tpr_at_1pct_fpr, show_n=False),
    )
    if result.utility_before is not None:
        table.add_row("accuracy (non-members)", f"{result.utility_before:.1%}", f"{(result.utility_after or 0):.1%}")
    out.print(table)
    if result.note:
        out.print(result.note)


@app.command()
@_guard
def diff(
    old: Annotated[Path, typer.Argument(help="Previous assessment.json.")],
    new: Annotated[Path, typer.Argument(help="New assessment.json.")],
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown output (for a PR comment).")] = False,
) -> None:
    """Compare two assessments; exit 1 when the risk worsened."""
    from compliance_mia.assessment import Assessment
    from compliance_mia.diff import compare
    from compliance_mia.report.change import render_change

    change = compare(Assessment.load(old), Assessment.load(new))
    sys.stdout.write(render_change(change, fmt="markdown" if markdown else "text"))
    raise typer.Exit(EXIT_GATE if change.worsened else EXIT_OK)


@cache_app.command("info")
@_guard
def cache_info(cache_dir: Annotated[Path | None, typer.Option(help="Cache directory.")] = None) -> None:
    """Show where reference models are cached and how much space they take."""
    from compliance_mia.runner import cache_info as reference_cache_info

    info = reference_cache_info(cache_dir)
    out.print(f"{info['directory']}: {info['models']} cached model(s), {info['bytes'] / 1e6:.1f} MB")


@cache_app.command("clear")
@_guard
def cache_clear(cache_dir: Annotated[Path | None, typer.Option(help="Cache directory.")] = None) -> None:
    """Delete cached reference models."""
    from compliance_mia.runner import clear_cache

    removed = clear_cache(cache_dir)
    out.print(f"removed {removed} cached model(s)")


def _stop_outside_a_command(signum: int, frame: Any) -> None:
    """A signal while the command line is parsed (before a command's own handlers): one line, 130/143."""
    message, code = _stopped_message(signum)
    err.print(message, highlight=False, soft_wrap=True)
    raise SystemExit(code)  # not a KeyboardInterrupt, which click would turn into "Aborted!" and exit 1


def main() -> None:
    """Console-script entry point."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_outside_a_command)
    app()

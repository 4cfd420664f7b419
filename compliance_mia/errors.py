"""Errors a user can act on.

Every error that reaches the command line is a :class:`ComplianceMiaError`
whose message already says what went wrong, where, and what would be
accepted; the CLI prints it without a traceback and maps its kind to an exit
code. Anything else escaping the library is a bug in compliance-mia.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ComplianceMiaError(Exception):
    """Base class: a problem with the user's input or environment, not a bug.

    Its text is shown on a terminal and may be written to a report, so control
    and bidirectional-override characters that reached it from a file are
    made visible (:func:`compliance_mia.text.neutralise`).
    """

    exit_code: int = 2

    def __str__(self) -> str:
        from compliance_mia.text import neutralise

        return neutralise(super().__str__())


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file (policy, catalogue, dataset)."""

    message: str
    file: Path | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file.name}" if self.line is None else f"{self.file.name}:{self.line}"
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        from compliance_mia.text import neutralise

        return neutralise(f"{prefix}: {self.message}" if prefix else self.message)


class InputError(ComplianceMiaError):
    """One or more located problems with an input file; nothing was run or written."""

    def __init__(self, problems: list[Problem] | Problem | str, *, file: Path | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems, file=file)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PolicyError(InputError):
    """The policy file is not valid."""


class CatalogueError(InputError):
    """A shipped or user-supplied YAML catalogue (controls, risk matrix) is not valid."""


class DataError(InputError):
    """A dataset named by the policy cannot be used as it is."""


class TargetError(ComplianceMiaError):
    """The model under assessment cannot be loaded or queried."""


class UnsafeModelError(TargetError):
    """Loading the artifact would execute code and the policy did not allow it."""


class QueryBudgetExceeded(TargetError):
    """The assessment would need more queries than the policy's budget allows."""


class AssessmentFileError(InputError):
    """An assessment JSON cannot be read back (wrong schema version, corrupt)."""

"""The risk matrix file: scales, rules, adjustments; loading with located errors."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from compliance_mia.errors import CatalogueError, PolicyError, Problem
from compliance_mia.policy.schema import DataCategory
from compliance_mia.risk.decision import DecisionSpec
from compliance_mia.risk.facts import FACTS
from compliance_mia.risk.rules import Adjustment, Condition, Rule, _check_template, _Strict
from compliance_mia.yamlio import LocatedYaml, file_stamp, read_yaml, validate_checked

log = logging.getLogger(__name__)


class ScaleSpec(_Strict):
    """One rating scale: its ordered levels and its severity × likelihood matrix."""

    title: str = Field(min_length=1)
    source: str = ""
    levels: list[str] = Field(min_length=2, description="Levels from lowest to highest.")
    matrix: dict[str, list[str]] = Field(
        description="For each severity level, the resulting level for each likelihood level (lowest first)."
    )

    @model_validator(mode="after")
    def _complete(self) -> ScaleSpec:
        if len(set(self.levels)) != len(self.levels):
            raise ValueError("levels must be distinct")
        missing = [s for s in self.levels if s not in self.matrix]
        extra = [s for s in self.matrix if s not in self.levels]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no row for severity {', '.join(missing)}")
            if extra:
                parts.append(f"row(s) {', '.join(extra)} are not levels of this scale")
            raise ValueError("matrix: " + "; ".join(parts) + f" (levels: {', '.join(self.levels)})")
        for sev, row in self.matrix.items():
            if len(row) != len(self.levels):
                raise ValueError(
                    f"matrix row '{sev}' needs {len(self.levels)} entries, one per likelihood level; has {len(row)}"
                )
            bad = [c for c in row if c not in self.levels]
            if bad:
                raise ValueError(f"matrix row '{sev}': {', '.join(map(repr, bad))} not a level of this scale")
        return self


class GradeRule(_Strict):
    """First-match rule grading how strongly a leakage finding is worded, from its attack's figures."""

    grade: Literal["high", "medium", "low"] = Field(description="Grade of the finding.")
    when: Condition | None = Field(None, description="Condition on the figures; omit on the last rule.")
    because: str = ""


class FindingGrade(_Strict):
    """One first-match choice of a configuration finding's grade."""

    grade: Literal["info", "low", "medium", "high"]
    when: Condition | None = None


class ConfigurationFinding(_Strict):
    """A finding about the deployment itself (what it returns, to whom, how it is watched)."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]*$", description="Stable finding ID.")
    title: str = Field(min_length=1)
    when: Condition = Field(description="When the finding applies, on the exposure and leakage facts.")
    grade: list[FindingGrade] = Field(min_length=1, description="First match decides; the last has no 'when'.")
    detail: str = Field(min_length=1, description="The finding in plain language; {fact} placeholders quote facts.")
    figures: list[str] = Field(default_factory=list, description="Facts recorded with the finding.")

    _template = field_validator("detail")(_check_template)

    @field_validator("figures")
    @classmethod
    def _known_facts(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in FACTS]
        if unknown:
            raise ValueError(f"unknown fact(s) {', '.join(unknown)}; use fact names")
        return value

    @model_validator(mode="after")
    def _default_last(self) -> ConfigurationFinding:
        if self.grade[-1].when is not None or any(g.when is None for g in self.grade[:-1]):
            raise ValueError("only the last grade, and it must, omit 'when' (the default)")
        return self


class MatrixSpec(_Strict):
    """The risk matrix file."""

    version: str = Field(min_length=1, description="Version of this matrix, recorded in every rating.")
    title: str = ""
    description: str = ""
    scales: dict[str, ScaleSpec] = Field(min_length=1)
    severity: list[Rule] = Field(min_length=1)
    likelihood: list[Rule] = Field(min_length=1)
    adjustments: list[Adjustment] = Field(default_factory=list)
    configuration_findings: list[ConfigurationFinding] = Field(
        default_factory=list,
        description="Findings about the deployment's configuration, with when they apply and how they are graded.",
    )
    finding_grades: list[GradeRule] = Field(
        min_length=1,
        description="How strongly a leakage finding is graded (high, medium, low) from the figures of "
        "the attack it quotes; first match wins, the last rule has no 'when'.",
    )
    decisions: DecisionSpec | None = Field(
        None, description="What the assessment supports for deployment (see compliance_mia.risk.decision)."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class RiskMatrix:
    """A validated risk matrix with where it came from."""

    spec: MatrixSpec
    source: Path

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def scales(self) -> list[str]:
        return list(self.spec.scales)

    def scale(self, name: str) -> ScaleSpec:
        try:
            return self.spec.scales[name]
        except KeyError:
            raise CatalogueError(
                Problem(
                    f"risk scale '{name}' is not defined in this matrix; defined: {', '.join(self.spec.scales)}",
                    file=self.source,
                    field="scales",
                )
            ) from None


# ===================================================================== load
def _default_matrix_path() -> Path:
    from compliance_mia.resources import policies_dir

    return policies_dir() / "risk_matrix.yaml"


def covered_categories(spec: MatrixSpec) -> set[str]:
    """Data categories some severity rule names (a category nobody names falls to the default)."""
    out: set[str] = set()
    for rule in spec.severity:
        if rule.when is None:
            continue
        for leaf in rule.when.leaves():
            if leaf.fact == "categories" and isinstance(leaf.value, list):
                out.update(str(v) for v in leaf.value)
    return out


def _semantic_problems(spec: MatrixSpec, doc: LocatedYaml) -> list[Problem]:
    problems: list[Problem] = []

    def add(message: str, *path: str | int) -> None:
        problems.append(Problem(message, file=doc.file, line=doc.line_of(path), field=_dotted(path)))

    scales = spec.scales
    seen: dict[str, str] = {}
    for dim in ("severity", "likelihood"):
        rules: list[Rule] = getattr(spec, dim)
        for i, rule in enumerate(rules):
            if rule.id in seen:
                add(f"rule id '{rule.id}' is already used at {seen[rule.id]}", dim, i, "id")
            seen.setdefault(rule.id, f"{dim}[{i}]")
            for scale_name in scales:
                if scale_name not in rule.result:
                    add(f"no result for scale '{scale_name}'", dim, i, "result")
            for scale_name, level in rule.result.items():
                if scale_name not in scales:
                    add(
                        f"scale '{scale_name}' is not defined under scales; defined: {', '.join(scales)}",
                        dim,
                        i,
                        "result",
                        scale_name,
                    )
                elif level not in scales[scale_name].levels:
                    add(
                        f"{level!r} is not a level of {scale_name}; use {', '.join(scales[scale_name].levels)}",
                        dim,
                        i,
                        "result",
                        scale_name,
                    )
            if rule.when is None and i != len(rules) - 1:
                add("only the last rule may omit 'when' (rules after it could never fire)", dim, i)
        if rules[-1].when is not None:
            add(
                f"the last {dim} rule must have no 'when', so every case gets a {dim}",
                dim,
                len(rules) - 1,
                "when",
            )
    for i, adj in enumerate(spec.adjustments):
        if adj.id in seen:
            add(f"rule id '{adj.id}' is already used at {seen[adj.id]}", "adjustments", i, "id")
        seen.setdefault(adj.id, f"adjustments[{i}]")
    grades = spec.finding_grades
    for i, grade in enumerate(grades):
        if grade.when is None and i != len(grades) - 1:
            add("only the last finding grade may omit 'when' (grades after it could never apply)", "finding_grades", i)
    if grades and grades[-1].when is not None:
        add(
            "the last finding grade must have no 'when', so every finding gets a grade",
            "finding_grades",
            len(grades) - 1,
        )
    missing = [c for c in get_args(DataCategory) if c not in covered_categories(spec)]
    if missing:
        add(
            "severity rules do not name the data categor(ies) "
            + ", ".join(missing)
            + "; add them to a rule so their severity is a decision, not a default",
            "severity",
        )
    return problems


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def load_matrix(path: Path | None = None) -> RiskMatrix:
    """Read and validate a risk matrix (default: the shipped ``policies/risk_matrix.yaml``).

    Raises
    ------
    CatalogueError
        Listing every problem with file, line and field: YAML syntax, unknown
        keys, unknown facts or operators, values a fact cannot take, result
        levels not on the scale, missing default rules, uncovered data
        categories.
    """
    file = Path(path) if path is not None else _default_matrix_path()
    stamp = file_stamp(file)
    if stamp is None:  # missing or unreadable: read_yaml says so, located, and nothing is cached
        return _read_matrix.__wrapped__(file, None)
    return _read_matrix(file, stamp)


@functools.lru_cache(maxsize=16)
def _read_matrix(file: Path, stamp: tuple[int, int, int] | None) -> RiskMatrix:
    """Read and validate ``file``; cached by path and :func:`file_stamp`, so a run reads it once.

    The result is immutable (frozen models), so sharing it is safe; a failed
    read raises and is not cached.
    """
    del stamp  # part of the cache key only
    doc = read_yaml(file, error=CatalogueError)
    spec = validate_checked(MatrixSpec, doc, error=CatalogueError, checks=_semantic_problems)
    log.debug("risk matrix %s version %s loaded from %s", spec.title, spec.version, file)
    return RiskMatrix(spec=spec, source=file)


# ==================================================================== rating
def normalise_level(text: str) -> str:
    """Compare level names ignoring case and the spelling of spaces ('very_low' = 'Very Low')."""
    return " ".join(text.replace("_", " ").replace("-", " ").split()).lower()


def validate_appetite(matrix: RiskMatrix, scale: str, appetite: str | None) -> str | None:
    """The appetite as spelled on ``scale``, or a PolicyError saying which levels are accepted."""
    if appetite is None:
        return None
    levels = matrix.scale(scale).levels
    lookup = {normalise_level(level): level for level in levels}
    found = lookup.get(normalise_level(appetite))
    if found is None:
        raise PolicyError(
            Problem(
                f"{appetite!r} is not a level of the {scale} scale; use one of {', '.join(levels)}",
                field="risk.appetite",
            )
        )
    return found

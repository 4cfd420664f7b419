"""The controls catalogue: its schema, loading with located errors, and framework look-ups.

The catalogue (``policies/controls.yaml``) lists measures against membership
inference with their cost, the attack families they weaken, the exposure an
output control imposes and the clauses each helps satisfy. It is data an
analyst extends without Python; it is validated on load and every error
names the file and line.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance_mia.assessment import Citation, ControlMapping, FrameworkRef, ThreatRef
from compliance_mia.errors import CatalogueError, Problem
from compliance_mia.policy.schema import OutputKind
from compliance_mia.yamlio import LocatedYaml, file_stamp, read_yaml, validate_checked

log = logging.getLogger(__name__)

ControlCategory = Literal["output", "training", "access", "data", "governance"]

#: Named situations a control's ``recommend_when`` / ``in_place_when`` may use. Which hold is
#: computed from the facts (:func:`compliance_mia.controls.recommend.situations`); how each
#: reads in a recommendation's "why" is data: the catalogue's ``situations`` section.
Situation = Literal[
    "always", "any_leakage", "confidence_leakage", "label_only_leakage", "no_leakage_demonstrated",
    "scores_exposed", "fine_scores_exposed", "loss_exposed", "labels_only_exposed", "rounded",
    "public_access", "authenticated_access", "internal_access", "rate_limited", "not_rate_limited",
    "monitored", "not_monitored", "high_severity", "high_risk", "above_appetite",
]  # fmt: skip
SITUATIONS: tuple[str, ...] = get_args(Situation)




class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExposureChange(_Strict):
    """The restricted exposure an output control imposes (what the what-if measures)."""

    outputs: OutputKind | None = Field(None, description="Outputs returned under the control, e.g. label or top_k.")
    top_k: int | None = Field(None, ge=1, description="With outputs: top_k, how many classes are returned.")
    rounding: int | None = Field(None, ge=0, le=12, description="Decimals returned scores are rounded to.")
    noise: bool = Field(
        False,
        description="Add Gaussian noise to returned scores (σ = controls.output_noise_scale).",
    )

    @model_validator(mode="after")
    def _meaningful(self) -> ExposureChange:
        if self.outputs is None and self.rounding is None and not self.noise:
            raise ValueError("an exposure change needs at least one of outputs, rounding or noise: true")
        if self.outputs == "top_k" and self.top_k is None:
            raise ValueError("outputs: top_k needs top_k (how many classes are returned)")
        if self.top_k is not None and self.outputs != "top_k":
            raise ValueError("top_k only applies with outputs: top_k")
        if self.outputs in ("top_k_logprobs", "token_logprobs", "generated_text") and (
            self.rounding is not None or self.noise
        ):
            raise ValueError("a language model's exposure change names only 'outputs'")
        if self.outputs == "label" and (self.rounding is not None or self.noise):
            raise ValueError("with outputs: label there are no scores to round or perturb")
        return self

    def describe(self) -> str:
        parts = []
        if self.outputs == "label":
            parts.append("labels only")
        elif self.outputs == "top_k":
            parts.append(f"top-{self.top_k} class(es) with scores")
        elif self.outputs is not None:
            parts.append(f"{self.outputs}")
        if self.rounding is not None:
            parts.append(f"scores rounded to {self.rounding} decimal(s)")
        if self.noise:
            parts.append("Gaussian noise on scores")
        return ", ".join(parts)


#: A framework id: the key under ``frameworks:``, and what a policy lists under ``regulations``.
FRAMEWORK_ID = r"^[a-z][a-z0-9_]*$"


class FrameworkInfo(_Strict):
    """A regulation or framework the catalogue maps to."""

    title: str = Field(min_length=1)
    short: str = Field("", description="Short display name (default: the title).")
    url: str = Field("", description="Where the official text is published.")
    inherits: str | None = Field(None, description="Use this framework's clauses where a control names none.")
    note: str = ""
    verified: bool = Field(
        True,
        description="Default for the clauses shown under this framework: false when they were not "
        "checked against the official text.",
    )

    @property
    def display(self) -> str:
        return self.short or self.title


class Clause(_Strict):
    """A clause a control maps to, with whether it was checked against the official text."""

    clause: str = Field(min_length=1)
    verified: bool | None = Field(None, description="Default: the framework's `verified`.")

    @field_validator("clause")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a clause cannot be blank")
        return value


class ThreatSpec(_Strict):
    """A catalogued identifier of membership inference in a threat taxonomy."""

    framework: str = Field(description="Framework id (declared under frameworks).")
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    href: str = ""
    verified: bool | None = Field(None, description="Default: the framework's `verified`.")


class CitationSpec(_Strict):
    """A clause a report section cites."""

    framework: str = Field(description="Framework id (declared under frameworks).")
    clause: str = Field(min_length=1, description="Article, section or paragraph.")
    requirement: str = Field("", description="What the clause requires, in one phrase.")
    verified: bool | None = Field(None, description="Default: the framework's `verified`.")


class ScopeEvidence(TypedDict):
    """What the catalogue contributes to an Assessment: keyword arguments of ``Assessment``."""

    frameworks: list[FrameworkRef]
    threats: list[ThreatRef]
    citations: list[Citation]


class Control(_Strict):
    """One measure against membership inference."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$", description="Stable id, used by the policy's action plan.")
    title: str = Field(min_length=1)
    category: ControlCategory
    description: str = Field(min_length=1)
    mitigates: list[str] = Field(description="Attack families (declared under attack_families) the control weakens.")
    cost: str = Field(min_length=1, description="Typical implementation cost.")
    utility_impact: str = Field(min_length=1, description="Typical effect on the model's usefulness.")
    rationale: str = ""
    recommend_when: list[Situation | list[Situation]] = Field(
        default_factory=list,
        description="Situations that make the control relevant (a list inside means all of).",
    )
    in_place_when: list[Situation | list[Situation]] = Field(
        default_factory=list, description="Situations meaning the control is already in place."
    )
    exposure: list[ExposureChange] = Field(
        default_factory=list, description="Output controls: the restricted exposure(s) to measure."
    )
    tasks: list[Literal["classification", "text-generation"]] = Field(
        default_factory=lambda: ["classification"],
        min_length=1,
        description="Which models the control applies to: classification (tabular), text-generation (language "
        "models) or both.",
    )
    mappings: dict[str, list[Clause]] = Field(min_length=1, description="Clauses per framework id.")

    @field_validator("mappings", mode="before")
    @classmethod
    def _clause_objects(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            framework: [{"clause": c} if isinstance(c, str) else c for c in clauses]
            if isinstance(clauses, list)
            else clauses
            for framework, clauses in value.items()
        }

    @field_validator("exposure", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _output_has_exposure(self) -> Control:
        if self.category == "output" and not self.exposure:
            raise ValueError(
                "an output control needs 'exposure' (the restricted outputs it imposes), e.g. {outputs: label}"
            )
        if self.category != "output" and self.exposure:
            raise ValueError(f"only output controls take 'exposure'; this one is '{self.category}'")
        for framework, clauses in self.mappings.items():
            if not clauses:
                raise ValueError(f"mappings.{framework}: list at least one non-empty clause")
        return self


class CatalogueSpec(_Strict):
    """The controls catalogue file."""

    version: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    situations: dict[Situation, str] = Field(
        description="How each situation reads in a recommendation's 'why' (every situation needs a phrase)."
    )
    attack_families: dict[str, str] = Field(min_length=1, description="Attack families controls may name.")
    frameworks: dict[str, FrameworkInfo] = Field(min_length=1)
    threats: list[ThreatSpec] = Field(default_factory=list, description="Catalogued identifiers of the threat.")
    citations: dict[str, list[CitationSpec]] = Field(
        default_factory=dict, description="Report section -> the clauses it cites."
    )
    controls: list[Control] = Field(min_length=1)

    @field_validator("frameworks")
    @classmethod
    def _framework_ids(cls, value: dict[str, FrameworkInfo]) -> dict[str, FrameworkInfo]:
        bad = [key for key in value if not re.match(FRAMEWORK_ID, key)]
        if bad:
            raise ValueError(
                f"framework id(s) {', '.join(map(repr, bad))} must be lower case letters, digits and "
                "underscores, starting with a letter (e.g. iso_27001)"
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value


@dataclass(frozen=True)
class Catalogue:
    """A validated controls catalogue with where it came from."""

    spec: CatalogueSpec
    source: Path

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def controls(self) -> list[Control]:
        return list(self.spec.controls)

    def ids(self) -> list[str]:
        return [c.id for c in self.spec.controls]

    def control(self, control_id: str) -> Control:
        for c in self.spec.controls:
            if c.id == control_id:
                return c
        raise KeyError(control_id)

    def framework_ids(self) -> list[str]:
        """The frameworks a policy may list under ``regulations``."""
        return list(self.spec.frameworks)

    def framework_title(self, framework: str) -> str:
        info = self.spec.frameworks.get(framework)
        return info.title if info is not None else framework

    def _verified(self, framework: str, explicit: bool | None) -> bool:
        if explicit is not None:
            return explicit
        info = self.spec.frameworks.get(framework)
        return info.verified if info is not None else False

    def _lineage(self, framework: str) -> list[str]:
        """``framework`` and the frameworks it inherits from, nearest first."""
        out: list[str] = []
        current: str | None = framework
        while current is not None and current not in out:
            out.append(current)
            info = self.spec.frameworks.get(current)
            current = info.inherits if info is not None else None
        return out

    def _clause_items(self, control: Control, framework: str, *, inherit: bool = True) -> list[tuple[str, bool]]:
        """(clause, verified) of ``framework`` for ``control``, following ``inherits`` if asked.

        An inherited clause is verified only if both it and the inheriting
        framework are (a check against the EU text says nothing of the UK text).
        """
        for current in self._lineage(framework) if inherit else [framework]:
            found = control.mappings.get(current)
            if found:
                own = current == framework
                return [
                    (
                        c.clause,
                        self._verified(current, c.verified) and (own or self._verified(framework, None)),
                    )
                    for c in found
                ]
        return []

    def clauses(self, control: Control, framework: str) -> list[str]:
        """Clauses of ``framework`` for ``control``, following ``inherits``."""
        return [clause for clause, _ in self._clause_items(control, framework)]

    def mappings(self, control: Control, regulations: Sequence[str]) -> list[ControlMapping]:
        """Mappings with the regulations in scope first (in the policy's order), then the rest.

        Inherited clauses (e.g. UK GDPR from GDPR) are listed only when the
        inheriting framework is in scope.
        """
        in_scope = list(dict.fromkeys(regulations))
        order = list(dict.fromkeys([*in_scope, *self.spec.frameworks, *control.mappings]))
        out: list[ControlMapping] = []
        for framework in order:
            # out of scope: only what the control names itself, not inherited clauses
            items = self._clause_items(control, framework, inherit=framework in in_scope)
            if items:
                out.append(
                    ControlMapping(
                        framework=framework,
                        title=self.framework_title(framework),
                        clauses=[clause for clause, _ in items],
                        unverified=[clause for clause, verified in items if not verified],
                    )
                )
        return out

    def scope_evidence(self, regulations: Sequence[str]) -> ScopeEvidence:
        """The frameworks, threat identifiers and section citations an Assessment records.

        Every framework is listed (with ``in_scope`` set for those in
        ``regulations``) so renderers can name any framework a mapping uses;
        threat identifiers are listed whatever the scope (they name the
        threat, they impose nothing); citations are kept only for frameworks
        in scope. A framework in scope that inherits from another (UK GDPR
        from GDPR) cites the other's clauses under its own name where it has
        none of its own for that section.
        """
        in_scope = list(dict.fromkeys(regulations))
        frameworks = [
            FrameworkRef(
                id=fid,
                title=info.title,
                short=info.display,
                in_scope=fid in in_scope,
                note=" ".join(info.note.split()),
                url=info.url,
                verified=info.verified,
            )
            for fid, info in self.spec.frameworks.items()
        ]
        threats = [
            ThreatRef(
                framework=t.framework,
                id=t.id,
                title=t.title,
                verified=self._verified(t.framework, t.verified),
                href=t.href,
            )
            for t in self.spec.threats
        ]
        citations: list[Citation] = []
        for section, cited in self.spec.citations.items():
            for framework in in_scope:
                for source in self._lineage(framework):
                    own = [c for c in cited if c.framework == source]
                    if not own:
                        continue
                    citations.extend(
                        Citation(
                            section=section,
                            framework=framework,
                            clause=c.clause,
                            requirement=c.requirement,
                            verified=self._verified(source, c.verified)
                            and (source == framework or self._verified(framework, None)),
                        )
                        for c in own
                    )
                    break
        return ScopeEvidence(frameworks=frameworks, threats=threats, citations=citations)


# ===================================================================== load
def _default_catalogue_path() -> Path:
    from compliance_mia.resources import policies_dir

    return policies_dir() / "controls.yaml"


def _semantic_problems(spec: CatalogueSpec, doc: LocatedYaml) -> list[Problem]:
    problems: list[Problem] = []

    def add(message: str, *path: str | int) -> None:
        field = ""
        for part in path:
            field += f"[{part}]" if isinstance(part, int) else ("." if field else "") + str(part)
        problems.append(Problem(message, file=doc.file, line=doc.line_of(path), field=field or None))

    missing = [name for name in SITUATIONS if name not in spec.situations]
    if missing:
        add(f"no phrase for situation(s) {', '.join(missing)}; every situation needs one", "situations")
    seen: dict[str, int] = {}
    families = spec.attack_families
    declared = ", ".join(spec.frameworks)
    for i, control in enumerate(spec.controls):
        if control.id in seen:
            add(
                f"control id '{control.id}' is already used by controls[{seen[control.id]}]",
                "controls",
                i,
                "id",
            )
        seen.setdefault(control.id, i)
        for j, family in enumerate(control.mitigates):
            if family not in families:
                add(
                    f"{family!r} is not a declared attack family; declare it under "
                    f"attack_families or use {', '.join(families)}",
                    "controls",
                    i,
                    "mitigates",
                    j,
                )
        for framework in control.mappings:
            if framework not in spec.frameworks:
                add(
                    f"framework '{framework}' is not declared under frameworks "
                    f"(declared: {declared}); add it there with a title",
                    "controls",
                    i,
                    "mappings",
                    framework,
                )
    for i, threat in enumerate(spec.threats):
        if threat.framework not in spec.frameworks:
            add(
                f"framework '{threat.framework}' is not declared under frameworks "
                f"(declared: {declared}); add it there with a title",
                "threats",
                i,
                "framework",
            )
    for section, cited in spec.citations.items():
        for j, citation in enumerate(cited):
            if citation.framework not in spec.frameworks:
                add(
                    f"framework '{citation.framework}' is not declared under frameworks "
                    f"(declared: {declared}); add it there with a title",
                    "citations",
                    section,
                    j,
                    "framework",
                )
    for name, info in spec.frameworks.items():
        if info.inherits is not None and info.inherits not in spec.frameworks:
            add(
                f"inherits '{info.inherits}', which has no entry under frameworks",
                "frameworks",
                name,
                "inherits",
            )
    return problems


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate a controls catalogue (default: the shipped ``policies/controls.yaml``).

    Raises
    ------
    CatalogueError
        Listing every problem with file, line and field: a missing field, a
        framework id used by a mapping, threat or citation but not declared
        under ``frameworks``, an undeclared attack family, a duplicate id, an
        output control without an exposure.
    """
    file = Path(path) if path is not None else _default_catalogue_path()
    stamp = file_stamp(file)
    if stamp is None:  # missing or unreadable: read_yaml says so, located, and nothing is cached
        return _read_catalogue.__wrapped__(file, None)
    return _read_catalogue(file, stamp)


@functools.lru_cache(maxsize=16)
def _read_catalogue(file: Path, stamp: tuple[int, int, int] | None) -> Catalogue:
    """Read and validate ``file``; cached by path and :func:`file_stamp`, so a run reads it once.

    The catalogue is immutable (frozen models), so sharing it is safe; a
    failed read raises and is not cached.
    """
    del stamp  # part of the cache key only
    doc = read_yaml(file, error=CatalogueError)
    spec = validate_checked(CatalogueSpec, doc, error=CatalogueError, checks=_semantic_problems)
    log.debug("controls catalogue %s version %s: %d controls", file, spec.version, len(spec.controls))
    return Catalogue(spec=spec, source=file)

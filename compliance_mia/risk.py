"""Severity × likelihood → a risk level, every step recorded.

A GRC reader signs a rating, not an AUC. The rating is made by the risk
matrix (``policies/risk_matrix.yaml``): data, not code. The matrix is a list
of rules written in a small declarative language: each rule has a condition
on named *facts* (the data categories, the exposure, the strongest attack's
measured figures), a result per scale and a plain-language reason. The
language has no expressions and no eval: a condition is a comparison of one
fact with a literal (``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``in``,
``not_in``, ``intersects``, ``disjoint``, ``known``, ``unknown``), or
``all`` / ``any`` / ``not`` of conditions. Facts, operators, values, result
levels and reason placeholders are all checked when the matrix is loaded,
and every error names the file and line.

Rating proceeds in four steps, each recorded as a
:class:`~compliance_mia.assessment.RuleFired` with the facts it read:

1. severity: the first severity rule whose condition holds;
2. likelihood: the first likelihood rule whose condition holds;
3. adjustments: every adjustment whose condition holds shifts severity or
   likelihood by whole levels (clamped to the scale);
4. level: the scale's matrix cell for (severity, likelihood), then the
   comparison with the policy's risk appetite.

Comparisons with a figure that is unknown (not measurable at this sample
size, or not reported) are false, so "not measurable" never counts as
evidence of leakage or of safety; ``known`` / ``unknown`` test for it.
"""

from __future__ import annotations

import difflib
import logging
import math
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance_mia.assessment import Headline, Interval, OperatingPoint, RiskRating, RuleFired
from compliance_mia.errors import CatalogueError, PolicyError, Problem
from compliance_mia.exposure import Exposure
from compliance_mia.policy.schema import Access, DataCategory, OutputKind
from compliance_mia.yamlio import LocatedYaml, read_yaml, validate_checked

log = logging.getLogger(__name__)

__all__ = [
    "FACTS",
    "FactSpec",
    "RiskInputs",
    "RiskMatrix",
    "covered_categories",
    "fact_values",
    "load_matrix",
    "normalise_level",
    "rate",
    "validate_appetite",
]

FactKind = Literal[
    "bool", "number", "proportion", "score", "count", "text", "categories", "display"
]


# ===================================================================== facts
@dataclass(frozen=True)
class FactSpec:
    """A named fact the matrix may test or quote.

    ``kind`` fixes which operators apply and how the value is shown;
    ``choices`` lists the accepted values of a text or list fact; ``display``
    facts are ready-made phrases for reasons and cannot be tested.
    """

    kind: FactKind
    label: str
    choices: tuple[str, ...] = ()


def _tpr_facts(prefix: str, level: str, who: str) -> dict[str, FactSpec]:
    name = f"{who}TPR at {level} FPR"
    return {
        f"{prefix}": FactSpec("proportion", f"{name} (point estimate)"),
        f"{prefix}_lower": FactSpec("proportion", f"{name}, lower bound"),
        f"{prefix}_upper": FactSpec("proportion", f"{name}, upper bound"),
        f"{prefix}_measurable": FactSpec("bool", f"{name} measurable at this sample size"),
        f"{prefix}_ci": FactSpec("display", f"{name} with its interval"),
    }


FACTS: dict[str, FactSpec] = {
    # data
    "categories": FactSpec("categories", "data categories", tuple(get_args(DataCategory))),
    "data_subjects": FactSpec("count", "number of data subjects"),
    "membership_reveals_condition": FactSpec("bool", "membership itself reveals a condition"),
    # exposure and access
    "outputs": FactSpec("text", "exposed outputs", tuple(get_args(OutputKind))),
    "access": FactSpec("text", "who can query", tuple(get_args(Access))),
    "rounding": FactSpec("count", "decimals of returned scores"),
    "top_k": FactSpec("count", "classes returned (top-k)"),
    "query_limited": FactSpec("bool", "callers are rate limited"),
    "monitored": FactSpec("bool", "queries are logged and reviewed"),
    "scores_exposed": FactSpec(
        "bool", "the model returns scores (probabilities, logits, top-k or loss)"
    ),
    "fine_scores_exposed": FactSpec("bool", "the model returns scores with at least 2 decimals"),
    "label_only_exposure": FactSpec("bool", "the model returns the predicted label only"),
    "exposure_text": FactSpec("display", "what a caller gets back"),
    # the strongest attack (headline)
    "measured": FactSpec("bool", "at least one attack was measured"),
    "strongest_attack": FactSpec("text", "strongest attack"),
    "auc": FactSpec("score", "AUC (point estimate)"),
    "auc_lower": FactSpec("score", "AUC, lower bound"),
    "auc_upper": FactSpec("score", "AUC, upper bound"),
    "auc_ci": FactSpec("display", "AUC with its interval"),
    **_tpr_facts("tpr_0_1pct", "0.1%", ""),
    **_tpr_facts("tpr_1pct", "1%", ""),
    **_tpr_facts("tpr_10pct", "10%", ""),
    "epsilon_lower": FactSpec("number", "empirical ε lower bound"),
    # the strongest label-only attack
    "label_only_measured": FactSpec("bool", "a label-only attack was measured"),
    "label_only_attack": FactSpec("text", "strongest label-only attack"),
    "label_only_auc": FactSpec("score", "label-only AUC (point estimate)"),
    "label_only_auc_lower": FactSpec("score", "label-only AUC, lower bound"),
    "label_only_auc_ci": FactSpec("display", "label-only AUC with its interval"),
    **_tpr_facts("label_only_tpr_1pct", "1%", "label-only "),
}

_NUMERIC: frozenset[str] = frozenset({"number", "proportion", "score", "count"})
_RESERVED = frozenset({"matched"})  # template placeholder: values a list condition matched

Op = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "intersects", "disjoint", "known", "unknown"
]
_OPS_BY_KIND: dict[str, frozenset[str]] = {
    "bool": frozenset({"eq", "ne", "known", "unknown"}),
    "number": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "known", "unknown"}),
    "text": frozenset({"eq", "ne", "in", "not_in", "known", "unknown"}),
    "categories": frozenset({"intersects", "disjoint", "known", "unknown"}),
}
_OP_TEXT = {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


def _kind_family(kind: str) -> str:
    return "number" if kind in _NUMERIC else kind


def _suggest(name: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


# ================================================================ the inputs
@dataclass(frozen=True)
class RiskInputs:
    """Everything the rating depends on, and nothing else.

    Keeping the inputs explicit (rather than passing the policy) lets the
    what-if analysis re-rate the same system under a stricter exposure by
    changing only the exposure fields and the measured headline.
    """

    categories: tuple[str, ...]
    data_subjects: int
    membership_reveals_condition: bool
    outputs: str
    access: str
    rounding: int | None
    top_k: int | None
    query_limited: bool
    monitored: bool
    headline: Headline | None
    label_only_headline: Headline | None = None

    @classmethod
    def from_policy(
        cls,
        policy: Any,
        headline: Headline | None,
        label_only_headline: Headline | None = None,
        *,
        exposure: Any | None = None,
    ) -> RiskInputs:
        """Inputs from a :class:`~compliance_mia.policy.schema.Policy`.

        ``exposure`` (an :class:`~compliance_mia.exposure.Exposure`) overrides
        the policy's outputs, top-k and rounding, for what-if re-rating.
        """
        spec = policy.exposure
        limits = spec.query_limit
        return cls(
            categories=tuple(policy.data.categories),
            data_subjects=int(policy.data.data_subjects),
            membership_reveals_condition=bool(policy.data.membership_reveals_condition),
            outputs=exposure.outputs if exposure is not None else spec.outputs,
            access=spec.access,
            rounding=exposure.rounding if exposure is not None else spec.rounding,
            top_k=exposure.top_k if exposure is not None else spec.top_k,
            query_limited=limits is not None
            and any(v is not None for v in limits.model_dump().values()),
            monitored=bool(spec.monitored),
            headline=headline,
            label_only_headline=label_only_headline,
        )


def _point(head: Headline | None, fpr: float) -> OperatingPoint | None:
    if head is None:
        return None
    for op in head.tpr_at_fpr:
        if math.isclose(op.fpr, fpr, rel_tol=1e-6, abs_tol=1e-12):
            return op
    return None


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    value = 100.0 * x
    if value == 0 or abs(value) >= 1:
        return f"{value:.1f}%"
    return f"{value:.2f}%"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _conf(interval: Interval) -> str:
    return f"{round(100 * interval.confidence):d}% CI"


def _interval_text(interval: Interval | None, fmt: str) -> str:
    if interval is None or interval.estimate is None:
        return "not reported"
    show = _pct if fmt == "pct" else _num
    if interval.lower is None or interval.upper is None:
        return show(interval.estimate)
    lo, hi = show(interval.lower), show(interval.upper)
    if fmt == "pct":
        lo = lo.rstrip("%")
    return f"{show(interval.estimate)} ({_conf(interval)} {lo}–{hi})"


def _tpr_values(
    prefix: str, op: OperatingPoint | None, raw: dict[str, Any], shown: dict[str, str]
) -> None:
    if op is None:
        raw.update(
            {
                prefix: None,
                f"{prefix}_lower": None,
                f"{prefix}_upper": None,
                f"{prefix}_measurable": False,
            }
        )
        shown[f"{prefix}_ci"] = "not reported"
        return
    usable = op.measurable and op.tpr.estimate is not None
    raw[prefix] = op.tpr.estimate if usable else None
    raw[f"{prefix}_lower"] = op.tpr.lower if usable else None
    raw[f"{prefix}_upper"] = op.tpr.upper if usable else None
    raw[f"{prefix}_measurable"] = bool(op.measurable)
    if usable:
        shown[f"{prefix}_ci"] = _interval_text(op.tpr, "pct")
    else:
        need = f" (needs ≥ {op.non_members_needed:,} non-members)" if op.non_members_needed else ""
        shown[f"{prefix}_ci"] = f"not measurable at this sample size{need}"


def _describe_exposure(inputs: RiskInputs) -> str:
    exposure = Exposure(outputs=inputs.outputs, top_k=inputs.top_k, rounding=inputs.rounding)
    return f"{inputs.access} access to {exposure.describe()}"


def fact_values(inputs: RiskInputs) -> tuple[dict[str, Any], dict[str, str]]:
    """The value of every fact for ``inputs``, and how each is shown in a reason.

    Returns ``(raw, shown)``: ``raw`` holds plain JSON values (None when a
    figure is unknown or not measurable); ``shown`` holds the phrase quoted
    in reasons, e.g. ``"4.2% (95% CI 3.1–5.6%)"``.
    """
    scores = inputs.outputs in ("probabilities", "logits", "top_k", "loss")
    raw: dict[str, Any] = {
        "categories": sorted(set(inputs.categories)),
        "data_subjects": int(inputs.data_subjects),
        "membership_reveals_condition": bool(inputs.membership_reveals_condition),
        "outputs": inputs.outputs,
        "access": inputs.access,
        "rounding": inputs.rounding,
        "top_k": inputs.top_k,
        "query_limited": bool(inputs.query_limited),
        "monitored": bool(inputs.monitored),
        "scores_exposed": scores,
        "fine_scores_exposed": scores and (inputs.rounding is None or inputs.rounding >= 2),
        "label_only_exposure": inputs.outputs == "label",
    }
    shown: dict[str, str] = {"exposure_text": _describe_exposure(inputs)}
    head = inputs.headline
    raw["measured"] = head is not None
    raw["strongest_attack"] = head.strongest_attack if head is not None else None
    raw["auc"] = head.auc.estimate if head is not None else None
    raw["auc_lower"] = head.auc.lower if head is not None else None
    raw["auc_upper"] = head.auc.upper if head is not None else None
    shown["auc_ci"] = _interval_text(head.auc if head is not None else None, "num")
    for prefix, fpr in (("tpr_0_1pct", 0.001), ("tpr_1pct", 0.01), ("tpr_10pct", 0.1)):
        _tpr_values(prefix, _point(head, fpr), raw, shown)
    eps = head.epsilon.epsilon_lower if head is not None and head.epsilon is not None else None
    raw["epsilon_lower"] = eps

    lab = inputs.label_only_headline
    raw["label_only_measured"] = lab is not None
    raw["label_only_attack"] = lab.strongest_attack if lab is not None else None
    raw["label_only_auc"] = lab.auc.estimate if lab is not None else None
    raw["label_only_auc_lower"] = lab.auc.lower if lab is not None else None
    shown["label_only_auc_ci"] = _interval_text(lab.auc if lab is not None else None, "num")
    _tpr_values("label_only_tpr_1pct", _point(lab, 0.01), raw, shown)

    for name, spec in FACTS.items():
        if spec.kind == "display":
            continue
        value = raw.get(name)
        if name in shown:
            continue
        shown[name] = _show(spec, value)
    if eps is None:
        shown["epsilon_lower"] = "none shown"
    return raw, shown


def _show(spec: FactSpec, value: Any) -> str:
    if value is None:
        return "not measured" if spec.kind in _NUMERIC else "none"
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "proportion":
        return _pct(float(value))
    if spec.kind == "score":
        return _num(float(value))
    if spec.kind == "number":
        return _num(float(value))
    if spec.kind == "count":
        return f"{int(value):,}"
    if spec.kind == "categories":
        return ", ".join(str(v).replace("_", " ") for v in value) or "none"
    return str(value)


# ============================================================ rule language
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """A test on facts: one comparison, or all / any / not of other conditions."""

    fact: str | None = Field(
        None, description="Name of the fact tested (see the list in docs/risk-and-controls.md)."
    )
    op: Op | None = Field(None, description="Comparison operator.")
    value: Any = Field(None, description="Literal compared with the fact.")
    all_: list[Condition] | None = Field(None, alias="all", min_length=1)
    any_: list[Condition] | None = Field(None, alias="any", min_length=1)
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            self.fact is not None,
            self.all_ is not None,
            self.any_ is not None,
            self.not_ is not None,
        ]
        if sum(forms) != 1:
            raise ValueError(
                "a condition is exactly one of: {fact, op, value}, all: [...], any: [...] "
                "or not: {...}"
            )
        if self.fact is None:
            if self.op is not None or "value" in self.model_fields_set:
                raise ValueError("'op' and 'value' belong with 'fact', not with all/any/not")
            return self
        spec = FACTS.get(self.fact)
        if spec is None:
            known = sorted(k for k, v in FACTS.items() if v.kind != "display")
            raise ValueError(
                f"unknown fact '{self.fact}'{_suggest(self.fact, known)}; "
                f"known facts: {', '.join(known)}"
            )
        if spec.kind == "display":
            raise ValueError(
                f"'{self.fact}' is a phrase for reasons and cannot be tested; "
                "test its figures instead"
            )
        if self.op is None:
            raise ValueError(f"'op' is missing for fact '{self.fact}'")
        family = _kind_family(spec.kind)
        allowed = _OPS_BY_KIND[family]
        if self.op not in allowed:
            raise ValueError(
                f"operator '{self.op}' does not apply to {self.fact} ({spec.kind}); "
                f"use {', '.join(sorted(allowed))}"
            )
        if self.op in ("known", "unknown"):
            if "value" in self.model_fields_set:
                raise ValueError(f"operator '{self.op}' takes no value")
            return self
        if "value" not in self.model_fields_set:
            raise ValueError(f"'value' is missing for {self.fact} {self.op}")
        _check_value(self.fact, spec, self.op, self.value)
        return self

    # ------------------------------------------------------------ evaluation
    def holds(self, facts: dict[str, Any]) -> bool:
        if self.all_ is not None:
            return all(c.holds(facts) for c in self.all_)
        if self.any_ is not None:
            return any(c.holds(facts) for c in self.any_)
        if self.not_ is not None:
            return not self.not_.holds(facts)
        assert self.fact is not None and self.op is not None
        return _compare(facts.get(self.fact), self.op, self.value)

    def leaves(self) -> Iterator[Condition]:
        for group in (self.all_, self.any_):
            for c in group or ():
                yield from c.leaves()
        if self.not_ is not None:
            yield from self.not_.leaves()
        if self.fact is not None:
            yield self

    def met(self, facts: dict[str, Any]) -> list[Condition]:
        """The comparisons that made this condition true (for the reason text)."""
        if not self.holds(facts):
            return []
        if self.all_ is not None:
            return [leaf for c in self.all_ for leaf in c.met(facts)]
        if self.any_ is not None:
            return [leaf for c in self.any_ for leaf in c.met(facts)]
        if self.not_ is not None:
            return [self]
        return [self]


def _check_value(fact: str, spec: FactSpec, op: str, value: Any) -> None:
    family = _kind_family(spec.kind)
    if family == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{fact} is true or false; got {value!r}")
    elif family == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(float(value))
        ):
            raise ValueError(f"{fact} is compared with a number; got {value!r}")
        if spec.kind in ("proportion",) and not 0 <= float(value) <= 1:
            raise ValueError(
                f"{fact} is a proportion between 0 and 1 (write 3% as 0.03); got {value!r}"
            )
    elif family == "text":
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and not isinstance(value, list):
            raise ValueError(f"operator '{op}' needs a list of values")
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"{fact} is compared with text; got {v!r}")
            if spec.choices and v not in spec.choices:
                raise ValueError(
                    f"{v!r} is not a possible value of {fact}; use {', '.join(spec.choices)}"
                )
    elif family == "categories":
        if not isinstance(value, list) or not value:
            raise ValueError(f"operator '{op}' needs a non-empty list of categories")
        for v in value:
            if v not in spec.choices:
                raise ValueError(
                    f"{v!r} is not a data category{_suggest(str(v), list(spec.choices))}; "
                    f"use {', '.join(spec.choices)}"
                )


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "known":
        return actual is not None
    if op == "unknown":
        return actual is None
    if actual is None:
        return False  # an unknown figure never satisfies a comparison
    if op == "eq":
        return bool(actual == value)
    if op == "ne":
        return bool(actual != value)
    if op == "lt":
        return bool(actual < value)
    if op == "le":
        return bool(actual <= value)
    if op == "gt":
        return bool(actual > value)
    if op == "ge":
        return bool(actual >= value)
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if op == "intersects":
        return bool(set(actual) & set(value))
    if op == "disjoint":
        return not (set(actual) & set(value))
    raise AssertionError(op)


def _template_fields(template: str) -> list[str]:
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(
                f"placeholder '{{{name}}}' cannot carry a format or conversion; "
                f"write just '{{{name}}}'"
            )
        names.append(name)
    return names


def _check_template(value: str) -> str:
    try:
        names = _template_fields(value)
    except ValueError as exc:
        if "placeholder" in str(exc):
            raise
        raise ValueError(
            f"unbalanced braces in reason text ({exc}); write a literal brace as '{{{{' or '}}}}'"
        ) from None
    for name in names:
        if name not in FACTS and name not in _RESERVED:
            known = sorted([*FACTS, *_RESERVED])
            raise ValueError(
                f"unknown placeholder '{{{name}}}'{_suggest(name, known)}; use a fact name"
            )
    return value


class Rule(_Strict):
    """First-match rule: when ``when`` holds, the dimension takes ``result`` on each scale."""

    id: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", description="Stable rule ID shown in the rule trace."
    )
    when: Condition | None = Field(None, description="Condition; omit on the last (default) rule.")
    result: dict[str, str] = Field(
        description="Level per scale, e.g. {cnil-4: significant, nist-5: high}."
    )
    because: str = Field(
        min_length=1, description="Reason in plain language; {fact} placeholders quote figures."
    )

    _template = field_validator("because")(_check_template)


class Adjustment(_Strict):
    """Shift severity or likelihood by whole levels when ``when`` holds (clamped to the scale)."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    applies_to: Literal["severity", "likelihood"]
    shift: int = Field(
        ge=-3, le=3, description="Levels to move: +1 raises by one level, -1 lowers by one."
    )
    when: Condition
    because: str = Field(min_length=1)

    _template = field_validator("because")(_check_template)

    @field_validator("shift")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("shift must move by at least one level (use +1 or -1)")
        return value


class ScaleSpec(_Strict):
    """One rating scale: its ordered levels and its severity × likelihood matrix."""

    title: str = Field(min_length=1)
    source: str = ""
    levels: list[str] = Field(min_length=2, description="Levels from lowest to highest.")
    matrix: dict[str, list[str]] = Field(
        description="For each severity level, the resulting level for each likelihood level "
        "(lowest first)."
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
                    f"matrix row '{sev}' needs {len(self.levels)} entries, one per likelihood "
                    f"level; has {len(row)}"
                )
            bad = [c for c in row if c not in self.levels]
            if bad:
                raise ValueError(
                    f"matrix row '{sev}': {', '.join(map(repr, bad))} not a level of this scale"
                )
        return self


class MatrixSpec(_Strict):
    """The risk matrix file."""

    version: str = Field(
        min_length=1, description="Version of this matrix, recorded in every rating."
    )
    title: str = ""
    description: str = ""
    scales: dict[str, ScaleSpec] = Field(min_length=1)
    severity: list[Rule] = Field(min_length=1)
    likelihood: list[Rule] = Field(min_length=1)
    adjustments: list[Adjustment] = Field(default_factory=list)

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
                    f"risk scale '{name}' is not defined in this matrix; "
                    f"defined: {', '.join(self.spec.scales)}",
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
        problems.append(
            Problem(message, file=doc.file, line=doc.line_of(path), field=_dotted(path))
        )

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
                        f"scale '{scale_name}' is not defined under scales; "
                        f"defined: {', '.join(scales)}",
                        dim,
                        i,
                        "result",
                        scale_name,
                    )
                elif level not in scales[scale_name].levels:
                    add(
                        f"{level!r} is not a level of {scale_name}; "
                        f"use {', '.join(scales[scale_name].levels)}",
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


def _render(template: str, shown: dict[str, str], matched: list[str]) -> str:
    values = dict(shown)
    values["matched"] = ", ".join(v.replace("_", " ") for v in matched) or "none"
    return template.format_map(values)


def _leaf_text(leaf: Condition, raw: dict[str, Any], shown: dict[str, str]) -> str:
    assert leaf.fact is not None
    spec = FACTS[leaf.fact]
    if leaf.op in ("known", "unknown"):
        return f"{spec.label} is {'known' if leaf.op == 'known' else 'unknown'}"
    if leaf.op in ("intersects", "disjoint"):
        hits = sorted(set(raw.get(leaf.fact) or ()) & set(leaf.value))
        if leaf.op == "intersects":
            return f"{spec.label} include {', '.join(h.replace('_', ' ') for h in hits)}"
        return f"{spec.label} include none of {', '.join(str(v) for v in leaf.value)}"
    if leaf.op in ("in", "not_in"):
        word = "is one of" if leaf.op == "in" else "is none of"
        return f"{spec.label} = {shown.get(leaf.fact)} ({word} {', '.join(map(str, leaf.value))})"
    target = _show(spec, leaf.value)
    if spec.kind == "bool":
        return f"{spec.label}: {shown.get(leaf.fact)}"
    if spec.kind == "text" and leaf.op == "eq":
        return f"{spec.label} = {shown.get(leaf.fact)}"
    return f"{spec.label} {shown.get(leaf.fact)} {_OP_TEXT[str(leaf.op)]} {target}"


def _matched_values(cond: Condition | None, raw: dict[str, Any]) -> list[str]:
    if cond is None:
        return []
    out: list[str] = []
    for leaf in cond.met(raw):
        if leaf.op == "intersects" and leaf.fact is not None:
            out.extend(sorted(set(raw.get(leaf.fact) or ()) & set(leaf.value)))
    return list(dict.fromkeys(out))


def _inputs_of(cond: Condition | None, raw: dict[str, Any]) -> dict[str, Any]:
    if cond is None:
        return {}
    return {leaf.fact: raw.get(leaf.fact) for leaf in cond.leaves() if leaf.fact is not None}


def _explain(cond: Condition | None, raw: dict[str, Any], shown: dict[str, str]) -> str:
    if cond is None:
        return ""
    met = [_leaf_text(leaf, raw, shown) for leaf in cond.met(raw) if leaf.fact is not None]
    return f" (met: {'; '.join(dict.fromkeys(met))})" if met else ""


def _first(rules: list[Rule], raw: dict[str, Any]) -> Rule:
    for rule in rules:
        if rule.when is None or rule.when.holds(raw):
            return rule
    raise AssertionError("validated matrices end with a default rule")


def rate(
    inputs: RiskInputs,
    *,
    matrix: RiskMatrix,
    scale: str = "cnil-4",
    appetite: str | None = None,
) -> RiskRating:
    """Rate membership inference risk with ``matrix`` on ``scale``, recording every rule that fired.

    Parameters
    ----------
    inputs
        The data sensitivity, exposure and measured headline figures.
    matrix
        A matrix from :func:`load_matrix`.
    scale
        ``"cnil-4"`` (negligible … maximum) or ``"nist-5"`` (very low … very high),
        or any scale the matrix defines.
    appetite
        Highest acceptable level; must be a level of ``scale`` (PolicyError otherwise).

    Returns
    -------
    RiskRating
        Severity, likelihood, level, the full matrix (for the heat map), the
        appetite comparison and the rule trace, each rule with the facts it
        read and a reason quoting the figures.
    """
    sc = matrix.scale(scale)
    wanted = validate_appetite(matrix, scale, appetite)
    levels = list(sc.levels)
    raw, shown = fact_values(inputs)
    fired: list[RuleFired] = []
    chosen: dict[str, str] = {}
    reasons: dict[str, list[str]] = {}

    for dim in ("severity", "likelihood"):
        rule = _first(getattr(matrix.spec, dim), raw)
        result = rule.result[scale]
        reason = _render(rule.because, shown, _matched_values(rule.when, raw))
        chosen[dim] = result
        reasons[dim] = [reason]
        fired.append(
            RuleFired(
                dimension=dim,  # type: ignore[arg-type]
                rule_id=rule.id,
                result=result,
                because=f"{dim} = {result} because {reason}{_explain(rule.when, raw, shown)}",
                inputs=_inputs_of(rule.when, raw),
            )
        )

    adjusted: set[str] = set()
    for adj in matrix.spec.adjustments:
        if not adj.when.holds(raw):
            continue
        dim = adj.applies_to
        before = chosen[dim]
        index = min(max(levels.index(before) + adj.shift, 0), len(levels) - 1)
        after = levels[index]
        reason = _render(adj.because, shown, _matched_values(adj.when, raw))
        if after == before:
            edge = "highest" if adj.shift > 0 else "lowest"
            verb = f"stays {before} (already the {edge} level)"
        else:
            verb = f"{'raised' if adj.shift > 0 else 'lowered'} from {before} to {after}"
        chosen[dim] = after
        adjusted.add(dim)
        reasons[dim].append(reason)
        fired.append(
            RuleFired(
                dimension="adjustment",
                rule_id=adj.id,
                result=after,
                because=f"{dim} {verb} because {reason}{_explain(adj.when, raw, shown)}",
                inputs={
                    **_inputs_of(adj.when, raw),
                    "applies_to": dim,
                    "shift": adj.shift,
                    "before": before,
                    "after": after,
                },
            )
        )
    for dim in ("severity", "likelihood"):
        if dim in adjusted:
            fired.append(
                RuleFired(
                    dimension=dim,  # type: ignore[arg-type]
                    rule_id=f"{dim.upper()}-FINAL",
                    result=chosen[dim],
                    because=f"{dim} = {chosen[dim]} because " + "; and ".join(reasons[dim]),
                    inputs={"adjusted": True},
                )
            )

    severity, likelihood = chosen["severity"], chosen["likelihood"]
    level = sc.matrix[severity][levels.index(likelihood)]
    fired.append(
        RuleFired(
            dimension="level",
            rule_id="MATRIX",
            result=level,
            because=f"level = {level} because severity {severity} × likelihood {likelihood} "
            f"gives {level} on the {sc.title} matrix (version {matrix.version})",
            inputs={"scale": scale, "severity": severity, "likelihood": likelihood},
        )
    )

    within: bool | None = None
    if wanted is not None:
        within = levels.index(level) <= levels.index(wanted)
        relation = "within" if within else "above"
        fired.append(
            RuleFired(
                dimension="appetite",
                rule_id="APPETITE",
                result="within appetite" if within else "above appetite",
                because=f"level {level} is {relation} the risk appetite '{wanted}' "
                f"(the highest level the policy accepts)"
                + (
                    ""
                    if within
                    else "; treatment is needed before the residual risk can be accepted"
                ),
                inputs={"level": level, "appetite": wanted},
            )
        )

    return RiskRating(
        scale=scale,
        levels=levels,
        severity=severity,
        likelihood=likelihood,
        level=level,
        rules=fired,
        appetite=wanted,
        within_appetite=within,
        matrix_version=matrix.version,
        matrix=[list(sc.matrix[s]) for s in levels],
    )

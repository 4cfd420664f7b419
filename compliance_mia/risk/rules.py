"""The rule language of the risk matrix: conditions on named facts, rules, adjustments."""

from __future__ import annotations

import difflib
import logging
import math
import string
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance_mia.risk.facts import _NUMERIC, FACTS, FactSpec

log = logging.getLogger(__name__)


_RESERVED = frozenset({"matched"})  # template placeholder: values a list condition matched

Op = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "intersects", "disjoint", "known", "unknown"]
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


# ============================================================ rule language
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """A test on facts: one comparison, or all / any / not of other conditions."""

    fact: str | None = Field(None, description="Name of the fact tested (see the list in docs/risk-and-controls.md).")
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
            raise ValueError("a condition is exactly one of: {fact, op, value}, all: [...], any: [...] or not: {...}")
        if self.fact is None:
            if self.op is not None or "value" in self.model_fields_set:
                raise ValueError("'op' and 'value' belong with 'fact', not with all/any/not")
            return self
        spec = FACTS.get(self.fact)
        if spec is None:
            known = sorted(k for k, v in FACTS.items() if v.kind != "display")
            raise ValueError(f"unknown fact '{self.fact}'{_suggest(self.fact, known)}; known facts: {', '.join(known)}")
        if spec.kind == "display":
            raise ValueError(f"'{self.fact}' is a phrase for reasons and cannot be tested; test its figures instead")
        if self.op is None:
            raise ValueError(f"'op' is missing for fact '{self.fact}'")
        family = _kind_family(spec.kind)
        allowed = _OPS_BY_KIND[family]
        if self.op not in allowed:
            raise ValueError(
                f"operator '{self.op}' does not apply to {self.fact} ({spec.kind}); use {', '.join(sorted(allowed))}"
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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
            raise ValueError(f"{fact} is compared with a number; got {value!r}")
        if spec.kind in ("proportion",) and not 0 <= float(value) <= 1:
            raise ValueError(f"{fact} is a proportion between 0 and 1 (write 3% as 0.03); got {value!r}")
    elif family == "text":
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and not isinstance(value, list):
            raise ValueError(f"operator '{op}' needs a list of values")
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"{fact} is compared with text; got {v!r}")
            if spec.choices and v not in spec.choices:
                raise ValueError(f"{v!r} is not a possible value of {fact}; use {', '.join(spec.choices)}")
    elif family == "categories":
        if not isinstance(value, list) or not value:
            raise ValueError(f"operator '{op}' needs a non-empty list of categories")
        for v in value:
            if v not in spec.choices:
                raise ValueError(
                    f"{v!r} is not a data category{_suggest(str(v), list(spec.choices))}; use {', '.join(spec.choices)}"
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
            raise ValueError(f"placeholder '{{{name}}}' cannot carry a format or conversion; write just '{{{name}}}'")
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
            raise ValueError(f"unknown placeholder '{{{name}}}'{_suggest(name, known)}; use a fact name")
    return value


class Rule(_Strict):
    """First-match rule: when ``when`` holds, the dimension takes ``result`` on each scale."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", description="Stable rule ID shown in the rule trace.")
    when: Condition | None = Field(None, description="Condition; omit on the last (default) rule.")
    result: dict[str, str] = Field(description="Level per scale, e.g. {cnil-4: significant, nist-5: high}.")
    because: str = Field(min_length=1, description="Reason in plain language; {fact} placeholders quote figures.")

    _template = field_validator("because")(_check_template)


class Adjustment(_Strict):
    """Shift severity or likelihood by whole levels when ``when`` holds (clamped to the scale)."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    applies_to: Literal["severity", "likelihood"]
    shift: int = Field(ge=-3, le=3, description="Levels to move: +1 raises by one level, -1 lowers by one.")
    when: Condition
    because: str = Field(min_length=1)

    _template = field_validator("because")(_check_template)

    @field_validator("shift")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("shift must move by at least one level (use +1 or -1)")
        return value

"""Severity × likelihood → a level, every step recorded."""

from __future__ import annotations

import logging
from typing import Any

from compliance_mia.assessment import RiskRating, RuleFired
from compliance_mia.risk.facts import FACTS, RiskInputs, _show, fact_values
from compliance_mia.risk.matrix import RiskMatrix, validate_appetite
from compliance_mia.risk.rules import _OP_TEXT, Condition, Rule

log = logging.getLogger(__name__)


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


#: A figure within this relative distance of the threshold it crossed is "at the boundary".
BOUNDARY = 0.10


def _boundary_note(cond: Condition | None, raw: dict[str, Any], shown: dict[str, str]) -> str:
    """Say so when a rule fired on one measured figure alone, lying close to its threshold.

    A level that rests on a single figure just past its threshold (an ε bound
    of 4.19 against 4.0, say) could move with a slightly different sample; the
    rule trace must tell the reader rather than present it as settled.
    """
    if cond is None:
        return ""
    numeric = [
        leaf
        for leaf in dict.fromkeys(cond.met(raw))
        if leaf.fact is not None and leaf.op in ("lt", "le", "gt", "ge") and isinstance(raw.get(leaf.fact), float | int)
    ]
    if len(numeric) != 1:
        return ""
    leaf = numeric[0]
    value, threshold = float(raw[leaf.fact]), float(leaf.value)
    scale = abs(threshold) if threshold else 1.0
    if abs(value - threshold) > BOUNDARY * scale:
        return ""
    return (
        f"; note: this level rests on one figure alone, {FACTS[leaf.fact].label} = {shown.get(leaf.fact)}, "
        f"within {BOUNDARY:.0%} of its threshold ({_show(FACTS[leaf.fact], leaf.value)}), so a slightly "
        "different sample could change it"
    )


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
                because=f"{dim} = {result} because {reason}{_explain(rule.when, raw, shown)}"
                + (_boundary_note(rule.when, raw, shown) if dim == "likelihood" else ""),
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
                + ("" if within else "; treatment is needed before the residual risk can be accepted"),
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

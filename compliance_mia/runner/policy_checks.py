"""Load a policy for a run: the schema, then the checks that need the shipped data.

The policy layer validates the policy's own structure. Whether a risk scale,
an appetite level, an attack name or a framework id exists is data of the
layers above it (the risk matrix, the attack registry, the controls
catalogue), so those checks are made here, one layer up, and reported with
the same file, line and field as schema errors.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from compliance_mia.errors import CatalogueError, PolicyError, Problem
from compliance_mia.policy.loader import PolicyCheck
from compliance_mia.policy.loader import load_policy as _read_policy
from compliance_mia.policy.schema import Policy
from compliance_mia.yamlio import LocatedYaml

__all__ = ["gate_levels", "load_policy"]


def _hint(name: str, known: list[str]) -> str:
    match = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _risk_problems(policy: Policy, doc: LocatedYaml) -> list[Problem]:
    from compliance_mia.risk import load_matrix, validate_appetite

    try:
        matrix = load_matrix(policy.risk.matrix)
    except CatalogueError as exc:
        return list(exc.problems)
    scales = matrix.scales
    if policy.risk.scale not in scales:
        return [
            Problem(
                f"'{policy.risk.scale}' is not a scale of the risk matrix{_hint(policy.risk.scale, scales)}; "
                f"use one of {', '.join(scales)}",
                file=doc.file,
                line=doc.line_of(("risk", "scale")),
                field="risk.scale",
            )
        ]
    if policy.risk.appetite is None:
        return []
    try:
        validate_appetite(matrix, policy.risk.scale, policy.risk.appetite)
    except PolicyError as exc:
        line = doc.line_of(("risk", "appetite"))
        return [Problem(p.message, file=doc.file, line=line, field="risk.appetite") for p in exc.problems]
    return []


def _attack_problems(policy: Policy, doc: LocatedYaml) -> list[Problem]:
    if policy.model.task == "text-generation":
        from compliance_mia.language.factory import text_attack_names

        known = text_attack_names()
    else:
        from compliance_mia.attacks.base import registry

        known = sorted(registry())
    lists = {
        "select": policy.attacks.select if isinstance(policy.attacks.select, list) else [],
        "exclude": policy.attacks.exclude,
    }
    problems = []
    for key, names in lists.items():
        for i, name in enumerate(names):
            if name not in known:
                problems.append(
                    Problem(
                        f"unknown attack '{name}'{_hint(name, known)}; known: {', '.join(known)}",
                        file=doc.file,
                        line=doc.line_of(("attacks", key, i)),
                        field=f"attacks.{key}[{i}]",
                    )
                )
    return problems


def _framework_problems(policy: Policy, doc: LocatedYaml) -> list[Problem]:
    from compliance_mia.controls import load_catalogue

    try:
        catalogue = load_catalogue(policy.controls.catalogue)
    except CatalogueError as exc:
        return list(exc.problems)
    known = list(catalogue.spec.frameworks)
    return [
        Problem(
            f"unknown framework '{name}'{_hint(name, known)}; the controls catalogue defines: {', '.join(known)} "
            "(add a framework under 'frameworks' in the catalogue to use another)",
            file=doc.file,
            line=doc.line_of(("regulations", i)),
            field=f"regulations[{i}]",
        )
        for i, name in enumerate(policy.regulations)
        if name not in known
    ]


CHECKS: tuple[PolicyCheck, ...] = (_risk_problems, _attack_problems, _framework_problems)


def load_policy(path: str | Path, *, check_files: bool = True, materialise_builtins: bool = False) -> Policy:
    """Read, validate and check the policy at ``path`` against the shipped data.

    ``builtin:`` paths name files of the built-in example; with
    ``materialise_builtins`` they are generated (once) so the policy can run.
    Raises :class:`~compliance_mia.errors.PolicyError` listing every problem
    with file, line and field.
    """
    on_builtin = None
    if materialise_builtins:
        from compliance_mia.demo import ensure_builtin_inputs

        on_builtin = ensure_builtin_inputs
    return _read_policy(path, check_files=check_files, checks=CHECKS, on_builtin=on_builtin)


def gate_levels(policy: Policy) -> list[str]:
    """Levels of the policy's risk scale, lowest first (what ``--fail-on`` accepts)."""
    from compliance_mia.risk import load_matrix

    return list(load_matrix(policy.risk.matrix).scale(policy.risk.scale).levels)

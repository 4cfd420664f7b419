"""Load a policy file into a frozen :class:`Policy`, or fail with located errors."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from compliance_mia.errors import PolicyError, Problem
from compliance_mia.policy.schema import BUILTIN_PREFIX, Policy
from compliance_mia.yamlio import LocatedYaml, read_yaml, validate_checked


def load_policy(path: str | Path, *, check_files: bool = True, materialise_builtins: bool = False) -> Policy:
    """Read and validate the policy at ``path``.

    Relative paths inside the policy resolve against the policy's directory.
    With ``check_files`` (the default) every input file named by the policy
    must exist. ``builtin:`` paths name files of the built-in example; with
    ``materialise_builtins`` they are generated (once) so the policy can run.
    Raises :class:`PolicyError` listing every problem found, each with file,
    line and field.
    """
    file = Path(path)
    doc = read_yaml(file, error=PolicyError)
    if materialise_builtins and _mentions_builtin(doc.data):
        from compliance_mia.demo import ensure_builtin_inputs

        ensure_builtin_inputs()
    context: dict[str, Any] = {"base_dir": file.resolve().parent, "check_files": check_files}
    return validate_checked(Policy, doc, error=PolicyError, context=context, checks=_semantic_problems)


def _semantic_problems(policy: Policy, doc: LocatedYaml) -> list[Problem]:
    """Checks that need the shipped data (risk scales, attack registry), located like schema errors."""
    from compliance_mia.attacks.base import registry
    from compliance_mia.risk import load_matrix, validate_appetite

    problems: list[Problem] = []
    if policy.risk.appetite is not None:
        try:
            validate_appetite(load_matrix(policy.risk.matrix), policy.risk.scale, policy.risk.appetite)
        except PolicyError as exc:
            for problem in exc.problems:
                problems.append(
                    Problem(
                        problem.message, file=doc.file, line=doc.line_of(("risk", "appetite")), field="risk.appetite"
                    )
                )
    known = sorted(registry())
    lists = {
        "select": policy.attacks.select if isinstance(policy.attacks.select, list) else [],
        "exclude": policy.attacks.exclude,
    }
    for key, names in lists.items():
        for i, name in enumerate(names):
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                problems.append(
                    Problem(
                        f"unknown attack '{name}'"
                        + (f" (did you mean '{hint[0]}'?)" if hint else "")
                        + f"; known: {', '.join(known)}",
                        file=doc.file,
                        line=doc.line_of(("attacks", key, i)),
                        field=f"attacks.{key}[{i}]",
                    )
                )
    return problems


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy format, for editors and CI validation."""
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "compliance-mia policy"
    return schema


def _mentions_builtin(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(BUILTIN_PREFIX)
    if isinstance(value, dict):
        return any(_mentions_builtin(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_builtin(v) for v in value)
    return False

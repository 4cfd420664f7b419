"""Load a policy file into a frozen :class:`Policy`, or fail with located errors.

This layer knows the policy's own schema and nothing above it: checks that
need the shipped data (the risk matrix's scales, the attack registry, the
controls catalogue's frameworks) are passed in by the layer that owns that
data (:func:`compliance_mia.runner.load_policy`), so imports point one way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from compliance_mia.errors import PolicyError, Problem
from compliance_mia.policy.schema import BUILTIN_PREFIX, Policy
from compliance_mia.yamlio import LocatedYaml, read_yaml, validate_checked

#: A check run on the validated policy, with the YAML document for line numbers.
PolicyCheck = Callable[[Policy, LocatedYaml], list[Problem]]


def load_policy(
    path: str | Path,
    *,
    check_files: bool = True,
    checks: Sequence[PolicyCheck] = (),
    on_builtin: Callable[[], Any] | None = None,
) -> Policy:
    """Read and validate the policy at ``path``.

    Relative paths inside the policy resolve against the policy's directory.
    With ``check_files`` (the default) every input file named by the policy
    must exist. ``builtin:`` paths name files of the built-in example;
    ``on_builtin`` is called before validation when the policy names one (to
    generate them). ``checks`` run after the schema and report located
    problems like schema errors. Raises :class:`PolicyError` listing every
    problem found, each with file, line and field.
    """
    file = Path(path)
    doc = read_yaml(file, error=PolicyError)
    if on_builtin is not None and mentions_builtin(doc.data):
        on_builtin()
    context: dict[str, Any] = {"base_dir": file.resolve().parent, "check_files": check_files}

    def all_checks(policy: Policy, located: LocatedYaml) -> list[Problem]:
        return [problem for check in checks for problem in check(policy, located)]

    return validate_checked(Policy, doc, error=PolicyError, context=context, checks=all_checks)


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy format, for editors and CI validation."""
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "compliance-mia policy"
    return schema


def mentions_builtin(value: Any) -> bool:
    """Whether a parsed policy document names a file of the built-in example anywhere."""
    if isinstance(value, str):
        return value.startswith(BUILTIN_PREFIX)
    if isinstance(value, dict):
        return any(mentions_builtin(v) for v in value.values())
    if isinstance(value, list):
        return any(mentions_builtin(v) for v in value)
    return False

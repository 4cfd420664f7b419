"""Load a policy file into a frozen :class:`Policy`, or fail with located errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compliance_mia.errors import PolicyError
from compliance_mia.policy.schema import BUILTIN_PREFIX, Policy
from compliance_mia.yamlio import read_yaml, validate_located


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
    return validate_located(Policy, doc, error=PolicyError, context=context)


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy format, for editors and CI validation."""
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "compliance-mia policy"
    return schema


def policy_json_schema_text() -> str:
    return json.dumps(policy_json_schema(), indent=2, sort_keys=True) + "\n"


def _mentions_builtin(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(BUILTIN_PREFIX)
    if isinstance(value, dict):
        return any(_mentions_builtin(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_builtin(v) for v in value)
    return False

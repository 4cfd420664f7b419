"""Generate docs/policy.md from the schema, so the reference can never drift from the code.

Run ``python -m compliance_mia.policy.docs > docs/policy.md``; a test fails
when the committed file differs from what this produces.
"""

from __future__ import annotations

import sys
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from compliance_mia.policy.schema import Policy

_INTRO = """\
# Policy reference

A policy is one YAML file describing what is assessed and under which
assumptions. `compliance-mia validate POLICY` checks it without running
anything; `compliance-mia schema` prints its JSON Schema for editor
autocompletion (e.g. with the YAML language server:
`# yaml-language-server: $schema=policy.schema.json`).

Rules that hold everywhere:

- Unknown keys are errors (a misspelt key never silently falls back to a default).
  Every error names the file, the line and the field, and what is accepted.
- Paths are relative to the policy file. `builtin:health-insurance/<file>`
  names a file of the built-in example, generated on first use.
- YAML is read with a safe loader: no tags, no code, duplicate keys refused.
- Secrets never appear in a policy: the HTTP target names an environment
  variable (`model.http.auth_env`) holding the credential.

This page is generated from the code (`python -m compliance_mia.policy.docs`).

## A complete example

```yaml
{example}
```
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Union or str(origin) == "types.UnionType":
        parts = [a for a in args if a is not type(None)]
        text = " or ".join(_type_name(a) for a in parts)
        return text + (" (optional)" if len(parts) < len(args) else "")
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{_section_title(annotation)}](#{_anchor(annotation)})"
        return {
            "str": "text",
            "int": "integer",
            "float": "number",
            "bool": "true/false",
            "Path": "path",
            "date": "date (YYYY-MM-DD)",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _section_title(model: type[BaseModel]) -> str:
    return model.__name__


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "(section defaults)"
        return f"`{value}`"
    if field.default is PydanticUndefined or field.default is None:
        return "—"
    return f"`{field.default}`"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for sub in _nested(field.annotation):
                visit(sub)

    visit(root)
    return seen


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_nested(arg))
    return out


def render(example: str) -> str:
    """The full Markdown reference, with ``example`` as the complete example policy."""
    lines = [_INTRO.format(example=example.strip())]
    for model in _models(Policy):
        lines.append(f"\n## {_section_title(model)}\n")
        doc = (model.__doc__ or "").strip().splitlines()
        if doc:
            lines.append(" ".join(line.strip() for line in doc if line.strip()) + "\n")
        lines.append("| key | type | default | meaning |")
        lines.append("|---|---|---|---|")
        for name, field in model.model_fields.items():
            key = field.alias or name
            desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from compliance_mia.resources import policies_dir

    example = (policies_dir() / "examples" / "health-insurance.yaml").read_text(encoding="utf-8")
    sys.stdout.write(render(example))


if __name__ == "__main__":
    main()

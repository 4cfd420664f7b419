"""docs/policy.md: every field documented with an example, and every example valid."""

from __future__ import annotations

import pytest
import yaml

from compliance_mia.policy.docs import SECTION_EXAMPLES, _models
from compliance_mia.policy.schema import Policy

SECTIONS = {m.__name__: m for m in _models(Policy)}


@pytest.mark.parametrize("name", sorted(set(SECTIONS) - {"Policy"}))
def test_every_field_of_every_section_has_an_example(name: str) -> None:
    model = SECTIONS[name]
    assert name in SECTION_EXAMPLES, f"{name} has no example in compliance_mia/policy/docs.py"
    used: set[str] = set()
    for snippet in SECTION_EXAMPLES[name]:
        (value,) = yaml.safe_load(snippet).values()
        for item in value if isinstance(value, list) else [value]:
            used |= set(item)
    fields = {f.alias or n for n, f in model.model_fields.items()}
    assert fields <= used, f"{name}: no example for {sorted(fields - used)}"


@pytest.mark.parametrize(
    "name, snippet",
    [(name, s) for name, snippets in sorted(SECTION_EXAMPLES.items()) for s in snippets],
)
def test_every_example_is_valid(name: str, snippet: str) -> None:
    (value,) = yaml.safe_load(snippet).values()
    for item in value if isinstance(value, list) else [value]:
        SECTIONS[name].model_validate(item, context={"check_files": False})

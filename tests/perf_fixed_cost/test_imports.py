"""Commands that run nothing import nothing heavy (issue 13: fixed cost under 1 s).

Each check runs in a fresh interpreter, so it sees exactly what the command
imports, not what earlier tests left in ``sys.modules``.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "scipy", "sklearn", "matplotlib", "weasyprint", "skops")

SNIPPETS = {
    "validate": "from compliance_mia.runner import load_policy; load_policy(r'{policy}')",
    "attacks": "from compliance_mia.runner import describe_registry; describe_registry()",
    "schema": "from compliance_mia.policy import policy_json_schema; policy_json_schema()",
    "cli": "import compliance_mia.cli",
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_light_commands_do_not_import_heavy_libraries(name):
    policy = ROOT / "policies" / "examples" / "health-insurance.yaml"
    code = SNIPPETS[name].format(policy=policy) + (
        "; import sys, json; print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), f"{name} imports {sorted(loaded & set(HEAVY))}"


def test_runner_names_resolve_lazily():
    import compliance_mia.runner as runner

    for name in runner.__all__:
        assert getattr(runner, name) is not None
    with pytest.raises(AttributeError):
        runner.no_such_name  # noqa: B018

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


def test_plan_does_not_import_scipy_stats_or_scikit_learn():
    """`plan` computes its sample-size table with scipy.special only (scipy.stats costs ~0.4 s to import)."""
    policy = ROOT / "policies" / "examples" / "health-insurance.yaml"
    code = (
        "import sys, json\n"
        "from compliance_mia.cli import main\n"
        f"sys.argv = ['compliance-mia', 'plan', r'{policy}']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # the first run materialises the built-in example in the (per-session) cache, with scikit-learn
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "Attack plan" in out.stdout
    assert not {m for m in loaded if m.startswith(("scipy.stats", "sklearn", "matplotlib", "weasyprint"))}


def test_clopper_pearson_bounds_equal_scipy_stats_beta_ppf_bit_for_bit():
    """cp_lower/cp_upper use scipy.special.betaincinv for beta.ppf: the figures must not move."""
    import numpy as np
    from scipy.stats import beta

    from compliance_mia.metrics._intervals import cp_lower, cp_upper

    for n in (1, 2, 7, 50, 333, 5000, 11136):
        x = np.unique(np.linspace(0, n, 200).round()).astype(float)
        for alpha in (0.0025, 0.0125, 0.025, 0.05, 0.3):
            with np.errstate(invalid="ignore"):
                lower = np.where(x <= 0, 0.0, beta.ppf(alpha, x, n - x + 1))
                upper = np.where(x >= n, 1.0, beta.ppf(1.0 - alpha, x + 1, n - x))
            assert np.array_equal(cp_lower(x, n, alpha), lower)
            assert np.array_equal(cp_upper(x, n, alpha), upper)


def test_render_without_pages_imports_neither_matplotlib_nor_weasyprint(tmp_path):
    """JSON, OSCAL, CSV and Markdown draw nothing: rendering them must not pay for the PDF stack."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("report_fixture", ROOT / "tests" / "report" / "conftest.py")
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    source = tmp_path / "assessment.json"
    source.write_text(fixture.build_assessment().to_json(), encoding="utf-8")
    out_dir = tmp_path / "out"
    code = (
        "import sys, json\n"
        "from compliance_mia.cli import main\n"
        f"sys.argv = ['compliance-mia', 'render', r'{source}', '--out', r'{out_dir}',"
        " '-f', 'json', '-f', 'oscal', '-f', 'csv', '-f', 'md']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "assessment.json", "data-subject-risk.csv", "oscal-assessment-results.json", "risk-register.csv", "summary.md"
    ]
    assert (out_dir / "assessment.json").read_text(encoding="utf-8") == source.read_text(encoding="utf-8")
    assert not loaded & set(HEAVY), f"render imports {sorted(loaded & set(HEAVY))}"

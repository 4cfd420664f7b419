"""Load benchmarks/jsondiff.py (a script, not a package) for the tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "jsondiff.py"
_spec = importlib.util.spec_from_file_location("cmia_bench_jsondiff", _PATH)
assert _spec is not None and _spec.loader is not None
jsondiff = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(jsondiff)


def figure_differences(before: str, after: str) -> list[tuple[str, str, str]]:
    """Paths where two assessment JSON texts differ, ignoring timings and cache bookkeeping."""
    import json

    out: list[tuple[str, str, str]] = []
    ignore = set(jsondiff.RUN_IDENTITY) | {"backend", "bytes"}  # the policy names its backend
    jsondiff.differences(json.loads(before), json.loads(after), "", ignore, out)
    return out

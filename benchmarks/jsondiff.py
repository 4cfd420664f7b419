"""Compare two assessment.json files, ignoring what differs between any two runs.

Issue 13's rule for performance work: the demo's assessment.json before and
after a change must be identical apart from timings. This walks both JSON
trees and prints every path whose value differs, skipping keys that record
time or the run itself (durations, seconds, timestamps, the command line,
cache statistics) and the identifiers derived from the model file's bytes
(skops writes memory addresses into the demo's model, so its hash and the
assessment ID change between any two demo runs).

Usage: python benchmarks/jsondiff.py BEFORE.json AFTER.json [--ignore KEY ...]
Exit status 0 when identical (apart from the ignored keys), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

#: keys ignored wherever they appear: timings, timestamps, the run's own bookkeeping
IGNORED_PATTERN = re.compile(
    r"(^|_)(seconds|duration|durations|timing|timings|elapsed|created|started|finished|generated)(_|$)"
    r"|^(command|cache_hits|trained|training_seconds_saved|seconds_saved|created_at|generated_at)$"
)
#: identifiers derived from the model file's bytes (differ between any two demo runs)
RUN_IDENTITY = ("assessment_id", "sha256", "model_sha256", "file_sha256")


def ignored(key: str, extra: set[str]) -> bool:
    return key in extra or bool(IGNORED_PATTERN.search(key))


def differences(a: Any, b: Any, path: str, extra: set[str], out: list[tuple[str, str, str]]) -> None:
    """Append (path, before, after) for every differing leaf of ``a`` and ``b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if ignored(str(key), extra):
                continue
            where = f"{path}/{key}"
            if key not in a:
                out.append((where, "<absent>", _short(b[key])))
            elif key not in b:
                out.append((where, _short(a[key]), "<absent>"))
            else:
                differences(a[key], b[key], where, extra, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((f"{path}[len]", str(len(a)), str(len(b))))
        for i, (x, y) in enumerate(zip(a, b, strict=False)):  # a length change is reported above
            differences(x, y, f"{path}[{i}]", extra, out)
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return
    elif a != b or type(a) is not type(b):
        out.append((path, _short(a), _short(b)))


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore", action="append", default=[], help="another key to ignore (repeatable)")
    parser.add_argument(
        "--keep-identity", action="store_true", help="also compare the model hash and assessment ID"
    )
    args = parser.parse_args(argv)
    extra = set(args.ignore) | (set() if args.keep_identity else set(RUN_IDENTITY))
    before = json.loads(args.before.read_text(encoding="utf-8"))
    after = json.loads(args.after.read_text(encoding="utf-8"))
    out: list[tuple[str, str, str]] = []
    differences(before, after, "", extra, out)
    for path, x, y in out:
        print(f"{path}: {x} => {y}")
    print(f"{len(out)} difference(s) (ignoring timings and: {', '.join(sorted(extra)) or 'nothing else'})")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())

"""What an auditor needs to trust and reproduce an assessment.

SHA-256 of every input file (policy, model artifact, datasets), the versions
of the tool and of every library that shaped a figure, the platform, the seed
and the timestamps. File names are recorded without directories, so an
assessment does not disclose a user's home directory or mount layout.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path

from compliance_mia import __version__
from compliance_mia.assessment import FileEvidence

#: libraries whose versions can change a figure or a rendering
TRACKED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "joblib",
    "skops",
    "pydantic",
    "jinja2",
    "weasyprint",
    "matplotlib",
    "pyarrow",
    "onnxruntime",
    "xgboost",
    "lightgbm",
    "dask",
    "ray",
)


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def file_evidence(role: str, path: Path) -> FileEvidence:
    return FileEvidence(role=role, name=path.name, sha256=sha256_file(path), bytes=path.stat().st_size)


def library_versions() -> dict[str, str]:
    """Installed versions of the tracked libraries (absent ones omitted)."""
    out: dict[str, str] = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment() -> dict[str, str]:
    return {
        "tool_version": __version__,
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


def assessment_id(files: list[FileEvidence], seed: int, *, task: str | None = None) -> str:
    """A short id fixed by the input files, the seed and the tool version (and the task, for non-tabular runs).

    The same inputs give the same id on any machine, so two reports of one
    assessment can be matched; the task enters only when it is not the
    tabular default, which keeps tabular ids as they always were.
    """
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.role):
        digest.update(f"{f.role}:{f.sha256}\n".encode())
    digest.update(f"seed:{seed}\ntool:{__version__}\n".encode())
    if task is not None:
        digest.update(f"task:{task}\n".encode())
    return digest.hexdigest()[:16]

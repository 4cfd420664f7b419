"""Real, licence-clean text shipped with Python itself, for the offline text demo and tests.

A membership demo needs real prose whose provenance is known and which no
one has to download at run time. CPython ships two such sources under the
PSF licence:

* ``python-docs``: the language reference topics behind ``help("assert")``
  and friends (:mod:`pydoc_data.topics`), prose written by the
  documentation team;
* ``python-docstrings``: the docstrings of the standard library's public
  functions and classes, terse API prose in a different register.

Both are cut into paragraph passages the same way, so a demo can draw
members and non-members from the same documents (no distribution shift) or
from the two different sources (a deliberate shift the blind baseline must
catch). Passage ids name the document they come from (``assert-3``), never
their content. Each text appears once: a paragraph repeated in several
documents is kept where it first appears, since the same text on both sides
of a membership split would make every figure wrong. What the sources contain depends on the Python version, so
the demo records which one it used.
"""

from __future__ import annotations

import re

__all__ = ["KINDS", "builtin_corpus"]

#: the sources :func:`builtin_corpus` can read
KINDS = ("python-docs", "python-docstrings")

#: passages shorter or longer than these (characters) are left out: too little to score, or too long for a tiny model
MIN_CHARS = 120
MAX_CHARS = 600

#: standard-library modules whose docstrings form the second source (pure Python or built in on every platform)
_DOCSTRING_MODULES = (
    "builtins", "abc", "argparse", "base64", "bisect", "calendar", "collections", "configparser", "contextlib",
    "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email.message", "enum", "fnmatch",
    "fractions", "functools", "gettext", "glob", "heapq", "hmac", "html", "http.client", "inspect", "io",
    "ipaddress", "itertools", "json", "logging", "math", "mimetypes", "operator", "os", "os.path", "pathlib",
    "pickle", "pprint", "queue", "random", "re", "shlex", "shutil", "socket", "statistics", "string", "struct",
    "subprocess", "tarfile", "tempfile", "textwrap", "threading", "time", "timeit", "tokenize", "traceback",
    "types", "typing", "unittest", "urllib.parse", "uuid", "warnings", "weakref", "zipfile",
)


def _paragraphs(text: str) -> list[str]:
    """Prose paragraphs of a reST-ish text: no headings, code blocks, tables or grammar rules."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.splitlines()
        if not lines or any(line.startswith((" ", "\t")) for line in lines):
            continue  # indented: code, grammar, a table or a quoted example
        if any(re.fullmatch(r"[*=\-~^+|]{3,}.*", line.strip()) for line in lines):
            continue  # a heading underline or a table rule
        joined = " ".join(line.strip() for line in lines)
        joined = re.sub(r"\s+", " ", joined).strip()
        if MIN_CHARS <= len(joined) <= MAX_CHARS and joined[-1:] in ".:)":
            out.append(joined)
    return out


def _python_docs() -> list[tuple[str, str]]:
    from pydoc_data.topics import topics

    passages: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in sorted(topics):
        for i, paragraph in enumerate(_paragraphs(topics[name])):
            if paragraph in seen:  # topics repeat paragraphs (e.g. numeric-types and specialnames): keep the first
                continue
            seen.add(paragraph)
            passages.append((f"{name}-{i}", paragraph))
    return passages


def _python_docstrings() -> list[tuple[str, str]]:
    import importlib
    import inspect

    passages: list[tuple[str, str]] = []
    seen: set[str] = set()
    for module_name in _DOCSTRING_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # a platform without it: the source is simply smaller
            continue
        members = [(module_name, module)]
        for attr in sorted(getattr(module, "__all__", None) or dir(module)):
            if attr.startswith("_"):
                continue
            value = getattr(module, attr, None)
            if inspect.isclass(value) or inspect.isroutine(value):
                members.append((f"{module_name}.{attr}", value))
        for qualname, obj in members:
            doc = inspect.getdoc(obj) or ""
            for i, paragraph in enumerate(_paragraphs(doc)):
                if paragraph in seen:  # re-exported objects repeat their docstring
                    continue
                seen.add(paragraph)
                passages.append((f"{qualname}-{i}", paragraph))
    return passages


def builtin_corpus(kind: str = "python-docs") -> list[tuple[str, str]]:
    """(id, text) passages from a corpus that ships with Python (PSF licence), in a stable order.

    ``kind`` is ``"python-docs"`` (the language reference topics) or
    ``"python-docstrings"`` (standard-library docstrings, a different
    source for the shifted demo). The document a passage comes from is the
    id's prefix before the last ``-``.
    """
    if kind == "python-docs":
        return _python_docs()
    if kind == "python-docstrings":
        return _python_docstrings()
    raise ValueError(f"unknown corpus {kind!r}; accepted: {', '.join(KINDS)}")


def document_of(passage_id: str) -> str:
    """The document a passage id names (its prefix before the last ``-``)."""
    return passage_id.rsplit("-", 1)[0]

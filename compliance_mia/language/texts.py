"""The audited texts: members, non-members and the attacker's background texts, read and checked.

A language-model audit is only as good as its two text sets. A duplicate ID,
an empty text or the same passage on both sides makes every figure wrong
without any error, so each is refused here with the file, the line, the field
and what is accepted. Texts are never quoted in an error or a report: records
are named by their ID only, and IDs are kept exactly as written (a JSONL
string byte for byte, a CSV cell as text, an integer as its digits).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from compliance_mia.errors import DataError, Problem
from compliance_mia.policy.schema import DataSpec

#: Largest text file read (bytes): a bound on memory, far above any audit set.
MAX_FILE_BYTES = 512 * 1024 * 1024
#: Most texts in one file.
MAX_TEXTS = 1_000_000
#: Longest single text (characters); longer ones are refused rather than truncated silently.
MAX_TEXT_CHARS = 1_000_000
#: Longest ID (characters).
MAX_ID_CHARS = 512

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass(frozen=True)
class TextSet:
    """One set of texts (members, non-members or population), in file order."""

    role: str
    source: Path
    ids: list[str]
    texts: list[str]
    lines: list[int]
    slices: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def where(self, i: int) -> str:
        return f"{self.source.name}:{self.lines[i]} (ID {self.ids[i]!r})"


@dataclass(frozen=True)
class TextData:
    """Members and non-members (the audit) and optional population texts, with what was checked."""

    members: TextSet
    non_members: TextSet
    population: TextSet | None
    checks: list[str]
    warnings: list[str]

    @property
    def ids(self) -> list[str]:
        return self.members.ids + self.non_members.ids

    @property
    def texts(self) -> list[str]:
        return self.members.texts + self.non_members.texts

    @property
    def is_member(self) -> np.ndarray:
        return np.r_[np.ones(len(self.members), bool), np.zeros(len(self.non_members), bool)]

    @property
    def slices(self) -> dict[str, np.ndarray]:
        return {
            column: np.asarray(self.members.slices[column] + self.non_members.slices[column], dtype=object)
            for column in self.members.slices
        }


def normalise(text: str) -> str:
    """The text with runs of whitespace collapsed: what makes two passages "the same" for the overlap check."""
    return " ".join(text.split())


def detect_text_format(path: Path, declared: str | None) -> str:
    """Which reader, JSONL or CSV: the policy's data.format, else the extension, else the first character."""
    if declared in ("jsonl", "csv"):
        return declared
    if path.suffix.lower() in JSONL_SUFFIXES:
        return "jsonl"
    if path.suffix.lower() == ".csv":
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(Problem(f"cannot read the file ({exc.strerror})", file=path)) from None
    if size > MAX_FILE_BYTES:
        raise DataError(
            Problem(
                f"the file has {size:,} bytes, more than the {MAX_FILE_BYTES:,} a text set may have; "
                "audit a sample of the texts",
                file=path,
            )
        )
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(Problem("the file is not UTF-8 text; save it as UTF-8", file=path, line=line)) from None


def _jsonl_rows(path: Path, content: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(
                Problem(f"not valid JSON ({exc.msg}); each line must be one JSON object", file=path, line=number)
            ) from None
        if not isinstance(row, dict):
            raise DataError(
                Problem(
                    f"each line must be one JSON object with the id and text fields, got {type(row).__name__}",
                    file=path,
                    line=number,
                )
            )
        yield number, row


def _csv_rows(path: Path, content: str) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise DataError(Problem(f"not valid CSV ({exc})", file=path, line=1)) from None
    if len(set(header)) != len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        raise DataError(Problem(f"the header names column(s) {twice} more than once", file=path, line=1))
    last = reader.line_num
    while True:
        start = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(Problem(f"not valid CSV ({exc})", file=path, line=start)) from None
        last = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise DataError(
                Problem(
                    f"{len(cells)} cells where the header has {len(header)} columns; quote texts that hold commas "
                    "or line breaks",
                    file=path,
                    line=start,
                )
            )
        yield start, dict(zip(header, cells, strict=True))


def _id_of(value: object, path: Path, line: int, column: str) -> str:
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int)):
        got = "null" if value is None else type(value).__name__
        raise DataError(
            Problem(f"the ID must be a string or a whole number, got {got}", file=path, line=line, field=column)
        )
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise DataError(Problem("the ID is empty; every text needs a stable ID", file=path, line=line, field=column))
    if len(text) > MAX_ID_CHARS:
        raise DataError(
            Problem(
                f"the ID has {len(text):,} characters, more than {MAX_ID_CHARS}", file=path, line=line, field=column
            )
        )
    return text


def _text_of(value: object, path: Path, line: int, column: str, ident: str) -> str:
    if not isinstance(value, str):
        got = "null" if value is None else type(value).__name__
        raise DataError(
            Problem(f"record {ident!r}: the text must be a string, got {got}", file=path, line=line, field=column)
        )
    if not value.strip():
        raise DataError(
            Problem(f"record {ident!r}: the text is empty; remove the record", file=path, line=line, field=column)
        )
    if len(value) > MAX_TEXT_CHARS:
        raise DataError(
            Problem(
                f"record {ident!r}: the text has {len(value):,} characters, more than {MAX_TEXT_CHARS:,}; split it "
                "into passages",
                file=path,
                line=line,
                field=column,
            )
        )
    return value


def read_texts(path: Path, spec: DataSpec, role: str) -> TextSet:
    """Read one text set (JSONL or CSV) and check every record, each problem located."""
    text_column = spec.text_column or "text"
    fmt = detect_text_format(path, spec.format)
    content = _read_text(path)
    rows = _jsonl_rows(path, content) if fmt == "jsonl" else _csv_rows(path, content)
    ids: list[str] = []
    texts: list[str] = []
    lines: list[int] = []
    slices: dict[str, list[str]] = {c: [] for c in spec.slice_columns}
    seen: dict[str, int] = {}
    for line, row in rows:
        if len(ids) >= MAX_TEXTS:
            raise DataError(Problem(f"more than {MAX_TEXTS:,} texts; audit a sample of them", file=path, line=line))
        for column in (spec.id_column, text_column, *spec.slice_columns):
            if column not in row:
                present = ", ".join(sorted(map(str, row))) or "none"
                raise DataError(
                    Problem(
                        f"field '{column}' is missing (fields present: {present})", file=path, line=line, field=column
                    )
                )
        ident = _id_of(row[spec.id_column], path, line, spec.id_column)
        if ident in seen:
            raise DataError(
                Problem(
                    f"ID {ident!r} appears twice in {role} (first at line {seen[ident]}); IDs must be unique",
                    file=path,
                    line=line,
                    field=spec.id_column,
                )
            )
        seen[ident] = line
        texts.append(_text_of(row[text_column], path, line, text_column, ident))
        ids.append(ident)
        lines.append(line)
        for column in spec.slice_columns:
            value = row[column]
            slices[column].append("" if value is None else str(value))
    if not ids:
        raise DataError(Problem(f"no texts in {role}; the file is empty", file=path))
    return TextSet(role=role, source=path, ids=ids, texts=texts, lines=lines, slices=slices)


def _disjoint_ids(a: TextSet, b: TextSet) -> None:
    first = {ident: i for i, ident in enumerate(a.ids)}
    for j, ident in enumerate(b.ids):
        if ident in first:
            raise DataError(
                Problem(
                    f"ID {ident!r} is in both {a.role} ({a.where(first[ident])}) and {b.role}; a text cannot be "
                    "both, so every figure would be wrong",
                    file=b.source,
                    line=b.lines[j],
                )
            )


def _same_texts(a: TextSet, b: TextSet) -> list[tuple[int, int]]:
    """Pairs (i in a, j in b) whose texts are the same after whitespace normalisation."""
    index: dict[str, int] = {}
    for i, text in enumerate(a.texts):
        index.setdefault(normalise(text), i)
    return [(index[key], j) for j, text in enumerate(b.texts) if (key := normalise(text)) in index]


def load_texts(spec: DataSpec) -> TextData:
    """Load and check members, non-members and population as the policy declares."""
    members = read_texts(spec.members, spec, "members")
    non_members = read_texts(spec.non_members, spec, "non-members")
    population = read_texts(spec.population, spec, "population") if spec.population is not None else None
    sets = [s for s in (members, non_members, population) if s is not None]
    for i, a in enumerate(sets):
        for b in sets[i + 1 :]:
            _disjoint_ids(a, b)
    checks = [
        f"{len(members):,} member and {len(non_members):,} non-member texts"
        + (f" and {len(population):,} population texts" if population is not None else "")
        + " read; every record has a non-empty ID and text",
        "record IDs are unique and members, non-members and population do not overlap",
    ]
    warnings: list[str] = []
    overlaps = []
    for i, a in enumerate(sets):
        for b in sets[i + 1 :]:
            pairs = _same_texts(a, b)
            if pairs:
                overlaps.append((a, b, pairs))
    if overlaps:
        summary = "; ".join(f"{len(p)} between {a.role} and {b.role}" for a, b, p in overlaps)
        a, b, pairs = overlaps[0]
        i, j = pairs[0]
        if not spec.allow_duplicate_records:
            raise DataError(
                Problem(
                    f"the same text (ignoring whitespace) appears in more than one set ({summary}); the first is "
                    f"{b.where(j)}, the same as {a.role} {a.where(i)}. A text cannot be both trained on and not, "
                    "so every figure would be wrong. Remove the duplicates, or set "
                    "data.allow_duplicate_records: true if they are distinct records that happen to read alike",
                    file=b.source,
                    line=b.lines[j],
                )
            )
        note = f"the same text appears in more than one set ({summary}); allowed by data.allow_duplicate_records"
        warnings.append(note + ". Such texts score alike on both sides, which pulls every figure toward chance")
        checks.append(note)
    else:
        checks.append("no text (ignoring whitespace) appears in more than one of members, non-members and population")
    return TextData(members=members, non_members=non_members, population=population, checks=checks, warnings=warnings)

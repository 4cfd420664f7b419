"""Loading the audit records and checking they can support an assessment.

The assessment compares records the model was trained on (members) with
records from the same population it never saw (non-members). Problems in
these files silently invalidate every figure, so they are caught here: a
record in both sets, duplicate IDs, labels the model does not know, missing
columns. Messages name the file, the row (as a line number of the file for
CSV) and the column, never a record's values.
"""

from __future__ import annotations

import csv
import functools
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from compliance_mia.errors import DataError, Problem
from compliance_mia.policy.schema import DataSpec
from compliance_mia.text import neutralise

log = logging.getLogger(__name__)

_READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
MIN_RECORDS = 20
#: identical feature rows across sets are refused when they exceed what chance explains by this many SDs
DUPLICATE_Z = 3.0
#: extensions of formats that are not read (anything else without a known extension is detected by content)
_FOREIGN = {
    ".xlsx", ".xls", ".xlsm", ".ods", ".json", ".jsonl", ".zip", ".gz", ".bz2", ".xz", ".zst", ".pkl", ".pickle",
    ".feather", ".arrow", ".h5", ".hdf5", ".sav", ".dta", ".sas7bdat", ".orc", ".avro", ".npy", ".npz",
}


@dataclass(frozen=True)
class RecordSet:
    """Records of one role: IDs, model inputs, true labels, and slice columns."""

    role: str
    ids: np.ndarray
    X: pd.DataFrame
    y: np.ndarray
    slices: pd.DataFrame
    source: Path | None = None
    #: 0-based row of each record in its file (for locating problems), if known
    rows: np.ndarray | None = None
    #: the file is CSV/TSV (rows have line numbers) rather than Parquet
    text_file: bool = True
    #: field separator of a CSV/TSV source
    delimiter: str = ","

    def line_of(self, position: int) -> int | None:
        """Line in :attr:`source` where the record at ``position`` starts (CSV/TSV), else None."""
        if self.rows is None or not self.text_file:
            return None
        return file_line(self.source, int(self.rows[position]), self.delimiter)

    def where(self, position: int) -> str:
        """``line N`` (CSV/TSV) or ``row N`` (Parquet, 1-based) of the record at ``position``."""
        if self.rows is None:
            return f"record {position + 1}"
        line = self.line_of(position)
        return f"line {line}" if line is not None else f"row {int(self.rows[position]) + 1}"

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray, role: str | None = None) -> RecordSet:
        """A subset by position (keeps column order)."""
        return RecordSet(
            role=role or self.role,
            ids=self.ids[index],
            X=self.X.iloc[index].reset_index(drop=True),
            y=self.y[index],
            slices=self.slices.iloc[index].reset_index(drop=True),
            source=self.source,
            rows=self.rows[index] if self.rows is not None else None,
            text_file=self.text_file,
            delimiter=self.delimiter,
        )

    @staticmethod
    def concat(parts: list[RecordSet], role: str) -> RecordSet:
        return RecordSet(
            role=role,
            ids=np.concatenate([p.ids for p in parts]),
            X=pd.concat([p.X for p in parts], ignore_index=True),
            y=np.concatenate([p.y for p in parts]),
            slices=pd.concat([p.slices for p in parts], ignore_index=True),
        )


@dataclass(frozen=True)
class AuditData:
    """Members and non-members under audit, plus the attacker's background data.

    ``population_source`` says where the background data came from: the
    policy's population file, or a seeded share of the non-members set aside
    (then those records are not evaluated).
    """

    members: RecordSet
    non_members: RecordSet
    population: RecordSet | None
    feature_names: list[str]
    population_source: str
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def audit(self) -> RecordSet:
        """Members then non-members, the records every attack scores."""
        return RecordSet.concat([self.members, self.non_members], role="audit")

    @property
    def is_member(self) -> np.ndarray:
        return np.concatenate([np.ones(len(self.members), bool), np.zeros(len(self.non_members), bool)])


def detect_format(path: Path, declared: str | None = None) -> str:
    """``csv``, ``tsv`` or ``parquet``: as declared, else from the extension, else from the content.

    Content detection serves extension-less files (DVC and git-annex caches
    are symlinks to files named by a hash): Parquet files start with the
    magic bytes ``PAR1``; anything else is taken as delimited text, tab- or
    comma-separated by what the first line holds.
    """
    if declared is not None:
        return declared
    kind = _READERS.get(path.suffix.lower())
    if kind is not None:
        return kind
    if path.suffix.lower() in _FOREIGN:
        raise DataError(
            Problem(
                f"unsupported file type '{path.suffix}'; use .csv, .tsv, .parquet or .pq (or a file without "
                "extension, or set data.format)",
                file=path,
            )
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
    except FileNotFoundError:
        raise DataError(Problem("file not found", file=path)) from None
    except OSError as exc:
        raise DataError(Problem(f"cannot read file ({type(exc).__name__})", file=path)) from None
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"\0" in head:
        raise DataError(
            Problem(
                "the file is neither Parquet (no PAR1 magic bytes) nor text; give a .csv, .tsv or .parquet "
                "file, or set data.format",
                file=path,
            )
        )
    first = head.split(b"\n", 1)[0]
    return "tsv" if first.count(b"\t") > first.count(b",") else "csv"


def read_table(path: Path, fmt: str | None = None, *, id_column: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file, raising DataError naming the file on failure.

    ``fmt`` overrides the format (else detected by :func:`detect_format`).
    The ``id_column`` is kept as text exactly as written (``000123`` stays
    ``000123``; spaces are kept; only an empty field is missing), then passed
    through :func:`~compliance_mia.text.neutralise`. Integer IDs in Parquet
    are written in decimal; other non-text IDs are refused. The frame's
    ``attrs["format"]`` records the format, for line numbers in messages.
    """
    kind = detect_format(path, fmt)
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            sep = "\t" if kind == "tsv" else ","
            frame = pd.read_csv(path, sep=sep, low_memory=False)
            header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
            _check_header(header.iloc[0].tolist() if len(header) else [], path)
            if id_column is not None and id_column in frame.columns and len(frame.columns) == len(set(frame.columns)):
                ids = pd.read_csv(
                    path, sep=sep, usecols=[id_column], dtype=str, keep_default_na=False, na_values={id_column: [""]}
                )[id_column]
                if len(ids) == len(frame):
                    frame[id_column] = ids.to_numpy(dtype=object)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(Problem("file not found", file=path)) from None
    except pd.errors.ParserError as exc:
        # The tokenizer's messages give line and field counts, never field contents.
        raise DataError(Problem(f"cannot read as {kind}: {str(exc).strip()}", file=path)) from None
    except UnicodeDecodeError:
        raise DataError(Problem(f"cannot read as {kind}: the file is not UTF-8 text", file=path)) from None
    except pd.errors.EmptyDataError:
        raise DataError(Problem(f"cannot read as {kind}: the file is empty", file=path)) from None
    except Exception as exc:  # pandas/pyarrow raise many types; their text may quote data, so only the type is shown
        raise DataError(
            Problem(f"cannot read as {kind} ({type(exc).__name__}); check the file or set data.format", file=path)
        ) from None
    frame.columns = [neutralise(c) if isinstance(c, str) else c for c in frame.columns]
    _check_header(list(frame.columns), path)
    frame.attrs["format"] = kind
    if id_column is not None and id_column in frame.columns:
        frame[id_column] = _id_text(frame[id_column], path)
    return frame


def _check_header(names: list, path: Path) -> None:
    """Refuse a header that names a column twice (pandas would silently rename the second ``x.1``)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        key = str(name)
        if key in seen:
            shown = "" if _looks_like_number(key) else f" ('{neutralise(key)}')"
            raise DataError(
                Problem(
                    f"columns {seen[key]} and {position} of the header have the same name{shown}; every column "
                    "needs its own name, or which one the model reads is a guess",
                    file=path,
                    line=1 if path.suffix.lower() != ".parquet" else None,
                )
            )
        seen[key] = position


def _id_text(ids: pd.Series, path: Path) -> pd.Series:
    """IDs as Python strings, byte for byte as written (missing stay missing)."""
    out = np.empty(len(ids), dtype=object)
    for i, value in enumerate(ids.tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out[i] = None
        elif isinstance(value, str):
            out[i] = neutralise(value)
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            out[i] = str(int(value))
        else:
            raise DataError(
                Problem(
                    f"record IDs must be text or whole numbers, not {type(value).__name__} (a float ID such as "
                    "1.0 cannot be told from 1); store the ID column as text",
                    file=path,
                    field=str(ids.name),
                )
            )
    return pd.Series(out, index=ids.index, name=ids.name, dtype=object)


def _is_text(frame: pd.DataFrame) -> bool:
    return frame.attrs.get("format", "csv") in ("csv", "tsv")


@functools.lru_cache(maxsize=32)
def _record_lines(path: str, delimiter: str, stamp: tuple[int, int]) -> tuple[int, ...] | None:
    """The line each data record of a CSV/TSV starts on, as pandas counts records (blank lines skipped).

    Quoted fields may span lines and blank lines are skipped, so ``row + 2``
    is only right for the simplest files. None when the file cannot be
    scanned (then callers fall back to ``row + 2``).
    """
    starts: list[int] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            done = 0
            for record in reader:
                if record:
                    starts.append(done + 1)
                done = reader.line_num
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return tuple(starts[1:])  # the first record is the header


def file_line(path: Path | None, row: int, delimiter: str = ",") -> int:
    """Line of the CSV/TSV ``path`` on which data row ``row`` (0-based) starts."""
    if path is not None:
        try:
            info = path.stat()
            lines = _record_lines(str(path), delimiter, (info.st_mtime_ns, info.st_size))
        except OSError:
            lines = None
        if lines is not None and row < len(lines):
            return lines[row]
    return row + 2


def _delimiter(frame: pd.DataFrame) -> str:
    return "\t" if frame.attrs.get("format") == "tsv" else ","


def _row_line(path: Path, row: int, frame: pd.DataFrame) -> int | None:
    """Line on which data row ``row`` (0-based) starts in a CSV/TSV; None for Parquet."""
    return file_line(path, row, _delimiter(frame)) if _is_text(frame) else None


def _where(frame: pd.DataFrame, row: int, path: Path | None = None) -> str:
    """``line N`` for text files, ``row N`` (1-based) for Parquet."""
    return f"line {file_line(path, row, _delimiter(frame))}" if _is_text(frame) else f"row {row + 1}"


def _looks_like_number(name: object) -> bool:
    try:
        float(str(name))
    except ValueError:
        return False
    return True


def _missing_columns(frame: pd.DataFrame, missing: list[str], needed: list[str], path: Path) -> Problem:
    names = ", ".join(repr(c) for c in missing)
    present = [c for c in needed if c in frame.columns]
    line = 1 if _is_text(frame) else None
    if (not present or any(_looks_like_number(c) for c in frame.columns)) and _is_text(frame):
        # The first line may be a record, not a header (none of the named columns is there,
        # or a field is a number), so its fields are not shown: they would be a person's data.
        return Problem(
            f"missing column(s) {names}; the file's first line ({len(frame.columns)} field(s)) does not look "
            "like the header the policy describes. Is the header line missing, or the delimiter wrong? "
            "(its fields are not shown: they may be a record)",
            file=path,
            line=line,
        )
    return Problem(
        f"missing column(s) {names}; the file has {', '.join(repr(str(c)) for c in frame.columns)}",
        file=path,
        line=line,
    )


def _check_features(frame: pd.DataFrame, features: list[str], path: Path, numeric: dict[str, bool]) -> list[Problem]:
    """Infinite numbers, and text in a column that is numeric (here or in the members file)."""
    problems: list[Problem] = []
    for col in features:
        series = frame[col]
        if pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            problems.extend(_infinite(values, frame, path, col))
            continue
        present = series.notna().to_numpy()
        if not present.any():
            continue
        numbers = _numbers(series)
        as_number = ~np.isnan(numbers)
        should_be_numeric = numeric.get(col)
        if should_be_numeric is None:
            should_be_numeric = as_number.sum() > 0.5 * present.sum()
        if should_be_numeric:
            bad = present & ~as_number
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                problems.append(
                    Problem(
                        f"{int(bad.sum())} value(s) that are not numbers in a numeric column, first at "
                        f"{_where(frame, row, path)} (values are not shown)",
                        file=path,
                        line=_row_line(path, row, frame),
                        field=str(col),
                    )
                )
                continue
            problems.extend(_infinite(numbers, frame, path, col))
    return problems


def _infinite(values: np.ndarray, frame: pd.DataFrame, path: Path, col: object) -> list[Problem]:
    """The located problem for infinite values in one feature column (none when all are finite)."""
    inf = np.isinf(values)
    if not inf.any():
        return []
    row = int(np.flatnonzero(inf)[0])
    return [
        Problem(
            f"{int(inf.sum())} infinite value(s) (inf or -inf), first at {_where(frame, row, path)}; "
            "features must be finite numbers or empty",
            file=path,
            line=_row_line(path, row, frame),
            field=str(col),
        )
    ]


def _select(
    frame: pd.DataFrame,
    spec: DataSpec,
    role: str,
    path: Path,
    features: list[str],
    numeric: dict[str, bool] | None = None,
) -> RecordSet:
    problems: list[Problem] = []
    needed = [spec.id_column, spec.label_column, *features, *spec.slice_columns]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        # Only columns the policy names by hand show that the first line is a header.
        named = [spec.id_column, spec.label_column, *(spec.feature_columns or []), *spec.slice_columns]
        raise DataError(_missing_columns(frame, missing, named, path))
    ids = frame[spec.id_column]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        problems.append(
            Problem("record ID is empty", file=path, line=_row_line(path, row, frame), field=spec.id_column)
        )
    ids_str = np.asarray([neutralise(str(v)) for v in ids.tolist()], dtype=object)
    dup = pd.Series(ids_str).duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        problems.append(
            Problem(
                f"record ID {ids_str[row]!r} appears more than once ({int(dup.sum())} duplicate(s)); "
                "IDs must be unique",
                file=path,
                line=_row_line(path, row, frame),
                field=spec.id_column,
            )
        )
    labels = frame[spec.label_column]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        problems.append(
            Problem("label is empty", file=path, line=_row_line(path, row, frame), field=spec.label_column)
        )
    problems.extend(_check_features(frame, features, path, numeric or {}))
    if len(frame) < MIN_RECORDS:
        problems.append(Problem(f"only {len(frame)} {role} record(s); at least {MIN_RECORDS} are needed", file=path))
    if problems:
        raise DataError(problems)
    slices = (
        frame[spec.slice_columns].astype("string").fillna("(missing)").map(neutralise)
        if spec.slice_columns
        else pd.DataFrame(index=frame.index)
    )
    return RecordSet(
        role=role,
        ids=ids_str,
        X=frame[features].reset_index(drop=True),
        y=labels.to_numpy(),
        slices=slices.reset_index(drop=True),
        source=path,
        rows=np.arange(len(frame)),
        text_file=_is_text(frame),
        delimiter=_delimiter(frame),
    )


def feature_columns(frame: pd.DataFrame, spec: DataSpec) -> list[str]:
    """Model input columns: declared, or every column except ID, label and excluded ones."""
    if spec.feature_columns is not None:
        return list(spec.feature_columns)
    skip = {spec.id_column, spec.label_column, *spec.exclude_columns}
    return [c for c in frame.columns if c not in skip]


def load_audit_data(
    spec: DataSpec, *, seed: int, population_fraction: float = 0.5, need_population: bool = True
) -> AuditData:
    """Load members, non-members and population as the policy declares, and check them.

    When no population file is given and the plan needs background data,
    a seeded ``population_fraction`` of the non-members is set aside as the
    attacker's population and not evaluated.
    """
    from compliance_mia.seeding import rng

    def read(path: Path) -> pd.DataFrame:
        return read_table(path, spec.format, id_column=spec.id_column)

    members_frame = read(spec.members)
    features = feature_columns(members_frame, spec)
    numeric = _numeric_columns(members_frame, features)
    members = _select(members_frame, spec, "members", spec.members, features, numeric)
    non_members = _select(read(spec.non_members), spec, "non-members", spec.non_members, features, numeric)
    population = None
    source = "none"
    checks: list[str] = []
    warnings: list[str] = []
    if spec.population is not None:
        population = _select(read(spec.population), spec, "population", spec.population, features, numeric)
        source = f"population file {spec.population.name}"

    _check_disjoint(members, non_members)
    if population is not None:
        _check_disjoint(members, population)
        _check_disjoint(non_members, population)
    checks.append("record IDs are unique and members, non-members and population do not overlap")

    same = duplicate_records(members, non_members, population)
    if same:
        summary = "; ".join(
            f"{d.count} between {d.a.role} and {d.b.role} (about {d.expected:.0f} expected by chance)" for d in same
        )
        unexplained = [d for d in same if d.z > DUPLICATE_Z]
        if unexplained and not spec.allow_duplicate_records:
            first = unexplained[0]
            raise DataError(
                Problem(
                    f"records with identical feature values appear in more than one set ({summary}): more than "
                    f"chance explains, given how often {first.a.role} repeat one another's values. The first is at "
                    f"{first.b.where(first.b_position)}, the same as {first.a.role} "
                    f"{first.a.source.name if first.a.source else ''} {first.a.where(first.a_position)}. The same "
                    "person under two IDs makes every figure wrong. Remove them, or set "
                    "data.allow_duplicate_records: true if distinct people can share every feature value",
                    file=first.b.source,
                    line=first.b.line_of(first.b_position),
                )
            )
        why = (
            "allowed by data.allow_duplicate_records"
            if unexplained
            else "no more than chance explains, since records within a set also repeat one another's values, so "
            "these may be different people"
        )
        warnings.append(
            f"records with identical feature values appear in more than one set ({summary}); {why}. If they are "
            "the same people under different IDs, the figures are biased"
        )
        checks.append(f"identical feature rows across sets: {summary}; {why}")
    else:
        checks.append("no record's feature values appear in more than one of members, non-members and population")

    known = {str(v) for v in pd.unique(members.y).tolist()}
    unseen = {str(v) for v in pd.unique(non_members.y).tolist()} - known
    if unseen:
        warnings.append(
            f"non-members carry {len(unseen)} label value(s) that no member has; the model never learnt them"
        )

    if population is None and need_population:
        order = rng(seed, "population-split").permutation(len(non_members))
        cut = int(round(len(non_members) * population_fraction))
        cut = min(max(cut, 1), len(non_members) - MIN_RECORDS)
        if cut < MIN_RECORDS:
            raise DataError(
                Problem(
                    f"no population file and only {len(non_members)} non-members: too few to set aside attacker "
                    "background data and still evaluate; add data.population",
                    file=spec.non_members,
                )
            )
        population = non_members.take(np.sort(order[:cut]), role="population")
        non_members = non_members.take(np.sort(order[cut:]))
        source = (
            f"{cut} non-members set aside at random (seeded) as attacker background data; "
            f"{len(non_members)} non-members remain for evaluation"
        )
        checks.append(f"no population file: {source}")

    for frame_role, rs in (("members", members), ("non-members", non_members)):
        nan_cols = [c for c in rs.X.columns if rs.X[c].isna().any()]
        if nan_cols:
            warnings.append(
                f"{frame_role} have missing values in {len(nan_cols)} feature column(s): {', '.join(nan_cols[:8])}"
            )
    ratio = len(members) / max(len(non_members), 1)
    if ratio > 10 or ratio < 0.1:
        warnings.append(
            f"members ({len(members)}) and non-members ({len(non_members)}) are very unbalanced; "
            "intervals will be dominated by the smaller group"
        )
    checks.append(f"{len(features)} feature column(s) present in every file; labels non-empty")
    return AuditData(
        members=members,
        non_members=non_members,
        population=population,
        feature_names=features,
        population_source=source,
        checks=checks,
        warnings=warnings,
    )


def reorder_features(data: AuditData, names: list[str]) -> AuditData:
    """Give every record set its feature columns in ``names`` order (the order the model was fitted with).

    Figures must not depend on the column order of the files: reference
    models see features by position (a random forest samples them by
    index), so they are reordered to the target's own order. A named
    feature missing from the data is refused; data columns the model does
    not take are left out, with a warning naming them.
    """
    names = [str(n) for n in names]
    columns = [str(c) for c in data.feature_names]
    missing = [n for n in names if n not in columns]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise DataError(
            Problem(
                f"the model takes feature column(s) {shown} that the data does not have; the data's feature "
                f"columns are {', '.join(repr(c) for c in columns[:20])}"
                f"{' …' if len(columns) > 20 else ''}. Add them, or set data.feature_columns to the model's inputs",
                file=data.members.source,
                field="data.feature_columns",
            )
        )
    if names == columns:
        return data
    by_name = {str(c): c for c in data.feature_names}
    order = [by_name[n] for n in names]

    def pick(rs: RecordSet | None) -> RecordSet | None:
        return None if rs is None else replace(rs, X=rs.X[order])

    warnings = list(data.warnings)
    left_out = [c for c in columns if c not in set(names)]
    if left_out:
        warnings.append(
            f"{len(left_out)} data column(s) are not model inputs and were left out: "
            f"{', '.join(left_out[:8])}{' …' if len(left_out) > 8 else ''}"
        )
    return replace(
        data,
        members=pick(data.members),
        non_members=pick(data.non_members),
        population=pick(data.population),
        feature_names=order,
        checks=[*data.checks, "feature columns put in the order the model was fitted with"],
        warnings=warnings,
    )


def _numeric_columns(frame: pd.DataFrame, features: list[str]) -> dict[str, bool]:
    """Which feature columns are numbers in the members file (then they must be in every file)."""
    out: dict[str, bool] = {}
    for col in features:
        series = frame[col] if col in frame.columns else None
        if series is None or pd.api.types.is_bool_dtype(series):
            continue
        if pd.api.types.is_numeric_dtype(series):
            out[col] = True
            continue
        present = series.notna()
        parsed = ~np.isnan(_numbers(series))
        out[col] = bool(present.any() and parsed.sum() > 0.5 * present.sum())
    return out


def _numbers(series: pd.Series) -> np.ndarray:
    """``pd.to_numeric(series, errors="coerce")`` as floats (NaN where a value is not a number).

    Each distinct value is parsed once: coercing text value by value costs
    about 4 µs per record (an exception per word), 2 s for a 250,000-record
    audit whose text columns hold a handful of categories.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    parsed = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(codes >= 0, parsed[np.maximum(codes, 0)] if len(parsed) else np.nan, np.nan)


def _row_keys(X: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per record of its feature values, comparable across files.

    Numbers are compared as floats (so ``3`` in one file equals ``3.0`` in
    another), everything else as text; a missing value is its own value.
    """
    canon = pd.DataFrame(index=X.index)
    for i, col in enumerate(X.columns):
        series = X[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            canon[i] = series.astype(float)
        else:
            numbers = _numbers(series)
            if series.notna().any() and (~np.isnan(numbers)).sum() == series.notna().sum():
                canon[i] = numbers
            else:
                canon[i] = series.astype("string").fillna("\0missing")
    return pd.util.hash_pandas_object(canon, index=False).to_numpy()


def _excess(count: int, share: float, n_a: int, n_b: int) -> float:
    """How many standard deviations ``count`` matches in ``b`` lie above what chance explains.

    Chance: each record of ``b`` matches some record of ``a`` with probability
    ``share`` (the fraction of ``a`` that repeats within ``a``). The variance
    counts both the binomial draw of ``b`` and the estimate of ``share`` from
    ``a``, so the test is not over-confident on small files.
    """
    expected = share * n_b
    variance = n_b * share * (1 - share) + n_b**2 * share * (1 - share) / max(n_a, 1)
    if variance <= 0:
        return float("inf") if count > expected else 0.0
    return float((count - expected) / np.sqrt(variance))


@dataclass(frozen=True)
class DuplicateRecords:
    """Records of set ``b`` whose feature values equal a record of set ``a``."""

    a: RecordSet
    b: RecordSet
    count: int  #: records of ``b`` that match some record of ``a``
    a_position: int  #: first match: position in ``a``
    b_position: int  #: first match: position in ``b``
    expected: float = 0.0  #: matches chance explains: ``len(b)`` times the share of ``a`` that repeats within ``a``
    z: float = float("inf")  #: standard deviations by which ``count`` exceeds ``expected``


def duplicate_records(
    members: RecordSet, non_members: RecordSet, population: RecordSet | None = None
) -> list[DuplicateRecords]:
    """Exact feature-row matches between members, non-members and population (by row hash)."""
    sets = [members, non_members] + ([population] if population is not None else [])
    keys = [_row_keys(rs.X) for rs in sets]
    found: list[DuplicateRecords] = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            first_in_a: dict[int, int] = {}
            for pos, key in enumerate(keys[i].tolist()):
                first_in_a.setdefault(key, pos)
            hits = [pos for pos, key in enumerate(keys[j].tolist()) if key in first_in_a]
            if hits:
                b_pos = hits[0]
                # How often a record of a's distribution shares every feature value with another one:
                # the chance that a different person in b matches some record of a.
                share = float(pd.Series(keys[i]).duplicated(keep=False).mean())
                found.append(
                    DuplicateRecords(
                        a=sets[i],
                        b=sets[j],
                        count=len(hits),
                        a_position=first_in_a[int(keys[j][b_pos])],
                        b_position=b_pos,
                        expected=share * len(sets[j]),
                        z=_excess(len(hits), share, len(sets[i]), len(sets[j])),
                    )
                )
    return found


def check_labels(
    data: AuditData, classes: np.ndarray | list, *, label_column: str | None = None, drop_unknown: bool = False
) -> AuditData:
    """Refuse labels the model cannot have learnt, before anything is queried.

    A member (a training record) whose label is not one of the model's
    ``classes`` means the files or the model are not the ones that were
    trained together (e.g. a model trained on ``N``/``Y`` audited on data
    labelled ``no``/``yes``): always a :class:`DataError` naming the file, the
    first line, the label column and the accepted classes. Non-members and
    population records with such a label are refused too (their loss is
    undefined, and they would look like obvious non-members and inflate the
    attack's figures) unless ``drop_unknown`` (the policy's
    ``data.drop_unknown_labels``): then they are left out and counted in the
    data warnings and checks. Labels are compared as given, then as text.
    Label values are never quoted (they are a person's data); class names
    from the model are.
    """
    classes = np.asarray(classes)
    accepted = ", ".join(repr(str(c)) for c in classes.tolist())
    problems: list[Problem] = []
    keep: dict[str, np.ndarray] = {}
    sets = [("members", data.members), ("non-members", data.non_members)]
    if data.population is not None:
        sets.append(("population", data.population))
    dropped: list[str] = []
    for role, rs in sets:
        unknown = class_index(classes, np.asarray(rs.y, dtype=object)) < 0
        if not unknown.any():
            continue
        first = int(np.flatnonzero(unknown)[0])
        count = int(unknown.sum())
        if role != "members" and drop_unknown:
            keep[role] = np.flatnonzero(~unknown)
            dropped.append(f"{count} {role} record(s)")
            continue
        advice = (
            "the model was not trained on these files, or labels are coded differently (e.g. 'yes' for 'Y')"
            if role == "members"
            else "set data.drop_unknown_labels: true to leave such records out"
        )
        problems.append(
            Problem(
                f"{count} {role} record(s) have a label that is not one of the model's classes ({accepted}); "
                f"the first is at {rs.where(first)} (labels are not shown). {advice}",
                file=rs.source,
                line=rs.line_of(first),
                field=label_column,
            )
        )
    if problems:
        raise DataError(problems)
    if not dropped:
        return replace(data, checks=[*data.checks, "every label is one of the model's classes"])
    non_members = data.non_members.take(keep["non-members"]) if "non-members" in keep else data.non_members
    population = data.population
    if population is not None and "population" in keep:
        population = population.take(keep["population"])
    for role, rs in (("non-members", non_members), ("population", population)):
        if rs is not None and len(rs) < MIN_RECORDS:
            raise DataError(
                Problem(
                    f"only {len(rs)} {role} record(s) left after leaving out labels the model lacks; "
                    f"at least {MIN_RECORDS} are needed",
                    file=rs.source,
                )
            )
    note = f"left out {' and '.join(dropped)} whose label is not one of the model's classes (data.drop_unknown_labels)"
    return replace(
        data,
        non_members=non_members,
        population=population,
        checks=[*data.checks, note],
        warnings=[*data.warnings, note],
    )


def _check_disjoint(a: RecordSet, b: RecordSet) -> None:
    both = np.intersect1d(a.ids, b.ids)
    if len(both):
        raise DataError(
            Problem(
                f"{len(both)} record ID(s) appear in both {a.role} ({a.source.name if a.source else '?'}) and "
                f"{b.role}, e.g. {str(both[0])!r}; a record cannot be both, so every figure would be wrong",
                file=b.source,
            )
        )


def class_index(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position of each true label in ``classes`` (-1 where the model has no such class).

    Labels are compared as strings as a fallback, so a CSV label ``1`` matches a
    model class ``1`` even when one side was read as text.
    """
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    lookup_str = {str(c): i for i, c in enumerate(classes.tolist())}
    out = np.empty(len(y), dtype=np.int64)
    for j, value in enumerate(y.tolist()):
        idx = lookup.get(value)
        if idx is None:
            idx = lookup_str.get(str(value), -1)
        out[j] = idx
    return out

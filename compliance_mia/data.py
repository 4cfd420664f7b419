"""Loading the audit records and checking they can support an assessment.

The assessment compares records the model was trained on (members) with
records from the same population it never saw (non-members). Problems in
these files silently invalidate every figure, so they are caught here: a
record in both sets, duplicate IDs, labels the model does not know, missing
columns. Messages name the file, the row (as a line number of the file for
CSV) and the column, never a record's values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from compliance_mia.errors import DataError, Problem
from compliance_mia.policy.schema import DataSpec

log = logging.getLogger(__name__)

_READERS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
MIN_RECORDS = 20


@dataclass(frozen=True)
class RecordSet:
    """Records of one role: IDs, model inputs, true labels, and slice columns."""

    role: str
    ids: np.ndarray
    X: pd.DataFrame
    y: np.ndarray
    slices: pd.DataFrame
    source: Path | None = None

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


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet file, raising DataError naming the file on failure."""
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        raise DataError(Problem(f"unsupported file type '{path.suffix}'; use .csv, .tsv, .parquet or .pq", file=path))
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",", low_memory=False)
    except FileNotFoundError:
        raise DataError(Problem("file not found", file=path)) from None
    except Exception as exc:  # pandas/pyarrow raise many types for malformed files
        raise DataError(Problem(f"cannot read as {kind}: {exc}", file=path)) from None


def _row_line(path: Path, row: int) -> int | None:
    """Line number of data row ``row`` (0-based) in a CSV with a header line."""
    return row + 2 if path.suffix.lower() in (".csv", ".tsv") else None


def _select(frame: pd.DataFrame, spec: DataSpec, role: str, path: Path, features: list[str]) -> RecordSet:
    problems: list[Problem] = []
    needed = [spec.id_column, spec.label_column, *features, *spec.slice_columns]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        problems.append(
            Problem(
                f"missing column(s) {', '.join(repr(c) for c in missing)}; the file has "
                f"{', '.join(repr(c) for c in frame.columns)}",
                file=path,
                line=1 if path.suffix.lower() in (".csv", ".tsv") else None,
            )
        )
        raise DataError(problems)
    ids = frame[spec.id_column]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        problems.append(Problem("record ID is empty", file=path, line=_row_line(path, row), field=spec.id_column))
    ids_str = ids.astype(str).to_numpy()
    dup = pd.Series(ids_str).duplicated(keep="first").to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        problems.append(
            Problem(
                f"record ID {ids_str[row]!r} appears more than once ({int(dup.sum())} duplicate(s)); "
                "IDs must be unique",
                file=path,
                line=_row_line(path, row),
                field=spec.id_column,
            )
        )
    labels = frame[spec.label_column]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        problems.append(Problem("label is empty", file=path, line=_row_line(path, row), field=spec.label_column))
    if len(frame) < MIN_RECORDS:
        problems.append(Problem(f"only {len(frame)} {role} record(s); at least {MIN_RECORDS} are needed", file=path))
    if problems:
        raise DataError(problems)
    slices = (
        frame[spec.slice_columns].astype("string").fillna("(missing)")
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

    members_frame = read_table(spec.members)
    features = feature_columns(members_frame, spec)
    members = _select(members_frame, spec, "members", spec.members, features)
    non_members = _select(read_table(spec.non_members), spec, "non-members", spec.non_members, features)
    population = None
    source = "none"
    checks: list[str] = []
    warnings: list[str] = []
    if spec.population is not None:
        population = _select(read_table(spec.population), spec, "population", spec.population, features)
        source = f"population file {spec.population.name}"

    _check_disjoint(members, non_members)
    if population is not None:
        _check_disjoint(members, population)
        _check_disjoint(non_members, population)
    checks.append("record IDs are unique and members, non-members and population do not overlap")

    known = set(pd.unique(members.y).tolist())
    unseen = sorted({str(v) for v in pd.unique(non_members.y).tolist()} - {str(v) for v in known})
    if unseen:
        warnings.append(
            f"non-members carry label(s) {', '.join(unseen)} that no member has; the model never learnt them"
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


def _check_disjoint(a: RecordSet, b: RecordSet) -> None:
    both = np.intersect1d(a.ids, b.ids)
    if len(both):
        raise DataError(
            Problem(
                f"{len(both)} record ID(s) appear in both {a.role} ({a.source.name if a.source else '?'}) and "
                f"{b.role}, e.g. {both[0]!r}; a record cannot be both, so every figure would be wrong",
                file=b.source,
            )
        )

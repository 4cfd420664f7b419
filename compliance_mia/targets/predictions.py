"""A file of the deployed model's outputs, for owners who share outputs but not the model.

Some system owners will not (or cannot) hand over a model or an endpoint, but
can export what their model returned for a list of records: one row per
record, with its ID and the exposed outputs (probability columns, a predicted
label column and/or a loss column). The assessment then looks each audited
record up by ID.

Nothing new can be asked of a file, so attacks that need fresh queries (the
label-only robustness attack perturbs inputs) cannot run;
:attr:`PredictionsTarget.accepts_arbitrary_inputs` is False and the planner
says so. Attacks that need reference models use the surrogate named in the
policy.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from compliance_mia.data import _missing_columns, file_line, read_table
from compliance_mia.errors import DataError, Problem, TargetError
from compliance_mia.policy.schema import PredictionsSpec
from compliance_mia.targets.base import RawOutputs, Target, class_index, probability_problem

log = logging.getLogger(__name__)

__all__ = ["PredictionsTarget"]


class PredictionsTarget(Target):
    """Outputs looked up by record ID in a CSV/Parquet file (no new queries possible)."""

    kind = "predictions"

    def __init__(self, spec: PredictionsSpec, *, id_column: str, classes: list | None) -> None:
        super().__init__()
        self.path = Path(spec.file)
        path = self.path
        id_col = spec.id_column or id_column
        outputs = [*spec.probability_columns, spec.label_column, spec.loss_column]
        if not any(outputs):
            raise TargetError(
                "model.predictions names no output column: give probability_columns, "
                "label_column and/or loss_column"
            )
        frame = read_table(path, id_column=id_col)
        self._text = frame.attrs.get("format") in ("csv", "tsv")
        self._delimiter = "\t" if frame.attrs.get("format") == "tsv" else ","
        needed = [id_col, *[c for c in outputs if c]]
        missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
        if missing:
            problem = _missing_columns(frame, missing, needed, path)
            raise DataError(Problem(problem.message + " (columns named in model.predictions)", file=path,
                                    line=problem.line))
        self._warnings: list[str] = []
        self._classes = self._read_classes(frame, spec, classes)
        ids = frame[id_col]
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise DataError(
                Problem("record ID is empty", file=path, line=self._line(row), field=id_col)
            )
        id_text = ids.astype(str).to_numpy()
        dup = pd.Series(id_text).duplicated().to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            raise DataError(
                Problem(
                    f"record ID {id_text[row]!r} appears more than once; one row per record",
                    file=path,
                    line=self._line(row),
                    field=id_col,
                )
            )
        self._index = pd.Index(id_text)
        self._proba = self._read_probabilities(frame, spec) if spec.probability_columns else None
        self._labels = self._read_labels(frame, spec.label_column) if spec.label_column else None
        self._loss = self._read_loss(frame, spec.loss_column) if spec.loss_column else None
        log.debug("predictions file %s: %d rows", path.name, len(frame))

    # ----------------------------------------------------------------- reading
    def _line(self, row: int) -> int | None:
        """Line on which data row ``row`` (0-based) starts in a CSV/TSV; None for Parquet."""
        return file_line(self.path, row, self._delimiter) if self._text else None

    def _where(self, row: int) -> str:
        return f"line {self._line(row)}" if self._text else f"row {row + 1}"

    def _read_classes(
        self, frame: pd.DataFrame, spec: PredictionsSpec, classes: list | None
    ) -> np.ndarray:
        n_proba = len(spec.probability_columns)
        if classes is not None:
            if n_proba and n_proba != len(classes):
                raise TargetError(
                    f"model.predictions.probability_columns has {n_proba} column(s) but "
                    f"model.classes has {len(classes)} class(es); give one column per class, in "
                    "the order of model.classes"
                )
            return np.asarray(classes)
        if n_proba or spec.label_column is None:
            raise TargetError(
                "model.classes is needed with a predictions file: list the class labels in the "
                "order of model.predictions.probability_columns"
            )
        values = frame[spec.label_column].dropna()
        found = sorted(pd.unique(values).tolist(), key=str)
        self._warnings.append(
            f"the class list ({', '.join(map(str, found))}) was inferred from the predicted labels "
            f"in {self.path.name}; classes the model never predicted are missing from it. Set "
            "model.classes to be exact"
        )
        return np.asarray(found)

    def _numbers_only(self, frame: pd.DataFrame, columns: list[str]) -> None:
        """In Parquet, where columns have types, an output column must be numeric (not text, not booleans)."""
        if self._text:
            return
        for column in columns:
            series = frame[column]
            if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
                raise DataError(
                    Problem(
                        f"the column holds {series.dtype} values, not numbers; store model outputs as numbers",
                        file=self.path,
                        field=column,
                    )
                )

    def _read_probabilities(self, frame: pd.DataFrame, spec: PredictionsSpec) -> np.ndarray:
        columns = spec.probability_columns
        self._numbers_only(frame, list(columns))
        block = frame[columns].apply(pd.to_numeric, errors="coerce")
        bad = block.isna() | (block < 0) | (block > 1) | ~np.isfinite(block.fillna(0))
        if bad.to_numpy().any():
            row, col = (int(a[0]) for a in np.nonzero(bad.to_numpy()))
            raise DataError(
                Problem(
                    "probability is empty, not a number, or outside [0, 1]",
                    file=self.path,
                    line=self._line(row),
                    field=columns[col],
                )
            )
        proba = block.to_numpy(dtype=float)
        bad_row = probability_problem(proba)
        if bad_row is not None:
            row, why = bad_row
            raise DataError(
                Problem(
                    f"the probabilities in {', '.join(columns)} {why} ({self._where(row)}); each row must hold "
                    f"finite numbers in [0, 1] summing to 1, one per class in model.classes",
                    file=self.path,
                    line=self._line(row),
                )
            )
        return proba

    def _read_labels(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        labels = frame[column].to_numpy()
        idx = class_index(self._classes, labels)
        if (idx < 0).any():
            row = int(np.flatnonzero(idx < 0)[0])
            raise DataError(
                Problem(
                    f"predicted label is empty or not one of model.classes "
                    f"({', '.join(map(str, self._classes.tolist()))})",
                    file=self.path,
                    line=self._line(row),
                    field=column,
                )
            )
        return idx

    def _read_loss(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        self._numbers_only(frame, [column])
        loss = pd.to_numeric(frame[column], errors="coerce")
        bad = loss.isna() | (loss < 0) | ~np.isfinite(loss.fillna(0))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                Problem(
                    "loss is empty, negative or not a finite number",
                    file=self.path,
                    line=self._line(row),
                    field=column,
                )
            )
        return loss.to_numpy(dtype=float)

    # -------------------------------------------------------------- properties
    @property
    def classes(self) -> np.ndarray:
        return self._classes

    @property
    def estimator_name(self) -> str:
        return f"black box (predictions file {self.path.name})"

    @property
    def accepts_arbitrary_inputs(self) -> bool:
        return False

    def assessment_warnings(self) -> list[str]:
        return list(self._warnings)

    # ----------------------------------------------------------------- lookup
    def _raw(self, X: pd.DataFrame, ids: np.ndarray) -> RawOutputs:
        keys = np.asarray(ids).astype(str)
        pos = self._index.get_indexer(keys)
        absent = pos < 0
        if absent.any():
            raise DataError(
                Problem(
                    f"{int(absent.sum())} of {len(keys)} audited record(s) have no row in the "
                    f"predictions file, e.g. ID {str(keys[int(np.flatnonzero(absent)[0])])!r}; the file "
                    "needs a row for every member, non-member and population record",
                    file=self.path,
                )
            )
        proba = self._proba[pos] if self._proba is not None else None
        labels = self._labels[pos] if self._labels is not None else None
        if labels is None and proba is not None:
            labels = proba.argmax(axis=1)
        loss = self._loss[pos] if self._loss is not None else None
        return RawOutputs(probabilities=proba, labels=labels, loss=loss)

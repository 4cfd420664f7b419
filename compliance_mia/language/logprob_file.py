"""Per-token log-probabilities read from a JSONL file, for a model the auditor cannot reach.

The model's owner runs their model over the audited texts and hands over one
JSON line per text::

    {"id": "note-17", "token_logprobs": [-2.1, -0.3, ...], "top_logprobs": [[-0.1, -2.5, ...], ...]}

``token_logprobs`` holds log p(token | tokens before it) for every token the
model predicted; the first token of a text has no context and is left out,
or given as ``null`` (the OpenAI ``echo`` convention) and then dropped.
``top_logprobs`` is optional: per position, the k largest log-probabilities in
descending order (a leading ``null`` row is dropped with the first token).

Texts cannot be looked up by content, so the pipeline asks by id
(:meth:`LogprobFileLM.score_ids`). Ids are compared as strings byte for byte:
``"007"`` is not ``"7"`` and nothing is trimmed or case-folded. Every problem
is reported with the file, line and field, and what would be accepted; a
non-finite or positive log-probability is refused, never read as a number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from compliance_mia.errors import Problem, TargetError
from compliance_mia.language.logprobs import TokenScores
from compliance_mia.targets.httpclient import json_type

__all__ = ["LogprobFileLM", "write_logprob_file"]

#: a log-probability above this is not one (writers round, so allow a hair above 0)
_MAX_LOGPROB = 1e-4
#: descending order is checked with this slack (values rounded when written)
_ORDER_SLACK = 1e-6
#: how many located problems one error lists
_MAX_PROBLEMS = 10

_ACCEPTED = (
    'each line must be a JSON object {"id": "...", "token_logprobs": [numbers <= 0, ...], '
    '"top_logprobs": [[k numbers, descending], ...] (optional)}'
)


class _Located(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Located(field, f"is a {json_type(value)}; a log-probability must be a number")
    if not math.isfinite(value):
        raise _Located(field, "is not finite (NaN or infinite); a log-probability must be a finite number <= 0")
    if value > _MAX_LOGPROB:
        raise _Located(field, "is above 0; a log-probability is at most 0 (natural log of a probability)")
    return float(value)


def _parse_line(obj: Any) -> tuple[str, TokenScores]:
    if not isinstance(obj, dict):
        raise _Located("", f"the line is a JSON {json_type(obj)}, not an object; {_ACCEPTED}")
    unknown = sorted(set(obj) - {"id", "token_logprobs", "top_logprobs"})
    if unknown:
        raise _Located(unknown[0], f"is not a recognised field; {_ACCEPTED}")
    if "id" not in obj:
        raise _Located("id", "is missing; every line names its text by id")
    raw_id = obj["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise _Located("id", f"is a {json_type(raw_id)}; an id must be a string (or a whole number)")
    text_id = raw_id if isinstance(raw_id, str) else str(raw_id)
    if "token_logprobs" not in obj:
        raise _Located("token_logprobs", "is missing")
    values = obj["token_logprobs"]
    if not isinstance(values, list):
        raise _Located("token_logprobs", f"is a {json_type(values)}, not a list of numbers")
    drop_first = bool(values) and values[0] is None
    if drop_first:
        values = values[1:]
    lp = np.array([_number(v, f"token_logprobs[{i + drop_first}]") for i, v in enumerate(values)], dtype=float)
    top = None
    if obj.get("top_logprobs") is not None:
        rows = obj["top_logprobs"]
        if not isinstance(rows, list):
            raise _Located("top_logprobs", f"is a {json_type(rows)}, not a list of lists")
        if drop_first and rows and rows[0] is None:
            rows = rows[1:]
        if len(rows) != len(lp):
            raise _Located(
                "top_logprobs", f"has {len(rows)} row(s) but token_logprobs has {len(lp)} value(s); one row per token"
            )
        widths = set()
        parsed = []
        for r, row in enumerate(rows):
            at = f"top_logprobs[{r + drop_first}]"
            if not isinstance(row, list) or not row:
                raise _Located(at, f"is a {json_type(row)}; each row is a non-empty list of numbers")
            nums = [_number(v, f"{at}[{c}]") for c, v in enumerate(row)]
            if any(b > a + _ORDER_SLACK for a, b in zip(nums, nums[1:], strict=False)):
                raise _Located(at, "is not in descending order; list the k largest log-probabilities, largest first")
            widths.add(len(nums))
            parsed.append(nums)
        if len(widths) > 1:
            raise _Located("top_logprobs", f"rows have different lengths ({sorted(widths)}); use the same k everywhere")
        k = widths.pop() if widths else 0
        top = np.array(parsed, dtype=float).reshape(len(parsed), k)
    return text_id, TokenScores(lp, top)


class LogprobFileLM:
    """A JSONL file of per-token log-probabilities as a :class:`~compliance_mia.language.logprobs.TextTarget`.

    Parameters
    ----------
    path
        The JSONL file (one object per line; blank lines are skipped).
    ids
        The ids the assessment will ask for; when given, every one must be in
        the file (checked now, so a missing text stops the run before any
        attack rather than half-way).
    """

    def __init__(self, path: Path, *, ids: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.name = f"logprobs:{self.path.name}"
        self.queries = 0
        self._scores: dict[str, TokenScores] = {}
        self._read()
        if ids is not None:
            self._check_ids([str(i) if not isinstance(i, str) else i for i in ids])

    def __repr__(self) -> str:
        return f"LogprobFileLM({str(self.path)!r})"

    def _read(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise TargetError(f"the log-probability file {self.path} does not exist") from None
        except OSError as exc:
            raise TargetError(f"cannot read the log-probability file {self.path}: {exc.strerror}") from None
        problems: list[Problem] = []
        lines_of: dict[str, int] = {}
        for number, line in enumerate(raw.split(b"\n"), start=1):
            if len(problems) >= _MAX_PROBLEMS:
                break
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                problems.append(Problem("is not UTF-8 text", file=self.path, line=number))
                continue
            except (ValueError, RecursionError) as exc:
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                problems.append(Problem(f"is not valid JSON ({why}); {_ACCEPTED}", file=self.path, line=number))
                continue
            try:
                text_id, scores = _parse_line(obj)
            except _Located as exc:
                problems.append(Problem(exc.message, file=self.path, line=number, field=exc.field or None))
                continue
            if text_id in lines_of:
                problems.append(Problem(f"repeats the id on line {lines_of[text_id]}; each text appears once",
                                        file=self.path, line=number, field="id"))
                continue
            lines_of[text_id] = number
            self._scores[text_id] = scores
        if problems:
            shown = "\n".join(str(p) for p in problems[:_MAX_PROBLEMS])
            raise TargetError(f"the log-probability file cannot be used:\n{shown}")
        if not self._scores:
            raise TargetError(f"{self.path.name}: the log-probability file holds no lines; {_ACCEPTED}")

    def _check_ids(self, ids: Sequence[str]) -> None:
        missing = [i for i in ids if i not in self._scores]
        if missing:
            shown = ", ".join(repr(i) for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise TargetError(
                f"{self.path.name}: {len(missing)} audited text(s) have no line in the log-probability file "
                f"(ids compared exactly, as strings): {shown}"
            )

    @property
    def ids(self) -> list[str]:
        """The ids in the file, in file order."""
        return list(self._scores)

    def score_ids(self, ids: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        """The scores of the texts named by ``ids`` (with the first ``top_k`` top log-probabilities)."""
        if top_k < 0:
            raise ValueError("top_k must be 0 or more")
        ids = [i if isinstance(i, str) else str(i) for i in ids]
        self._check_ids(ids)
        out: list[TokenScores] = []
        for text_id in ids:
            scores = self._scores[text_id]
            if top_k == 0:
                out.append(TokenScores(scores.logprobs, None))
                continue
            width = None if scores.top_logprobs is None else scores.top_logprobs.shape[1]
            if width is None or (width < top_k and len(scores.logprobs) > 0):
                has = "no top_logprobs" if width is None else f"top_logprobs with {width} value(s) per token"
                raise TargetError(
                    f"{self.path.name}: the line for id {text_id!r} has {has}, but the exposure shows the top "
                    f"{top_k}; add top_logprobs with at least {top_k} values per token, or declare a poorer exposure"
                )
            top = scores.top_logprobs[:, :top_k] if len(scores.logprobs) else np.zeros((0, top_k))
            out.append(TokenScores(scores.logprobs, top))
        self.queries += len(ids)
        return out

    def score(self, texts: Sequence[str], *, top_k: int = 0) -> list[TokenScores]:
        raise TargetError(
            "a log-probability file cannot score texts by content; the assessment looks texts up by id "
            "(score_ids)"
        )

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        raise TargetError("a log-probability file cannot generate text")

    def query_cost(self) -> dict[str, float]:
        """Texts asked so far (the remote target adds requests, retries and seconds)."""
        return {"records": float(self.queries)}

    def close(self) -> None:
        """Nothing to release: the file was read whole."""


def write_logprob_file(path: Path, ids: Sequence[str], scores: Sequence[TokenScores]) -> Path:
    """Write ``scores`` as the JSONL file :class:`LogprobFileLM` reads (what a model owner hands over).

    Floats are written with Python's shortest round-trip repr, so reading the
    file back gives the same numbers exactly.
    """
    if len(ids) != len(scores):
        raise ValueError("one id per TokenScores")
    path = Path(path)
    with path.open("w", encoding="utf-8") as handle:
        for text_id, s in zip(ids, scores, strict=True):
            record: dict[str, Any] = {"id": text_id, "token_logprobs": s.logprobs.tolist()}
            if s.top_logprobs is not None:
                record["top_logprobs"] = s.top_logprobs.tolist()
            handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")
    return path

"""Plain-language formatting of figures for people who are not ML specialists.

Every number a report shows goes through one of these functions (registered
as Jinja filters), so a figure reads the same in the PDF, the HTML, the
Markdown summary and the diff: a percentage with its interval and sample size
(``4.2% (95% CI 3.1–5.6%, n = 5,000)``), or the sentence saying the sample
cannot support it. None of them ever prints a numpy repr or a float with 17
digits. They format; they never judge (no thresholds, no ratings).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from compliance_mia.figures import (  # noqa: F401 - re-exported: the report's filters use the one wording
    DASH,
    MISSING,
    _finite,
    _is_number,
    ci_label,
    confidence_label,
    count,
    decimal,
    fpr_label,
    interval_pct,
    interval_score,
    operating_point,
    pct,
    plain_number,
)

__all__ = [
    "FILTERS",
    "count",
    "date",
    "datetime",
    "decimal",
    "duration",
    "file_size",
    "fpr_label",
    "interval_pct",
    "interval_score",
    "level_index",
    "operating_point",
    "p_value",
    "period",
    "scientific",
    "pct",
    "plain_number",
    "short_hash",
    "human_list",
    "title_case",
]

_SUPERSCRIPT = str.maketrans(
    "-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)


def scientific(value: Any, significant: int = 3) -> str:
    """Small numbers readably: ``4.49e-05 -> '4.49 × 10⁻⁵'``; ordinary ones as plain decimals."""
    if not _finite(value):
        return MISSING
    number = float(value)
    if number == 0 or 1e-3 <= abs(number) < 1e6:
        return plain_number(number, significant=significant)
    exponent = int(math.floor(math.log10(abs(number))))
    mantissa = plain_number(number / 10**exponent, significant=significant)
    return f"{mantissa} \u00d7 10{str(exponent).translate(_SUPERSCRIPT)}"


def period(value: Any) -> str:
    """End a sentence with a full stop unless it already has closing punctuation."""
    text = str(value or "").rstrip()
    closed = text.rstrip(")\u201d\"'")  # "(… strongest.)" is already a full sentence: no ".)."
    if not text or text.endswith((".", "!", "?", ":")) or (closed != text and closed.endswith((".", "!", "?"))):
        return text
    return f"{text}."


def p_value(value: Any) -> str:
    """A p-value for people: ``< 0.001`` below a thousandth, else three decimals."""
    if not _finite(value):
        return MISSING
    number = float(value)
    if number < 0.001:
        return "< 0.001"
    return f"{number:.3f}"


def _parse_datetime(value: Any) -> dt.datetime | dt.date | None:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None


def date(value: Any) -> str:
    """A date written out: ``20 November 2025`` (any ISO date or timestamp)."""
    parsed = _parse_datetime(value)
    if parsed is None:
        return str(value) if value else MISSING
    return f"{parsed.day} {parsed.strftime('%B %Y')}"


def datetime(value: Any) -> str:
    """A timestamp written out: ``20 November 2025, 09:16 UTC``."""
    parsed = _parse_datetime(value)
    if not isinstance(parsed, dt.datetime):
        return date(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc)
        zone = " UTC"
    else:
        zone = ""
    return f"{parsed.day} {parsed.strftime('%B %Y, %H:%M')}{zone}"


def duration(seconds: Any) -> str:
    """``164.2 -> '2 min 44 s'``; below a minute, one decimal."""
    if not _finite(seconds):
        return MISSING
    total = float(seconds)
    if total < 0.05:
        return "< 0.1 s"
    if total < 60:
        return f"{total:.1f} s"
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s"


def file_size(value: Any) -> str:
    """``18204511 -> '17.4 MiB'``."""
    if not _finite(value):
        return MISSING
    size = float(value)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size):,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - loop always returns


def short_hash(value: Any, keep: int = 12) -> str:
    """First characters of a hash, for tables where the full hash is in an annex."""
    text = str(value or "")
    return text if len(text) <= keep else f"{text[:keep]}\u2026"


def human_list(values: Iterable[Any], conjunction: str = "and") -> str:
    """``['a', 'b', 'c'] -> 'a, b and c'``."""
    items = [str(v) for v in values]
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def title_case(value: Any) -> str:
    """Capitalise the first letter only: ``'pre-deployment' -> 'Pre-deployment'``."""
    text = str(value or "").replace("_", " ")
    return text[:1].upper() + text[1:]


def level_index(level: str, levels: list[str]) -> int:
    """1-based position of a rating on its scale (0 when absent), as in "3 of 4"."""
    try:
        return levels.index(level) + 1
    except ValueError:
        return 0


FILTERS = {
    "ci_label": ci_label,
    "count": count,
    "num": plain_number,
    "decimal": decimal,
    "pct": pct,
    "fpr": fpr_label,
    "conf": confidence_label,
    "ci_pct": interval_pct,
    "ci_score": interval_score,
    "op": operating_point,
    "pvalue": p_value,
    "sci": scientific,
    "period": period,
    "date": date,
    "datetime": datetime,
    "duration": duration,
    "filesize": file_size,
    "short_hash": short_hash,
    "human_list": human_list,
    "sentence": title_case,
}

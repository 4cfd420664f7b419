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
from numbers import Real
from typing import Any

from compliance_mia.assessment import Interval, OperatingPoint

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

DASH = "\u2013"  # en dash for ranges
MISSING = "not recorded"


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(float(value))


def count(value: Any) -> str:
    """Whole number with thousands separators: ``22,272``."""
    if not _finite(value):
        return MISSING
    return f"{int(round(float(value))):,}"


def plain_number(value: Any, significant: int = 6) -> str:
    """Shortest clean decimal form (no exponent noise) for machine-readable tables.

    Used in CSV and OSCAL props, where a reader still sees the number but a
    tool parses it: ``0.1344`` rather than ``0.13440000000000002``.
    """
    if not _finite(value):
        return ""
    number = float(value)
    if number == 0:
        return "0"
    text = f"{number:.{significant}g}"
    if "e" in text:  # expand exponents: GRC tools and spreadsheets choke on them less
        digits = max(0, significant - 1 - int(math.floor(math.log10(abs(number)))))
        text = f"{number:.{digits}f}".rstrip("0").rstrip(".")
    return text


def decimal(value: Any, places: int = 2) -> str:
    """Fixed decimals: ``decimal(0.87421, 3) == '0.874'``."""
    if not _finite(value):
        return MISSING
    return f"{float(value):,.{places}f}"


def _pct_places(values: Iterable[float]) -> int:
    """Decimals needed so the smallest non-zero percentage keeps two significant digits."""
    smallest = min((abs(v) * 100 for v in values if v), default=100.0)
    if smallest >= 1:
        return 1
    if smallest >= 0.1:
        return 2
    return 3


def _pct_text(value: float, places: int) -> str:
    if value == 0:
        return "0%"
    if value == 1:
        return "100%"
    return f"{value * 100:.{places}f}%"


def pct(value: Any, places: int | None = None) -> str:
    """A share as a percentage: ``0.2499 -> '25.0%'``, ``0.0013 -> '0.13%'``."""
    if not _finite(value):
        return MISSING
    number = float(value)
    return _pct_text(number, _pct_places([number]) if places is None else places)


def fpr_label(value: Any) -> str:
    """A false-positive rate as a short label: ``0.001 -> '0.1%'``, ``0.01 -> '1%'``."""
    if not _finite(value):
        return MISSING
    text = f"{float(value) * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


def confidence_label(value: Any) -> str:
    """Confidence level as ``95%``."""
    return fpr_label(value)


def interval_pct(interval: Interval | None, *, show_n: bool = True, n_label: str = "") -> str:
    """A proportion with its interval: ``4.2% (95% CI 3.1–5.6%, n = 5,000)``."""
    if interval is None or interval.estimate is None:
        return "not measured"
    values = [v for v in (interval.estimate, interval.lower, interval.upper) if v is not None]
    places = _pct_places(values)
    text = _pct_text(interval.estimate, places)
    inside: list[str] = []
    if interval.lower is not None and interval.upper is not None:
        low = _pct_text(interval.lower, places).rstrip("%")
        inside.append(
            f"{confidence_label(interval.confidence)} CI "
            f"{low}{DASH}{_pct_text(interval.upper, places)}"
        )
    if show_n and interval.n is not None:
        inside.append(f"n = {count(interval.n)}{(' ' + n_label) if n_label else ''}")
    return f"{text} ({', '.join(inside)})" if inside else text


def interval_score(interval: Interval | None, places: int = 3) -> str:
    """A score on 0–1 that is not a share (AUC): ``0.874 (95% CI 0.866–0.882)``."""
    if interval is None or interval.estimate is None:
        return "not measured"
    text = decimal(interval.estimate, places)
    if interval.lower is not None and interval.upper is not None:
        text += (
            f" ({confidence_label(interval.confidence)} CI "
            f"{decimal(interval.lower, places)}{DASH}{decimal(interval.upper, places)})"
        )
    return text


def operating_point(point: OperatingPoint, *, show_n: bool = True) -> str:
    """TPR at one FPR with its interval, or why the sample cannot support it."""
    if not point.measurable or point.tpr.estimate is None:
        if point.non_members_needed:
            needed = count(point.non_members_needed)
            return f"not measurable at this sample size (needs {needed} non-members)"
        if point.reason:
            return f"not measurable: {point.reason}"
        return "not measurable at this sample size"
    return interval_pct(point.tpr, show_n=show_n)


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
    return text if not text or text.endswith((".", "!", "?", ":")) else f"{text}."


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

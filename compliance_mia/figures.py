"""How the Assessment's figures are read and written: one lookup, one wording.

A figure reads the same wherever it appears: in the risk rule trace, in a
finding, on the console, in the PDF, HTML, Markdown and diff. The functions
here are that single wording (a percentage with its interval and sample size,
``4.2% (95% CI 3.1–5.6%, n = 5,000)``, or the sentence saying the sample
cannot support it) and the single lookup of an operating point at a
false-positive rate. They format and look up; they never judge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any

from compliance_mia.assessment import Interval, OperatingPoint

#: Two false-positive rates are the same operating point when they agree this closely.
FPR_TOLERANCE = 1e-9


def point_at(points: Sequence[OperatingPoint] | None, fpr: float) -> OperatingPoint | None:
    """The operating point at false-positive rate ``fpr`` among ``points``, or None.

    The one lookup every judge and renderer uses (risk facts, what-if, the
    console, the report), so a figure cannot be found by one and missed by
    another through different tolerances.
    """
    for point in points or ():
        if math.isclose(point.fpr, fpr, rel_tol=FPR_TOLERANCE, abs_tol=1e-12):
            return point
    return None


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


def ci_label(interval: Interval) -> str:
    """How an interval is named: "95% CI" (this figure alone) or "95% simultaneous CI over 11 attacks".

    Every interval text goes through this, so the same figure never appears
    with two different intervals under one name.
    """
    conf = confidence_label(interval.confidence)
    if interval.scope == "simultaneous":
        return f"{conf} simultaneous CI over {interval.comparisons} attacks"
    return f"{conf} CI"


def _undeterminable(interval: Interval) -> str | None:
    if interval.determinable:
        return None
    return interval.note or "not determinable at this sample size"


def interval_pct(interval: Interval | None, *, show_n: bool = True, n_label: str = "") -> str:
    """A proportion with its named interval: ``4.2% (95% CI 3.1–5.6%, n = 5,000)``.

    A figure the not-determinable rule withholds reads as its reason, never as a number.
    """
    if interval is None or interval.estimate is None:
        return "not measured"
    withheld = _undeterminable(interval)
    if withheld is not None:
        return withheld
    values = [v for v in (interval.estimate, interval.lower, interval.upper) if v is not None]
    places = _pct_places(values)
    text = _pct_text(interval.estimate, places)
    inside: list[str] = []
    if interval.lower is not None and interval.upper is not None:
        low = _pct_text(interval.lower, places).rstrip("%")
        inside.append(f"{ci_label(interval)} {low}{DASH}{_pct_text(interval.upper, places)}")
    if show_n and interval.n is not None:
        inside.append(f"n = {count(interval.n)}{(' ' + n_label) if n_label else ''}")
    return f"{text} ({', '.join(inside)})" if inside else text


def interval_score(interval: Interval | None, places: int = 3) -> str:
    """A score on 0–1 that is not a share (AUC) with its named interval: ``0.874 (95% CI 0.866–0.882)``."""
    if interval is None or interval.estimate is None:
        return "not measured"
    withheld = _undeterminable(interval)
    if withheld is not None:
        return withheld
    text = decimal(interval.estimate, places)
    if interval.lower is not None and interval.upper is not None:
        text += f" ({ci_label(interval)} {decimal(interval.lower, places)}{DASH}{decimal(interval.upper, places)})"
    return text


def operating_point(point: OperatingPoint, *, show_n: bool = True) -> str:
    """TPR at one FPR with its named interval, or the reason the rule withholds it."""
    if not point.measurable or point.tpr.estimate is None:
        if point.reason or point.tpr.note:
            return point.reason or point.tpr.note
        if point.non_members_needed:
            return f"not determinable at this sample size (needs {count(point.non_members_needed)} non-members)"
        return "not determinable at this sample size"
    return interval_pct(point.tpr, show_n=show_n)



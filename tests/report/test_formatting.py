"""Plain-language figures: every number a reader sees goes through these functions."""

from __future__ import annotations

import numpy as np
import pytest

from compliance_mia.assessment import Interval, OperatingPoint
from compliance_mia.report import formatting as fmt


def test_interval_reads_like_the_spec():
    interval = Interval(
        estimate=0.042,
        lower=0.031,
        upper=0.056,
        confidence=0.95,
        method="clopper-pearson",
        count=210,
        n=5000,
    )
    assert fmt.interval_pct(interval) == "4.2% (95% CI 3.1–5.6%, n = 5,000)"
    assert fmt.interval_pct(interval, show_n=False) == "4.2% (95% CI 3.1–5.6%)"


def test_small_shares_keep_two_significant_digits():
    assert fmt.pct(0.0013) == "0.13%"
    assert fmt.pct(0.00013) == "0.013%"
    assert fmt.pct(0.2498877413560844) == "25.0%"
    assert fmt.pct(0) == "0%" and fmt.pct(1.0) == "100%"


def test_not_measurable_states_the_sample_needed():
    point = OperatingPoint(
        fpr=0.001,
        tpr=Interval(
            estimate=None, lower=None, upper=None, confidence=0.95, method="clopper-pearson", n=4454
        ),
        measurable=False,
        non_members_needed=10000,
    )
    assert (
        fmt.operating_point(point)
        == "not determinable at this sample size (needs 10,000 non-members)"
    )


def test_numpy_values_and_float_noise_never_leak_into_text():
    assert fmt.plain_number(np.float64(0.13440000000000002)) == "0.1344"
    assert fmt.decimal(np.float32(0.87421), 3) == "0.874"
    assert fmt.count(np.int64(22272)) == "22,272"
    assert fmt.plain_number(4.489942528735632e-05) == "0.0000448994"
    assert fmt.scientific(4.489942528735632e-05) == "4.49 × 10⁻⁵"
    assert fmt.plain_number(float("nan")) == "" and fmt.pct(None) == "not recorded"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-20T09:16:47Z", "20 November 2025"),
        ("2026-05-20", "20 May 2026"),
    ],
)
def test_dates_are_written_out(value, expected):
    assert fmt.date(value) == expected


def test_timestamps_are_shown_in_utc():
    assert fmt.datetime("2025-11-20T10:16:47+01:00") == "20 November 2025, 09:16 UTC"


def test_other_helpers():
    assert fmt.fpr_label(0.001) == "0.1%" and fmt.fpr_label(0.1) == "10%"
    assert fmt.duration(164.2) == "2 min 44 s" and fmt.duration(0.4) == "0.4 s"
    assert fmt.p_value(0.00022) == "< 0.001" and fmt.p_value(0.0044) == "0.004"
    assert fmt.human_list(["a", "b", "c"]) == "a, b and c"
    assert (
        fmt.period("skipped: too slow") == "skipped: too slow." and fmt.period("done.") == "done."
    )
    assert fmt.file_size(18_204_511) == "17.4 MiB"

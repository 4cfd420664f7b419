"""The PDF's cheaper layout keeps what the reader sees (issue 13: render under 3 s).

Tables whose widths are given (class ``widths`` on the table: a ``:has()`` selector
cost 0.35 s of style cascade) are laid out in one pass (``table-layout:
fixed``); the columns must come out exactly as declared, padding included,
as the automatic layout gave them, and the sign-off rows keep their height.
ROC curves are simplified by matplotlib, visibly the same, with far fewer
points.
"""

from __future__ import annotations

import re

import pytest

from compliance_mia.report import charts
from compliance_mia.resources import templates_dir

weasyprint = pytest.importorskip("weasyprint")
from weasyprint.formatting_structure import boxes  # noqa: E402

PAGE = """<html><head><style>{css}</style></head><body>
<table class="kv"><tr><th>Name</th><td>Health-cover eligibility model</td></tr></table>
<table class="widths compact"><thead><tr><th style="width:13%">Step</th><th style="width:15%">Rule</th>
<th style="width:14%">Result</th><th>Because</th></tr></thead>
<tbody><tr><td>severity</td><td>s-2</td><td>limited</td><td>{long}</td></tr></tbody></table>
<table class="kv sign"><tr class="sig"><th>Signature</th><td></td></tr></table>
<table class="compact"><thead><tr><th>Group</th><th>Members</th></tr></thead>
<tbody><tr><td>race = other</td><td class="num">120</td></tr></tbody></table>
</body></html>"""


def _tables() -> list[boxes.TableBox]:
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    html = PAGE.format(css=css, long="because the strongest attack " * 8 + "x" * 200)
    page = weasyprint.HTML(string=html).render().pages[0]
    found: list[boxes.TableBox] = []

    def walk(box: boxes.Box) -> None:
        if isinstance(box, boxes.TableBox):
            found.append(box)
        for child in getattr(box, "children", []) or []:
            walk(child)

    walk(page._page_box)
    return found


def _shares(table: boxes.TableBox) -> list[float]:
    total = sum(table.column_widths)
    return [round(100 * w / total, 1) for w in table.column_widths]


def test_tables_with_given_widths_get_exactly_those_widths() -> None:
    kv, trace, sign, free = _tables()
    assert kv.style["table_layout"] == "fixed"
    assert _shares(kv) == [30.0, 70.0]
    assert trace.style["table_layout"] == "fixed"
    assert _shares(trace) == [13.0, 15.0, 14.0, 58.0]  # an unbreakable word wraps, it does not widen
    assert free.style["table_layout"] == "auto"  # no widths given: measured as before
    # the signature row keeps its 11 mm of writing space (height on the cell's content box)
    row = sign.children[0].children[0]
    assert row.height >= 11 / 25.4 * 96


def test_long_curves_are_simplified_when_drawn() -> None:
    import numpy as np

    fig = charts._figure(6.3, 3.3)
    ax = fig.add_subplot()
    fpr = np.linspace(0.0001, 1, 5000)
    ax.plot(fpr, np.sqrt(fpr))  # a smooth ROC-like curve of 5,000 points
    svg = charts._svg(fig, "t")
    longest = max(len(re.findall(r"[ML] ", d)) for d in re.findall(r' d="([^"]+)"', svg))
    assert 2 < longest < 1000  # drawn with far fewer vertices than points, and still drawn


def test_plain_groups_are_unwrapped_and_the_rest_kept() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<defs><path id="m" d="M 0 0 L 1 1"/></defs>'
        '<g id="plain"><g id="inner"><path d="M 0 0 L 2 2"/></g><text x="1" y="2">0.1%</text></g>'
        '<g id="moved" transform="translate(1 2)"><use xlink:href="#m"/></g>'
        '<g id="clipped" clip-path="url(#c)"><path d="M 1 1"/></g>'
        '<g id="c"><rect width="1" height="1"/></g>'
        "</svg>"
    )
    out = charts._unwrap_plain_groups(svg)
    assert re.findall(r'<g id="([^"]+)"', out) == ["moved", "clipped", "c"]
    assert out.count("<path") == 3 and ">0.1%</text>" in out
    assert 'xlink:href="#m"' in out and 'transform="translate(1 2)"' in out


def test_roc_chart_has_no_plain_groups() -> None:
    import numpy as np

    fig = charts._figure(6.3, 3.3)
    ax = fig.add_subplot()
    ax.plot(np.linspace(0.001, 1, 50), np.linspace(0.001, 1, 50) ** 0.5, label="attack")
    ax.set_xscale("log")
    fig.legend()
    svg = charts._svg(fig, "t")
    assert not re.search(r'<g id="[^"]+">', svg)  # every remaining group carries a transform, style or clip
    assert "<text" in svg and svg.count('id="t-') >= 1


def test_a_chart_that_is_not_well_formed_xml_is_left_as_drawn() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><text>bad\x01name</text></g></svg>'
    assert charts._unwrap_plain_groups(svg) == svg

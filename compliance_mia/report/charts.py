"""Report charts as SVG text, byte-for-byte reproducible.

Charts are drawn with matplotlib's object API on a fresh ``Figure`` (never
pyplot, so no global figure state and no GUI backend: rendering is headless
like the Agg backend), inside an ``rc_context`` that keeps text as text
(``svg.fonttype = 'none'``: searchable, selectable, readable by screen
readers and PDF text extraction), fixes the SVG id salt and drops the
creation date, so the same Assessment always gives the same bytes.

Colours come from the Okabe–Ito palette (safe for the common colour-vision
deficiencies) and every series is also told apart by line style or marker,
and every risk cell by its written level: nothing relies on colour alone.
Each function returns ``None`` when the Assessment holds nothing to draw.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence

import matplotlib
import matplotlib.ticker
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from compliance_mia.assessment import AttackOutcome, RiskRating, SliceResult

__all__ = [
    "heat_map_chart",
    "roc_chart",
    "score_distribution_chart",
    "slices_chart",
    "watermark_svg",
]

#: Okabe & Ito (2008) colour-blind-safe palette, most distinguishable first.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
#: Light-to-dark sequential fills for risk levels; dark cells get white text.
LEVEL_FILLS = ["#f7f7f7", "#fee8c8", "#fdbb84", "#e34a33", "#b30000", "#7f0000"]
GREY = "#666666"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "compliance-mia",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#333333",
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    # drop vertices closer than 1/9 pt to the line through their neighbours (matplotlib's own
    # simplification, deterministic): a ROC curve of thousands of points keeps its look at a
    # third of the SVG, which the PDF would otherwise parse and draw point by point
    "path.simplify": True,
    "path.simplify_threshold": 1 / 9,
    "lines.linewidth": 1.6,
}


def _svg(fig: Figure, chart_id: str) -> str:
    """Serialise to SVG without the XML prolog, with ids unique to this chart.

    The ids are prefixed so several charts can be inlined in one HTML page
    without one chart's clip path or marker shadowing another's.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF boilerplate with URLs
    text = _unwrap_plain_groups(text)
    text = re.sub(r'(\bid="|url\(#|href="#)', rf"\g<1>{chart_id}-", text)
    text = text.replace("<svg ", f'<svg role="img" aria-labelledby="{chart_id}-title" ', 1)
    return text.strip() + "\n"


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"


def _unwrap_plain_groups(svg: str) -> str:
    """Drop matplotlib's ``<g id="…">`` wrappers that carry nothing but an unreferenced id.

    matplotlib wraps every artist, tick and label in such a group (about 300
    in a ROC chart of 16 attacks); a group without transform, style or clip
    draws exactly as its children do, but every one costs WeasyPrint a style
    cascade and a drawing step: unwrapped, the demo's ROC chart draws in
    about two thirds of the time, the same picture. Groups with any other
    attribute, or whose id something refers to, are kept. The input is
    matplotlib's own output with the XML prolog already cut (no DTD, so no
    entities to expand); output that is not well-formed XML is returned
    unchanged, as it was before this step existed.
    """
    import xml.etree.ElementTree as ET

    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    referenced = set(re.findall(r"#([\w.:-]+)", svg))
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:  # e.g. a control character in a label: leave the chart exactly as drawn
        return svg
    group = f"{{{_SVG_NS}}}g"

    def unwrap(element: ET.Element) -> None:
        children: list[ET.Element] = []
        for child in element:
            unwrap(child)
            plain = child.tag == group and set(child.attrib) <= {"id"} and child.get("id") not in referenced
            children.extend(list(child) if plain else [child])
        element[:] = children

    unwrap(root)
    return ET.tostring(root, encoding="unicode")


def _figure(width_in: float, height_in: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width_in, height_in), layout="constrained")


def _with_rc(draw):  # decorator: every chart draws under the same rc settings
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_RC):
            return draw(*args, **kwargs)

    wrapper.__name__ = draw.__name__
    wrapper.__doc__ = draw.__doc__
    return wrapper


def _title(chart_id: str, text: str) -> str:
    return f'<title id="{chart_id}-title">{_xml_escape(text)}</title>'


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _add_title(svg: str, chart_id: str, text: str) -> str:
    """Insert an accessible <title> right after the opening <svg> tag."""
    end = svg.index(">", svg.index("<svg")) + 1
    return svg[:end] + _title(chart_id, text) + svg[end:]


def _percent_tick(value: float, _position: int) -> str:
    """Log-axis tick as a plain percentage: 0.01%, 0.1%, 1%, 10%, 100%."""
    if value <= 0:
        return ""
    text = f"{value * 100:.6f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _legend_label(attack: AttackOutcome, strongest: bool, width: int = 46) -> str:
    """Attack name, AUC and the strongest marker, wrapped so two legend columns fit the page."""
    label = attack.title + (" (strongest)" if strongest else "")
    if attack.metrics.auc.estimate is not None:
        label += f", AUC {attack.metrics.auc.estimate:.3f}"
    return "\n".join(textwrap.wrap(label, width=width)) or attack.name


@_with_rc
def roc_chart(
    attacks: Sequence[AttackOutcome],
    *,
    min_false_positives: int = 10,
    highlight: str | None = None,
    chart_id: str = "roc",
) -> str | None:
    """Log-log ROC curves of every attack with the random-guess diagonal.

    The legend sits below the plot (it never hides a curve) and lists the
    attacks strongest first. The region where the false-positive rate rests
    on fewer than ``min_false_positives`` non-members is shaded: the curve
    there is noise.
    """
    drawable = [a for a in attacks if len(a.metrics.roc.fpr) >= 2]
    if not drawable:
        return None
    drawable.sort(key=lambda a: -(a.metrics.auc.estimate or 0.0))
    rows = math.ceil((len(drawable) + 2) / 2)
    fig = _figure(6.3, 3.3 + 0.16 * rows)
    ax = fig.add_subplot()
    n_non = max(a.metrics.n_non_members for a in drawable)
    floor = 10 ** math.floor(math.log10(max(1.0 / max(n_non, 1), 1e-5)))
    for index, attack in enumerate(drawable):
        pairs = [
            (f, t)
            for f, t in zip(attack.metrics.roc.fpr, attack.metrics.roc.tpr, strict=False)
            if f > 0 and t > 0
        ]
        if not pairs:
            continue
        fpr, tpr = zip(*pairs, strict=True)
        strongest = attack.name == highlight
        ax.plot(
            fpr,
            tpr,
            color=PALETTE[index % len(PALETTE)],
            # colours and dash patterns cycle at different points, so no two curves look alike
            linestyle=LINESTYLES[(index + index // len(PALETTE)) % len(LINESTYLES)],
            linewidth=2.6 if strongest else 1.4,
            label=_legend_label(attack, strongest),
            zorder=3 if strongest else 2,
        )
    ax.plot(
        [floor, 1],
        [floor, 1],
        color=GREY,
        linestyle=(0, (2, 2)),
        linewidth=1.0,
        label="random guess (no leakage)",
    )
    noise_edge = min_false_positives / max(n_non, 1)
    if noise_edge > floor:
        ax.axvspan(
            floor,
            noise_edge,
            color="#dddddd",
            alpha=0.6,
            linewidth=0,
            label=f"too few non-members to measure\n(< {min_false_positives} false positives)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor, 1)
    ax.set_ylim(floor, 1.05)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_percent_tick))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_percent_tick))
    ax.set_xlabel("False-positive rate: share of non-members wrongly flagged (log scale)")
    ax.set_ylabel("True-positive rate: share of\nmembers identified (log scale)")
    ax.grid(True, which="major", color="#e5e5e5", linewidth=0.6)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7, handlelength=3.2)
    svg = _svg(fig, chart_id)
    return _add_title(
        svg, chart_id, "ROC curves of every attack on log-log axes, with the random-guess line"
    )


@_with_rc
def score_distribution_chart(attack: AttackOutcome, *, chart_id: str = "scores") -> str | None:
    """Members vs non-members: share of each group per score bin, told apart by line style."""
    hist = attack.metrics.histogram
    if hist is None or len(hist.edges) < 2:
        return None
    fig = _figure(6.3, 2.7)
    ax = fig.add_subplot()
    total_m = max(sum(hist.members), 1)
    total_n = max(sum(hist.non_members), 1)
    share_m = [c / total_m for c in hist.members]
    share_n = [c / total_n for c in hist.non_members]
    ax.stairs(
        share_n,
        hist.edges,
        color=PALETTE[1],
        linestyle="--",
        linewidth=1.6,
        fill=False,
        label=f"non-members (not in training data, n = {total_n:,})",
    )
    ax.stairs(share_n, hist.edges, color=PALETTE[1], alpha=0.12, fill=True)
    ax.stairs(
        share_m,
        hist.edges,
        color=PALETTE[0],
        linestyle="-",
        linewidth=1.8,
        fill=False,
        label=f"members (in training data, n = {total_m:,})",
    )
    ax.set_xlabel(f"Attack score ({attack.title}); higher = more likely a member")
    ax.set_ylabel("Share of group")
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.grid(True, axis="y", color="#e5e5e5", linewidth=0.6)
    fig.legend(loc="outside upper center", ncols=2)
    svg = _svg(fig, chart_id)
    return _add_title(
        svg, chart_id, f"Score distributions of members and non-members for {attack.title}"
    )


@_with_rc
def slices_chart(
    slices: Sequence[SliceResult],
    *,
    overall_auc: float | None = None,
    chart_id: str = "slices",
) -> str | None:
    """AUC with its interval per group; small groups hollow and labelled, not ranked."""
    drawable = [s for s in slices if s.auc.estimate is not None]
    if not drawable:
        return None
    height = 1.3 + 0.27 * len(drawable)
    fig = _figure(6.3, height)
    ax = fig.add_subplot()
    labels = []
    for row, item in enumerate(reversed(drawable)):
        labels.append(
            f"{item.column} = {item.value}" + ("  (too small to rank)" if item.small else "")
        )
        low = item.auc.lower if item.auc.lower is not None else item.auc.estimate
        high = item.auc.upper if item.auc.upper is not None else item.auc.estimate
        ax.errorbar(
            item.auc.estimate,
            row,
            xerr=[[item.auc.estimate - low], [high - item.auc.estimate]],
            fmt="s" if item.small else "o",
            color=GREY if item.small else PALETTE[0],
            markerfacecolor="white" if item.small else PALETTE[0],
            capsize=3,
            markersize=5,
            linewidth=1.4,
        )
    ax.set_yticks(range(len(drawable)), labels)
    ax.axvline(0.5, color=GREY, linestyle=(0, (2, 2)), linewidth=1.0, label="random guess (0.5)")
    if overall_auc is not None:
        ax.axvline(
            overall_auc,
            color=PALETTE[1],
            linestyle="-.",
            linewidth=1.2,
            label=f"all records ({overall_auc:.3f})",
        )
    lows = [s.auc.lower for s in drawable if s.auc.lower is not None] + [0.5]
    highs = [s.auc.upper for s in drawable if s.auc.upper is not None] + [overall_auc or 0.5]
    ax.set_xlim(max(0.0, min(lows) - 0.03), min(1.0, max(highs) + 0.03))
    ax.set_ylim(-0.7, len(drawable) - 0.3)
    ax.set_xlabel("AUC within the group with its interval (0.5 = no leakage)")
    ax.grid(True, axis="x", color="#e5e5e5", linewidth=0.6)
    fig.legend(loc="outside lower center", ncols=2, fontsize=7)
    svg = _svg(fig, chart_id)
    return _add_title(svg, chart_id, "Attack success (AUC) per group of records, with intervals")


def _draw_matrix(ax, rating: RiskRating, panel_title: str, marker_text: str) -> None:
    levels = list(rating.levels)
    size = len(levels)
    for i, severity in enumerate(levels):
        for j, likelihood in enumerate(levels):
            cell = None
            if rating.matrix and i < len(rating.matrix) and j < len(rating.matrix[i]):
                cell = rating.matrix[i][j]
            is_current = severity == rating.severity and likelihood == rating.likelihood
            if cell is None and is_current:
                cell = rating.level
            index = levels.index(cell) if cell in levels else -1
            fill = (
                LEVEL_FILLS[min(index + 1 if size <= 4 else index, len(LEVEL_FILLS) - 1)]
                if index >= 0
                else "#ffffff"
            )
            dark = index >= 0 and fill in ("#e34a33", "#b30000", "#7f0000")
            ax.add_patch(
                Rectangle((j, i), 1, 1, facecolor=fill, edgecolor="#999999", linewidth=0.6)
            )
            if cell:
                ax.text(
                    j + 0.5,
                    i + (0.66 if is_current else 0.5),
                    cell,
                    ha="center",
                    va="center",
                    fontsize=6.8,
                    color="white" if dark else "#222222",
                    fontweight="bold" if is_current else "normal",
                )
            if is_current:
                ax.add_patch(
                    Rectangle(
                        (j + 0.04, i + 0.04),
                        0.92,
                        0.92,
                        facecolor="none",
                        edgecolor="#000000",
                        linewidth=2.6,
                    )
                )
                ax.text(
                    j + 0.5,
                    i + 0.3,
                    marker_text,
                    ha="center",
                    va="center",
                    fontsize=6.8,
                    fontweight="bold",
                    color="white" if dark else "#000000",
                )
    ax.set_xlim(0, size)
    ax.set_ylim(0, size)
    ax.set_xticks([k + 0.5 for k in range(size)], levels, rotation=20, ha="right")
    ax.set_yticks([k + 0.5 for k in range(size)], levels)
    ax.tick_params(length=0)
    ax.set_xlabel("Likelihood")
    ax.set_ylabel("Severity")
    ax.set_title(panel_title, fontweight="bold")
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)


@_with_rc
def heat_map_chart(
    before: RiskRating,
    after: RiskRating | None = None,
    *,
    chart_id: str = "heatmap",
) -> str | None:
    """Severity × likelihood grid before and (if measured) after controls.

    The assessed cell is outlined in black and labelled "▶ THIS SYSTEM", so
    the position reads without colour; each cell also names its level.
    """
    if not before.levels:
        return None
    panels = 2 if after is not None else 1
    fig = _figure(3.15 * panels, 3.1)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    _draw_matrix(axes[0], before, "Before controls", "\u25b6 NOW")
    if after is not None:
        _draw_matrix(axes[1], after, "After recommended controls", "\u25b6 AFTER")
    svg = _svg(fig, chart_id)
    text = (
        f"Risk matrix: severity {before.severity}, likelihood {before.likelihood}, "
        f"level {before.level}"
    )
    if after is not None:
        text += f"; after controls level {after.level}"
    return _add_title(svg, chart_id, text)


def watermark_svg(text: str = "DRAFT", *, color: str = "#a40000", opacity: float = 0.08) -> str:
    """Diagonal page watermark as SVG outlines (glyph paths, not text).

    Drawn as shapes so that copying or extracting a table from the PDF does
    not pick up stray watermark letters; the running footer states the
    draft status in words on every page.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path as MplPath
    from matplotlib.textpath import TextPath

    glyphs = TextPath(
        (0, 0), text, size=100, prop=FontProperties(family="DejaVu Sans", weight="bold")
    )
    commands = {MplPath.MOVETO: "M", MplPath.LINETO: "L", MplPath.CLOSEPOLY: "Z"}
    parts: list[str] = []
    vertices = glyphs.vertices
    codes = glyphs.codes if glyphs.codes is not None else [MplPath.LINETO] * len(vertices)
    index = 0
    while index < len(vertices):
        code = codes[index]
        if code == MplPath.CURVE3:
            (x1, y1), (x2, y2) = vertices[index], vertices[index + 1]
            parts.append(f"Q{x1:.1f} {-y1:.1f} {x2:.1f} {-y2:.1f}")
            index += 2
            continue
        if code == MplPath.CURVE4:
            (x1, y1), (x2, y2), (x3, y3) = vertices[index : index + 3]
            parts.append(f"C{x1:.1f} {-y1:.1f} {x2:.1f} {-y2:.1f} {x3:.1f} {-y3:.1f}")
            index += 3
            continue
        x, y = vertices[index]
        letter = commands.get(code, "L")
        parts.append("Z" if letter == "Z" else f"{letter}{x:.1f} {-y:.1f}")
        index += 1
    box = glyphs.get_extents()
    width, height = box.width, box.height
    side = int(math.hypot(width, height)) + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side}" height="{side}">'
        f'<g transform="translate({side / 2:.1f} {side / 2:.1f}) rotate(-40) '
        f'translate({-box.x0 - width / 2:.1f} {box.y0 + height / 2:.1f})">'
        f'<path fill="{color}" fill-opacity="{opacity}" d="{"".join(parts)}"/></g></svg>\n'
    )

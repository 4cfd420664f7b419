"""report.html at phone (390 px) and desktop (1280 px) widths, measured in headless Chromium.

Nothing may be cut off horizontally: the page itself must not be wider than
the viewport, and every table must either fit or sit in a scroll container
(overflow-x: auto) that fits. Chromium will not open a window narrower than
500 px, so the report is loaded in an iframe of the wanted width; a small
script injected into a copy of the report measures it after load and posts
the result to the wrapper page, which ``--dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compliance_mia.report import HtmlRenderer

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
)

_PROBE = """
window.addEventListener("load", function () {
  var vw = document.documentElement.clientWidth;
  function scroller(el) {
    for (var e = el; e && e !== document.body; e = e.parentElement) {
      var ox = getComputedStyle(e).overflowX;
      if (ox === "auto" || ox === "scroll") return e;
    }
    return null;
  }
  var cut = [];
  var tables = document.querySelectorAll("table");
  for (var i = 0; i < tables.length; i++) {
    var t = tables[i], r = t.getBoundingClientRect();
    if (r.width === 0) continue;
    var box = scroller(t);
    var b = box ? box.getBoundingClientRect() : r;
    if (b.right > vw + 1 || b.left < -1) {
      cut.push((t.caption ? t.caption.textContent : t.className || "table " + i).slice(0, 60));
    }
  }
  var wide = [];
  var all = document.body.getElementsByTagName("*");
  for (var j = 0; j < all.length && wide.length < 10; j++) {
    var el = all[j], rr = el.getBoundingClientRect();
    if (rr.width > 0 && rr.right > vw + 1 && !scroller(el.parentElement || el)) {
      wide.push(el.tagName.toLowerCase() + "." + el.className + " " + (el.textContent || "").slice(0, 40));
    }
  }
  parent.postMessage(JSON.stringify({viewport: vw, scrollWidth: document.documentElement.scrollWidth,
    tables: tables.length, cut: cut, wide: wide}), "*");
});
"""

_WRAPPER = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="report.html" style="width:{width}px;height:900px;border:0"></iframe>
<script>window.addEventListener("message", function (e) {{
  var p = document.createElement("pre"); p.id = "layout-probe"; p.textContent = e.data;
  document.body.appendChild(p); }});</script>
</body></html>"""


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, assessment) -> Path:
    out = tmp_path_factory.mktemp("layout")
    page = HtmlRenderer().render(assessment)
    (out / "report.html").write_text(page.replace("</body>", f"<script>{_PROBE}</script></body>"), encoding="utf-8")
    return out


def _measure(report_dir: Path, width: int) -> dict:
    wrapper = report_dir / f"wrap-{width}.html"
    wrapper.write_text(_WRAPPER.format(width=width), encoding="utf-8")
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--allow-file-access-from-files",
        f"--user-data-dir={report_dir / 'profile'}",
        "--window-size=1400,1000",
        "--virtual-time-budget=10000",
        "--dump-dom",
        wrapper.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the layout probe did not report (chromium exit {done.returncode}): {done.stderr[-800:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_is_cut_off_horizontally(report_dir, width):
    result = _measure(report_dir, width)
    assert result["tables"] > 10, result
    assert result["viewport"] <= width
    assert result["cut"] == [], f"tables wider than a {width} px screen without a scroll container: {result['cut']}"
    assert result["wide"] == [], f"elements overflowing a {width} px screen: {result['wide']}"
    assert result["scrollWidth"] <= result["viewport"] + 1, result

"""The practice report (yuefu.teach.report) laid out by a real browser, at phone and desktop width.

Headless Chromium loads a page holding the report in an iframe of the exact viewport size (a
headless window is laid out at least 500 px wide, so ``--window-size=390,...`` alone would not
show a phone's layout), a small script in that outer page measures the report's layout and writes
it into the page, and ``--dump-dom`` gives it back. The report itself stays free of scripts. No
Python dependency beyond the standard library; skipped where Chromium is not installed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.teach import assess, render_html

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium (apt-get install chromium): the report is checked in a browser")

PHONE = (390, 844)
DESKTOP = (1280, 900)

# measures the report inside the iframe #r and writes the figures into #probe
PROBE = """
window.addEventListener('load', () => {
  const f = document.getElementById('r'), w = f.contentWindow, d = f.contentDocument;
  const width = w.innerWidth;
  const out = {width: width, scroll_width: d.documentElement.scrollWidth, sticking_out: []};
  for (const el of d.body.querySelectorAll('*')) {
    if (el.parentElement && el.parentElement.closest('.sys')) continue;  // scrolls in its own box
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 0.5) out.sticking_out.push(el.tagName + '.' + el.className);
  }
  let minFont = 1e9;
  for (const el of d.body.querySelectorAll('*')) {
    if (el.closest('svg')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) minFont = Math.min(minFont, parseFloat(w.getComputedStyle(el).fontSize));
  }
  out.min_font_px = minFont;
  out.roll_text_px = Math.min(...[...d.querySelectorAll('.sys text')].map(
    t => t.getBoundingClientRect().height));
  out.systems = [...d.querySelectorAll('.sys')].map(s => ({
    right: s.getBoundingClientRect().right, scroll: s.scrollWidth, client: s.clientWidth}));
  const marks = {};
  for (const r of d.querySelectorAll('.sys rect')) {
    const key = (r.getAttribute('fill') || 'none') + '/' + (r.getAttribute('stroke') || 'none');
    const b = r.getBoundingClientRect();
    marks[key] = Math.min(marks[key] || 1e9, b.height);
  }
  out.mark_heights = marks;
  out.legend = [...d.querySelectorAll('.legend span')].map(s => s.textContent.trim());
  const hint = d.querySelector('.hint');
  out.hint_shown = !!hint && w.getComputedStyle(hint).display !== 'none';
  document.getElementById('probe').textContent = JSON.stringify(out);
});
window.addEventListener('error', e => {
  document.getElementById('probe').textContent = JSON.stringify({probe_error: String(e.message)});
});
"""


def _piece() -> tuple[Score, list[tuple[int, float, float, int]]]:
    """Twelve bars for two staves, at 100 BPM, and a take with wrong, missed and extra notes, a
    mordent, and a written trill played plain."""
    s = Score(tempos=[Tempo(0, 100)], time_signatures=[TimeSignature(0, 4, 4)],
              title="A study with a title long enough to wrap on a phone, 练习曲 第三首")
    t = s.add_track(Track("Piano"))
    for i in range(96):  # sixteenth-note pairs: a dense right hand
        t.notes.append(Note(67 + (0, 2, 4, 5, 7, 5, 4, 2)[i % 8], i * 0.5, 0.5, 80, staff=1,
                            ornament="trill" if i == 40 else None))  # a trill sign, played plain
    for b in range(48):
        t.notes += [Note(43 + (b // 4) % 5, float(b), 1.0, 70, staff=2),
                    Note(50 + (b // 4) % 5, float(b), 1.0, 70, staff=2)]
    s.normalize()
    tm = s.tempo_map
    rows = []
    for k, n in enumerate(sorted(t.notes, key=lambda n: (n.onset, n.pitch))):
        on, off = (float(x) for x in tm.to_seconds([n.onset, n.end]))
        if k in (30, 95):
            continue  # missed
        rows.append((n.pitch + (1 if k in (12, 60, 61) else 0), on, off - 0.02, n.velocity))
    rows.append((90, 10.0, 10.2, 70))  # extra
    rows += [(51, 12.1, 12.18, 60), (50, 12.2, 12.5, 60)]  # a mordent on bar 6's D3
    return s, sorted(rows, key=lambda r: (r[1], r[0]))


@pytest.fixture(scope="module")
def page() -> str:
    score, rows = _piece()
    a = assess(score, rows)
    assert a.summary()["wrong_pitch"] >= 2 and a.summary()["missed"] >= 1 and a.summary()["extra"] >= 1
    assert [o.kind for o in a.ornaments] == ["mordent"] and len(a.verdicts.ornaments_not_played) == 1
    return render_html(a)


def _layout(page: str, size: tuple[int, int], tmp: Path) -> dict[str, Any]:
    w, h = size
    outer = (f'<!DOCTYPE html><html><body style="margin:0"><iframe id="r" srcdoc="{html.escape(page)}" '
             f'style="border:0;width:{w}px;height:{h}px;display:block"></iframe><pre id="probe"></pre>'
             f"<script>{PROBE}</script></body></html>")
    path = tmp / f"probe-{w}.html"
    path.write_text(outer, encoding="utf-8")
    assert CHROMIUM is not None
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--virtual-time-budget=5000", f"--window-size={max(w, 500) + 20},{h + 100}",
                          "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert m and m.group(1), f"the probe did not run (chromium exit {run.returncode}): {run.stderr[-800:]}"
    got = dict(json.loads(html.unescape(m.group(1))))
    assert "probe_error" not in got, got
    return got


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_page_never_scrolls_sideways(page: str, size: tuple[int, int], tmp_path: Path) -> None:
    lay = _layout(page, size, tmp_path)
    assert lay["width"] == size[0]
    assert lay["scroll_width"] <= size[0], lay
    assert lay["sticking_out"] == [], lay["sticking_out"]
    assert lay["systems"] and all(s["right"] <= size[0] + 0.5 for s in lay["systems"])


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_text_and_marks_are_readable(page: str, size: tuple[int, int], tmp_path: Path) -> None:
    lay = _layout(page, size, tmp_path)
    assert lay["min_font_px"] >= 12, lay["min_font_px"]  # the smallest text outside the roll
    assert lay["roll_text_px"] >= 7, lay["roll_text_px"]  # bar numbers and C labels of the roll
    heights = lay["mark_heights"]
    # a wrong note (red, and its red outline), a missed note (grey dashed), an extra (orange) and an
    # ornament's notes (violet)
    for key in ("#d64545/none", "none/#d64545", "none/#9aa0a6", "#f08c00/none", "#8e5cd9/none"):
        assert heights.get(key, 0) >= 4, (key, heights)


def test_a_phone_scrolls_the_roll_in_its_box_and_a_desktop_does_not(page: str, tmp_path: Path) -> None:
    phone, desk = _layout(page, PHONE, tmp_path), _layout(page, DESKTOP, tmp_path)
    assert all(s["scroll"] > s["client"] for s in phone["systems"]) and phone["hint_shown"]
    assert all(s["scroll"] <= s["client"] + 1 for s in desk["systems"]) and not desk["hint_shown"]


def test_the_legend_names_every_mark(page: str, tmp_path: Path) -> None:
    legend = " | ".join(_layout(page, DESKTOP, tmp_path)["legend"])
    for word in ("correct", "wrong pitch", "missed", "extra", "ornament", "early / late", "played onset",
                 "all right", "timing", "not played"):
        assert word in legend, (word, legend)

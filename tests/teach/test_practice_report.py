"""The HTML report's content: barlines of the roll, the strip's blocks, the legend, the hands' source.

Its layout in a real browser is checked in tests/browser/test_report_layout.py.
"""

from __future__ import annotations

import re

from conftest import rows_of
from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.teach import assess, build_reference, render_html


def _pickup_piece() -> Score:
    """A 1/8 pickup, then eleven bars of 2/4 in eighth notes: one track (hands by the split)."""
    s = Score(tempos=[Tempo(0, 90)], time_signatures=[TimeSignature(0, 1, 8), TimeSignature(0.5, 2, 4)])
    t = s.add_track(Track("piano"))
    t.notes += [Note(60 + (i * 5) % 12, i * 0.5, 0.5) for i in range(45)]
    t.notes += [Note(43, 0.5 + 2 * b, 2.0) for b in range(11)]
    return s.normalize()


def test_the_reference_keeps_the_scores_barlines() -> None:
    """Regression: the report guessed barlines from the notes (a median bar length from the first
    note), so after a pickup bar every system was drawn half a bar off its barlines."""
    ref = build_reference(_pickup_piece())
    assert ref.n_bars == 12 and ref.bar_starts[:4] == (0.0, 0.5, 2.5, 4.5)
    assert len(ref.bar_starts) == ref.n_bars + 1 and ref.bar_starts[-1] == 22.5
    passage = build_reference(_pickup_piece(), bars=(3, 5))
    assert passage.bar_starts == (2.5, 4.5, 6.5, 8.5)


def test_the_roll_draws_its_barlines_where_the_score_has_them() -> None:
    s = _pickup_piece()
    page = render_html(assess(s, rows_of(s)))
    start = page.index('<svg viewBox="0 0 1000')
    first = page[start:page.index("</svg>", start)]
    # bar 1 (the pickup) starts at the left edge (x = 34), bar 2 an eighth of 4.5 beats later
    xs = [float(x) for x in re.findall(r'<line x1="([\d.]+)" y1="13"', first)]
    assert xs[0] == 34.0 and abs(xs[1] - (34 + 0.5 * (1000 - 38) / 6.5)) < 0.2


def test_the_strip_comes_in_blocks_of_eight_bars_and_the_header_names_the_hands_source() -> None:
    s = _pickup_piece()
    page = render_html(assess(s, rows_of(s)))
    assert page.count('<div class="blk">') == 2  # 12 bars
    assert "hands split at C4 (the score has no staves)" in page
    legend = page[page.index("Score and performance"):]
    for word in ("correct", "wrong pitch", "missed", "extra", "early / late", "played onset"):
        assert word in legend

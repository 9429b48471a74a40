"""Practice suggestions about timing: one way (rushing or dragging) or uneven, with the notes that go
that way counted and measured."""

from __future__ import annotations

import re

from conftest import rows_of
from yuefu.teach import assess


def _shifted(piece, shift_of):  # noqa: ANN001, ANN202
    """The clean take with the right hand's off-beat eighths of bars 3-4 moved by ``shift_of(i)``
    seconds (i counts them)."""
    rows, i = [], 0
    for p, on, off, v in rows_of(piece):
        beat = on / 0.6
        if p >= 60 and 8 <= beat < 16 and abs(beat % 1 - 0.5) < 1e-6:
            d = shift_of(i)
            i += 1
            rows.append((p, on + d, off + d, v))
        else:
            rows.append((p, on, off, v))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def _timing_text(a) -> str:  # noqa: ANN001
    (s,) = [s for s in a.suggestions if s.kind == "timing"]
    return s.text


def test_notes_that_all_come_late_are_dragging(piece) -> None:
    a = assess(piece, _shifted(piece, lambda i: 0.12 if i % 2 == 0 else 0.0))
    late = sum(n.timing == "late" for n in a.notes)
    assert late >= 3 and sum(n.timing == "early" for n in a.notes) == 0
    m = re.search(rf"{late} notes come late \(dragging\), by (\d+) ms", _timing_text(a))
    assert m and 100 <= int(m.group(1)) <= 150, _timing_text(a)  # 120 ms, against the local tempo


def test_notes_early_and_late_in_turn_are_uneven_not_an_average(piece) -> None:
    a = assess(piece, _shifted(piece, lambda i: 0.12 if i % 2 else -0.12))
    early, late = (sum(n.timing == k for n in a.notes) for k in ("early", "late"))
    assert early >= 3 and late >= 3
    text = _timing_text(a)
    # the old text averaged signed deviations: "8 notes come late (dragging), by 0 ms"
    m = re.search(rf"the timing is uneven \({early} early, {late} late\), by (\d+) ms", text)
    assert m and 100 <= int(m.group(1)) <= 150, text

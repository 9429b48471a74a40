"""Live mode: verdicts as notes are played, and the same result as offline. (How fast: the
latency of every note is measured by ``benchmarks/practice.py``, target 50 ms; not timed here.)"""

from __future__ import annotations

import numpy as np

from conftest import make_piece, rows_of
from yuefu.teach import StreamFollower, assess


def test_live_verdicts_are_right_and_say_how_long_they_took(rng):
    piece = make_piece(rng, bars=32)  # 512 notes, 288 clusters
    rows = rows_of(piece)
    wrong = {40, 200, 333}
    rows = [(p + 1, s, e, v) if i in wrong else (p, s, e, v) for i, (p, s, e, v) in enumerate(rows)]
    live = StreamFollower(piece)
    lat, verdicts = [], []
    for p, s, e, v in rows:
        lv = live.note_on(p, s, v)
        lat.append(lv.latency_ms)
        verdicts.append(lv.verdict)
        live.note_off(p, e)
    assert np.all(np.isfinite(lat)) and min(lat) >= 0
    assert {i for i, x in enumerate(verdicts) if x != "correct"} == wrong
    assert all(verdicts[i] == "wrong_pitch" for i in wrong)


def test_live_timing_and_finish_match_offline(rng):
    piece = make_piece(rng, bars=8)
    rows = rows_of(piece)
    i = next(k for k, r in enumerate(rows) if r[0] >= 60 and abs(r[1] - 10.5 * 0.6) < 1e-6)
    rows[i] = (rows[i][0], rows[i][1] + 0.2, rows[i][2], rows[i][3])  # a late note
    del rows[50]
    live = StreamFollower(piece)
    out = []
    for p, s, e, v in rows:
        out.append(live.note_on(p, s, v))
        live.note_off(p, e)
    assert out[i].timing == "late" and out[i].deviation_ms is not None and out[i].deviation_ms > 150
    assert out[i].bar == 3 and out[i].hand == "right"
    done = live.finish()
    offline = assess(piece, rows)
    assert [n.verdict for n in done.notes] == [n.verdict for n in offline.notes]
    assert [n.timing for n in done.notes] == [n.timing for n in offline.notes]
    assert done.scores.pitch == offline.scores.pitch
    assert [n.index for n in done.notes if n.verdict == "missed"] == [50]


def test_live_restart_is_followed(rng):
    piece = make_piece(rng, bars=8)
    rows = rows_of(piece)
    bar_s = 2.4
    first = [r for r in rows if r[1] < 4 * bar_s - 1e-9]
    again = [(p, s + 2 * bar_s + 1.0, e + 2 * bar_s + 1.0, v) for p, s, e, v in rows if s >= 2 * bar_s - 1e-9]
    live = StreamFollower(piece)
    out = [live.note_on(p, s, v) for p, s, _, v in first + again]
    # within ten notes of the repeat (the evidence must outweigh a jump) the follower is back in
    # bar 3 and judging notes correct again, to the end
    assert all(x.verdict == "correct" for x in out[len(first) + 10:])
    assert [x.bar for x in out[len(first) + 10:len(first) + 12]] == [3, 3]
    assert sum(x.verdict != "correct" for x in out) <= 8

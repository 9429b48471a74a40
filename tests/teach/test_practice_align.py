"""Regression tests for the aligner: each one a small score and a performance that an earlier
version got wrong (issue 7: error detection from MIDI)."""

from __future__ import annotations

import numpy as np
import pytest

from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.teach import assess

Row = tuple[int, float, float, int]


def _score(events: list[tuple[float, tuple[int, ...]]], *, bpm: float = 100.0,
           tempos: list[Tempo] | None = None) -> Score:
    s = Score(tempos=tempos or [Tempo(0, bpm)], time_signatures=[TimeSignature(0, 4, 4)])
    t = s.add_track(Track("piano", program=0))
    for i, (beat, pitches) in enumerate(events):
        nxt = events[i + 1][0] if i + 1 < len(events) else beat + 1
        t.notes += [Note(p, beat, max(nxt - beat, 0.1), 80) for p in pitches]
    return s.normalize()


def _rows(score: Score) -> list[Row]:
    tm = score.tempo_map
    out = []
    for n in score.tracks[0].notes:
        a, b = tm.to_seconds(np.array([n.onset, n.end]))
        out.append((n.pitch, float(a), float(b) - 0.02, n.velocity))
    return sorted(out, key=lambda r: (r[1], r[0]))


def _errors(a) -> tuple[list[int], list[int], list[int]]:  # noqa: ANN001
    wrong = [n.index for n in a.notes if n.verdict == "wrong_pitch"]
    missed = [n.index for n in a.notes if n.verdict == "missed"]
    return wrong, missed, [e.pitch for e in a.extras]


def _run(beats: int = 16) -> list[tuple[float, tuple[int, ...]]]:
    """A sixteenth-note run (C major, up and down) with a bass note on every beat."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    ev = []
    for i in range(4 * beats):
        ps = (scale[i % len(scale)],) + ((36 + 7 * (i // 4 % 2),) if i % 4 == 0 else ())
        ev.append((0.25 * i, ps))
    return ev


def test_near_simultaneous_moments_played_in_the_other_order():
    # a melody note struck a few ms after the next moment's first note (a fast figure played
    # unevenly): the order of two near-simultaneous moments is swapped, no note is wrong
    score = _score(_run(), bpm=150)  # sixteenths 0.1 s apart
    rows = _rows(score)
    onsets = sorted({r[1] for r in rows})
    swapped = []
    for k in (9, 21, 33):  # moments whose note comes 5 ms after the next one's
        t0, t1 = onsets[k], onsets[k + 1]
        swapped.append(t0)
        rows = [(p, t1 + 0.005 if abs(a - t0) < 1e-9 else a, b, v) for p, a, b, v in rows]
    a = assess(score, rows)
    assert _errors(a) == ([], [], []), _errors(a)


def test_a_neighbouring_key_with_uneven_timing_is_a_wrong_note():
    # a wrong note a semitone off, struck a little late: timing noise must not turn it into "an extra
    # note and a missed one" (a neighbouring key is the commonest slip)
    score = _score(_run(), bpm=100)  # sixteenths 0.15 s apart
    rows = _rows(score)
    single = [i for i, r in enumerate(rows) if sum(abs(q[1] - r[1]) < 1e-9 for q in rows) == 1]
    k = next(i for i in single if rows[i][1] > 2.0 and i + 1 in single)  # no bass note at k or k + 1
    p, a0, b0, v = rows[k]
    rows[k] = (p + 1, a0 + 0.045, b0, v)  # 30% of the interval late
    a = assess(score, rows)
    wrong, missed, extra = _errors(a)
    assert missed == [] and extra == []
    assert len(wrong) == 1 and a.notes[wrong[0]].played_pitch == p + 1


@pytest.mark.parametrize("octave", [-12, 12])
@pytest.mark.parametrize("late_s", [0.045, 0.06])
def test_a_note_an_octave_off_with_uneven_timing_is_a_wrong_note(octave, late_s):
    # a hand in the wrong octave is as common a slip as a neighbouring key: struck a little late it
    # is still one wrong note, not "an extra note and a missed one"
    score = _score(_run(), bpm=100)
    rows = _rows(score)
    single = [i for i, r in enumerate(rows) if sum(abs(q[1] - r[1]) < 1e-9 for q in rows) == 1]
    k = next(i for i in single if rows[i][1] > 2.0 and i + 1 in single)
    p, a0, b0, v = rows[k]
    rows[k] = (p + octave, a0 + late_s, b0, v)
    a = assess(score, rows)
    wrong, missed, extra = _errors(a)
    assert missed == [] and extra == [], (wrong, missed, extra)
    assert len(wrong) == 1 and a.notes[wrong[0]].played_pitch == p + octave


def test_a_wrong_note_that_is_the_next_moments_pitch():
    # two-note moments 1/8 beat apart; a wrong note of the first (69 for 67) is the pitch that the
    # second moment has: it is one wrong note, not "the next moment early, an extra and a miss"
    ev = []
    for i in range(24):
        b = 0.5 * i
        ev.append((b, (48 + (i % 3), 67 + (i % 2) * 2)))
        ev.append((b + 0.125, (53, 69 + (i % 2) * 2)))
    score = _score(ev, bpm=100)
    rows = _rows(score)
    k = next(i for i, r in enumerate(rows) if r[0] == 67 and r[1] > 3.0)
    p, a0, b0, v = rows[k]
    rows[k] = (69, a0 + 0.002, b0, v)
    a = assess(score, sorted(rows, key=lambda r: (r[1], r[0])))
    wrong, missed, extra = _errors(a)
    assert missed == [] and extra == [], (missed, extra)
    assert len(wrong) == 1 and a.notes[wrong[0]].pitch == 67 and a.notes[wrong[0]].played_pitch == 69


def test_a_late_note_before_a_chord_that_has_its_neighbour():
    # a note played 0.2 s late, just before a chord holding a pitch two semitones from it: a late
    # note, not a wrong note in the chord plus the chord's own note as an extra
    ev = []
    for i in range(16):
        ev.append((float(i), (45, 52, 83)))
        ev.append((i + 0.5, (81,)))
    score = _score(ev, bpm=100)
    rows = _rows(score)
    k = next(i for i, r in enumerate(rows) if r[0] == 81 and r[1] > 4.0)
    p, a0, b0, v = rows[k]
    rows[k] = (p, a0 + 0.2, b0 + 0.2, v)
    a = assess(score, sorted(rows, key=lambda r: (r[1], r[0])))
    assert _errors(a) == ([], [], [])
    late = [n for n in a.notes if n.timing == "late"]
    assert len(late) == 1 and late[0].pitch == 81


def test_written_tempo_changes_are_not_early_or_late():
    # the score slows from 120 to 80 BPM for two bars and comes back: played exactly as written (and
    # 10% slower throughout), no note is early or late (the local fit once ran against beats and
    # called the notes around the change up to 100 ms off)
    ev = [(0.5 * i, (60 + i % 7,) + ((48,) if i % 2 == 0 else ())) for i in range(64)]
    score = _score(ev, tempos=[Tempo(0, 120), Tempo(8, 80), Tempo(16, 120)])
    for scale in (1.0, 1.1):
        rows = [(p, a * scale, b * scale, v) for p, a, b, v in _rows(score)]
        a = assess(score, rows)
        assert _errors(a) == ([], [], [])
        s = a.summary()
        assert s["early"] + s["late"] == 0, [(n.index, n.deviation_ms) for n in a.notes if n.timing == "late"]


_MELODY = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 62, 64, 65, 67, 69, 71, 72, 74, 76]


@pytest.mark.parametrize(("k", "late_s", "semitones"),
                         [(6, 0.1, 2), (9, 0.12, 1), (12, 0.15, 2), (12, 0.1, 1)])
def test_a_late_wrong_note_before_a_timely_one_is_one_wrong_note(k: int, late_s: float,
                                                                 semitones: int) -> None:
    """Regression: a wrong note struck late, followed by a note on time (a hair early), was charged
    its timing twice -- late, then the next note early against the late one -- so "an extra note
    and a missed one" came out cheaper than the wrong note it was."""
    s = _score([(i * 0.5, (p,)) for i, p in enumerate(_MELODY)])  # eighth notes, 0.3 s apart
    rows = _rows(s)
    p, a, b, v = rows[k]
    q = p + semitones if p + semitones not in (_MELODY[k - 1], _MELODY[k + 1]) else p - semitones
    rows[k] = (q, a + late_s, b, v)
    p2, a2, b2, v2 = rows[k + 1]
    rows[k + 1] = (p2, a2 - 0.03, b2, v2)
    assert _errors(assess(s, rows)) == ([k], [], [])


def _two_voices(seed: int) -> Score:
    """Eight bars of random eighth notes (C4-D#5) over a bass note (E2-D#3) on every beat."""
    rng = np.random.default_rng(seed)
    ev = []
    for i in range(64):
        bass = (int(40 + rng.integers(0, 12)),) if i % 2 == 0 else ()
        ev.append((i * 0.5, (int(60 + rng.integers(0, 16)),) + bass))
    return _score(ev)


# (with some seeds the wrong last note of bar 4 is as much bar 5's first, played wrong: see "Limits";
# seeds 2 and 12 became such when an octave-off note got the neighbouring key's cost: their wrong
# note, a semitone from bar 4's last note, is an octave from bar 5's last, and a skip one note
# shorter reads as well)
@pytest.mark.parametrize("seed", [3, 7, 9])
def test_the_notes_before_a_skipped_bar_are_not_left_out_for_free(seed: int) -> None:
    """Regression: a forward jump (a skipped bar) cost the same however many notes it left out, so
    the path left out the last notes before the skip as well (a wrong one there came out missed,
    with an extra note) rather than pay for a wrong note honestly. Bar 5 is left out; bar 4 has two
    wrong notes."""
    s = _two_voices(seed)
    bar_s = 4 * 0.6
    rows = [r for r in _rows(s) if not 4 * bar_s - 1e-6 <= r[1] < 5 * bar_s - 1e-6]
    rows = [(p, a - bar_s, b - bar_s, v) if a >= 5 * bar_s - 1e-6 else (p, a, b, v) for p, a, b, v in rows]
    melody_bar4 = [i for i, r in enumerate(rows) if 3 * bar_s <= r[1] < 4 * bar_s and r[0] >= 60]
    for i in (melody_bar4[-3], melody_bar4[-1]):
        p, a, b, v = rows[i]
        rows[i] = (p + 1, a, b, v)
    a = assess(s, rows)
    wrong, missed, extra = _errors(a)
    assert len(wrong) == 2 and {a.notes[i].bar for i in wrong} == {4}
    assert len(missed) == sum(1 for n in a.reference.notes if n.bar == 5) and extra == []
    assert [(e.kind, e.bar) for e in a.verdicts.events if e.kind == "skip"] == [("skip", 5)]


def test_a_stray_note_of_the_next_chord_does_not_push_out_the_chord_played_after_it():
    # Beethoven's op. 26/1 bar 17 as a transcriber heard a clean rendition (ASAP's bars; the top
    # notes, 79, were not heard; a 55 was): the 61 and 58 of the half-beat chord, then the 67, 58,
    # 61 of the next. A path that took the 61 and 58 as the next chord's notes (skipping their own)
    # held more of that chord in hand than the path arriving there with the real 67, and used to
    # push it out: the real strikes became extra notes. Paths with different numbers of a chord's
    # notes in hand are kept apart now
    from yuefu.teach.align import OP_MATCH, align
    from yuefu.teach.performance import Performance
    from yuefu.teach.reference import build_reference

    score = _score([(0.0, (60, 63, 68, 80)), (0.5, (60, 63, 68, 80)), (3.5, (59, 62, 67, 74)),
                    (4.0, (58, 61, 79)), (4.5, (58, 61, 67, 79))], bpm=60 / 0.278)
    played = [(68, 0.005), (60, 0.009), (63, 0.016), (68, 1.041), (60, 1.043), (63, 1.05), (62, 1.872),
              (55, 1.872), (67, 1.875), (59, 1.875), (74, 1.875), (61, 2.015), (58, 2.019), (67, 2.147),
              (58, 2.149), (61, 2.156)]
    perf = Performance.from_notes([(p, t + 0.5, t + 0.6, 80) for p, t in played])
    a = align(build_reference(score), perf)
    got = {(int(perf.pitch[k]), round(float(perf.onset_s[k]) - 0.5, 3)): (int(a.cluster[k]), int(a.op[k]))
           for k in range(len(perf))}
    for note in ((61, 2.015), (58, 2.019)):
        assert got[note] == (3, OP_MATCH), (note, got[note])
    for note in ((67, 2.147), (58, 2.149), (61, 2.156)):
        assert got[note] == (4, OP_MATCH), (note, got[note])

"""The sustain pedal: a note it holds after its key comes up is not cut short; a note is too long only
when its key was held too long."""

from __future__ import annotations

from pathlib import Path

import symusic

from conftest import make_piece, rows_of
from yuefu.teach import StreamFollower, assess


def _midi(path: Path, rows, pedal: list[tuple[float, float]]) -> Path:  # noqa: ANN001
    """A one-track MIDI file of ``rows`` (seconds) with the sustain pedal down over ``pedal``."""
    sc = symusic.Score(ttype="second")
    t = symusic.Track("piano", program=0, ttype="second")
    for p, on, off, v in rows:
        t.notes.append(symusic.Note(on, off - on, p, v, ttype="second"))
    for a, b in pedal:
        t.controls.append(symusic.ControlChange(a, 64, 127, ttype="second"))
        t.controls.append(symusic.ControlChange(b, 64, 0, ttype="second"))
    sc.tracks.append(t)
    sc.dump_midi(str(path))
    return path


def _detached(piece):  # noqa: ANN001, ANN202
    """The clean take with every key released after a third of its written length."""
    return [(p, on, on + (off + 0.02 - on) / 3, v) for p, on, off, v in rows_of(piece)]


def test_a_pedalled_note_is_not_cut_short(rng, tmp_path) -> None:
    piece = make_piece(rng)
    rows = _detached(piece)
    end = max(r[2] for r in rows) + 1
    plain = assess(piece, _midi(tmp_path / "plain.mid", rows, []))
    pedalled = assess(piece, _midi(tmp_path / "pedal.mid", rows, [(0.0, end)]))
    assert plain.summary()["too_short"] > 20  # the keys alone are short
    assert pedalled.summary()["too_short"] == 0 and pedalled.summary()["too_long"] == 0
    assert pedalled.performance.sounding_s is not None and plain.performance.sounding_s is None
    # the verdicts on pitch and time do not depend on the pedal
    assert [n.verdict for n in plain.notes] == [n.verdict for n in pedalled.notes]


def test_the_pedal_does_not_make_a_note_too_long(rng, tmp_path) -> None:
    piece = make_piece(rng)
    rows = rows_of(piece)
    end = max(r[2] for r in rows) + 1
    a = assess(piece, _midi(tmp_path / "pedal.mid", rows, [(0.0, end)]))
    assert a.summary()["too_long"] == 0 and a.summary()["too_short"] == 0


def test_a_pedal_half_way_holds_only_the_notes_released_under_it(rng, tmp_path) -> None:
    piece = make_piece(rng)
    rows = _detached(piece)
    mid = rows[len(rows) // 2][1]
    a = assess(piece, _midi(tmp_path / "half.mid", rows, [(0.0, mid)]))
    short = [n for n in a.notes if n.duration == "too_short"]
    assert short and all(n.played_onset_s is not None and n.played_onset_s >= mid - 1.0 for n in short)


def test_the_live_mode_takes_the_pedal(rng) -> None:
    piece = make_piece(rng)
    live = StreamFollower(piece)
    live.pedal(True, 0.0)
    for p, on, off, v in _detached(piece):
        live.note_on(p, on, v)
        live.note_off(p, off)
    a = live.finish()  # the pedal is still down: it holds the last notes to the end
    assert a.summary()["too_short"] == 0

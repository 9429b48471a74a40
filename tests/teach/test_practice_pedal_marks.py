"""The sustain pedal against the score's pedal marks: spans not pressed, changes not made, the
pedal held on past a release; nothing said where the score marks none or the performance cannot
say what the pedal did."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import make_piece, rows_of
from yuefu.core import Note, Pedal, Score, Tempo, Track
from yuefu.core.io import write_midi
from yuefu.core.io.musicxml import read_musicxml, write_musicxml
from yuefu.teach import Performance, StreamFollower, assess, load_performance, with_pedal

BEAT_S = 0.6  # make_piece's 100 bpm
BAR_S = 4 * BEAT_S


def _marked(rng: np.random.Generator, *, unpedalled: tuple[int, ...] = ()) -> Score:
    """The 8-bar study with "Ped." changed at every bar (the left hand's track), except in the
    (1-based) bars ``unpedalled``, where the pedal is let up ("*")."""
    s = make_piece(rng)
    left = next(t for t in s.tracks if t.name == "left")
    left.pedals = [Pedal(4.0 * b, 4.0) for b in range(8) if b + 1 not in unpedalled]
    return s


def _pedalling(bars: list[int] | None = None, *, through: tuple[int, ...] = (), skip: tuple[int, ...] = (),
               late_up: dict[int, float] | None = None) -> list[tuple[float, float]]:
    """A pianist's pedal in seconds: pressed 0.1 s after each bar's first chord and let up as the
    next one sounds; not let up before the (1-based) bars in ``through``; not pressed in ``skip``;
    let up ``late_up[bar]`` seconds late at the end of a bar."""
    late_up = late_up or {}
    out: list[tuple[float, float]] = []
    for b in bars or list(range(1, 9)):
        if b in skip:
            continue
        down, up = (b - 1) * BAR_S + 0.1, b * BAR_S + 0.02 + late_up.get(b, 0.0)
        if out and b in through and abs(out[-1][1] - ((b - 1) * BAR_S + 0.02)) < 1e-9:
            out[-1] = (out[-1][0], up)
        else:
            out.append((down, up))
    return out


def _take(s: Score, pedal: list[tuple[float, float]] | None) -> Performance:
    p = Performance.from_notes(rows_of(s), source="take")
    return p if pedal is None else with_pedal(p, pedal)


def test_pedal_played_as_marked_is_not_mentioned(rng) -> None:
    s = _marked(rng)
    a = assess(s, _take(s, _pedalling()))
    assert a.verdicts.pedal == ()
    assert all(x.kind != "pedal" for x in a.suggestions)
    d = a.to_dict()["pedal"]
    assert d == {"marked_spans": 8, "judged": True, "verdicts": []}


def test_a_change_not_made_is_found_at_its_bar(rng) -> None:
    s = _marked(rng)
    a = assess(s, _take(s, _pedalling(through=(3, 6))))
    assert [(p.kind, p.bar) for p in a.verdicts.pedal] == [("not_changed", 3), ("not_changed", 6)]
    text = next(x.text for x in a.suggestions if x.kind == "pedal")
    assert text.startswith("Bars 3 and 6: the pedal was held through 2 changes the score marks")


def test_a_span_not_pressed_is_found_as_a_run_of_bars(rng) -> None:
    s = _marked(rng)
    a = assess(s, _take(s, _pedalling(skip=(4, 5))))
    assert [(p.kind, p.bar, p.to_bar) for p in a.verdicts.pedal] == [("not_pressed", 4, 5)]
    sg = next(x for x in a.suggestions if x.kind == "pedal")
    assert sg.bars == (4, 5)
    assert "Bars 4–5: the score marks the sustain pedal and it was not pressed" in sg.text


def test_the_pedal_held_on_past_a_release_is_found(rng) -> None:
    s = _marked(rng, unpedalled=(5,))
    clean = _pedalling(skip=(5,))
    assert assess(s, _take(s, clean)).verdicts.pedal == ()
    late = _pedalling(skip=(5,), late_up={4: 1.5})  # let up well into bar 5, which the score leaves dry
    a = assess(s, _take(s, late))
    assert [(p.kind, p.bar) for p in a.verdicts.pedal] == [("held_on", 4)]
    assert any("stayed down where the score lets it up" in x.text for x in a.suggestions)


def test_a_midi_file_without_pedal_is_a_pedal_never_pressed(rng, tmp_path) -> None:
    s = _marked(rng)
    played = Performance.from_notes(rows_of(s))
    take = Score(tempos=[Tempo(0, 120)])
    tr = take.add_track(Track("piano"))
    tr.notes += [Note(int(p), 2 * a, 2 * (b - a), int(v)) for p, a, b, v in
                 zip(played.pitch, played.onset_s, played.offset_s, played.velocity, strict=True)]
    path = write_midi(take, tmp_path / "take.mid")
    perf = load_performance(path)
    assert perf.pedal_s == ()
    a = assess(s, perf)
    assert [(p.kind, p.bar, p.to_bar) for p in a.verdicts.pedal] == [("not_pressed", 1, 8)]
    # and with the pedal recorded as marked (controller 64 in the file), nothing
    tr.pedals = [Pedal(2 * a, 2 * (b - a)) for a, b in _pedalling()]
    perf = load_performance(write_midi(take, tmp_path / "take2.mid"))
    assert perf.pedal_s is not None and len(perf.pedal_s) == 8
    assert assess(s, perf).verdicts.pedal == ()


def test_nothing_is_said_without_marks_or_without_a_recorded_pedal(rng) -> None:
    s = make_piece(rng)  # no pedal marks
    a = assess(s, _take(s, []))
    assert a.verdicts.pedal == () and a.to_dict()["pedal"]["judged"] is False
    m = _marked(rng)
    a = assess(m, _take(m, None))  # notes given without their pedal: it cannot say
    assert a.verdicts.pedal == () and a.to_dict()["pedal"]["judged"] is False


def test_pedal_marks_from_musicxml_are_judged(rng, tmp_path) -> None:
    s = read_musicxml(write_musicxml(_marked(rng), tmp_path / "study.musicxml"))
    assert sum(len(t.pedals) for t in s.tracks) == 8
    a = assess(s, _take(s, _pedalling(through=(2,))))
    assert [(p.kind, p.bar) for p in a.verdicts.pedal] == [("not_changed", 2)]
    d = json.loads(a.to_json())
    assert d["pedal"]["verdicts"][0] == {"kind": "not_changed", "bar": 2, "to_bar": 2, "label": "2",
                                          "beat": 4.0, "at_s": pytest.approx(BAR_S, abs=0.05)}


def test_the_live_follower_judges_the_pedal_it_was_told(rng) -> None:
    s = _marked(rng)
    live = StreamFollower(s)
    pedal = _pedalling(through=(7,))
    events = sorted([(a, 0, p, v) for p, a, _, v in rows_of(s)] + [(b, 1, p, 0) for p, _, b, _ in rows_of(s)]
                    + [(a, 2, 1, 0) for a, _ in pedal] + [(b, 2, 0, 0) for _, b in pedal])
    for t, kind, x, v in events:
        if kind == 0:
            live.note_on(x, t, v)
        elif kind == 1:
            live.note_off(x, t)
        else:
            live.pedal(bool(x), t)
    a = live.finish()
    assert [(p.kind, p.bar) for p in a.verdicts.pedal] == [("not_changed", 7)]


def test_the_report_draws_the_pedal_under_the_roll(rng) -> None:
    from yuefu.teach.report import render_html

    s = _marked(rng)
    page = render_html(assess(s, _take(s, _pedalling(through=(3,)))))
    assert page.count("<title>pedal marked</title>") == 8  # one per marked span, in its system
    # the pedal as played: 7 presses (bars 2 and 3 held as one); bar 4's, let up 20 ms into bar 5,
    # shows in both systems of four bars
    assert page.count("<title>pedal down ") == 8
    assert "pedal change marked, not made (bar 3)" in page
    assert "pedal: marked (grey), pressed (blue), not as marked (red)" in page
    # nothing of the pedal where it was not judged
    plain = render_html(assess(s, _take(s, None)))
    assert "pedal marked" not in plain and "pedal: marked" not in plain

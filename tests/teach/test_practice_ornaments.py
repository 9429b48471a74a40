"""Ornaments: a trill, mordent or turn played on a written note is listed as such, not as extra notes."""

from __future__ import annotations

import json

import pytest

from conftest import rows_of
from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.core.errors import ParameterError
from yuefu.teach import AssessConfig, VerdictConfig, assess, render_html

E5, F5, D5, DS5, G5 = 76, 77, 74, 75, 79


def _score(second: bool = False, written: str | None = None, grace: tuple[int, ...] = ()) -> Score:
    """Four bars at 100 BPM (0.6 s a beat): quarter notes, a half note E5 on bar 2's first beat (with
    a D5 under it: ``second``; with an ornament sign over it: ``written``; grace notes before it:
    ``grace``), and a left hand of half notes."""
    s = Score(tempos=[Tempo(0, 100)], time_signatures=[TimeSignature(0, 4, 4)], title="ornaments")
    rh, lh = s.add_track(Track("right")), s.add_track(Track("left"))
    melody = [72, 74, 76, 77, E5, None, 72, 71, 72, 74, 76, 74, 72, 71, 72, 72]
    for i, p in enumerate(melody):
        if p is not None:
            half = i == 4
            rh.notes.append(Note(p, float(i), 2.0 if half else 1.0, 80, ornament=written if half else None,
                                 grace=grace if half else ()))
    for b in range(8):
        lh.notes.append(Note((48, 43)[b % 2], 2.0 * b, 2.0, 70))
    if second:
        rh.notes.append(Note(D5, 4.0, 2.0, 80))
    return s.normalize()


T0 = 4 * 0.6  # when the half note E5 is struck


def _take(*added: tuple[int, float], second: bool = False) -> list[tuple[int, float, float, int]]:
    """The clean take with notes added at (pitch, seconds after the E5's strike)."""
    rows = rows_of(_score(second))
    rows += [(p, T0 + dt, T0 + dt + 0.08, 60) for p, dt in added]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def _the_e5(a) -> int:
    return next(n.index for n in a.notes if n.pitch == E5 and n.duration_beat == 2.0)


def test_a_trill_is_an_ornament_and_costs_nothing() -> None:
    trill = [(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 10)]
    a = assess(_score(), _take(*trill))
    assert a.summary()["extra"] == 0 and a.summary()["ornaments"] == 1
    (o,) = a.ornaments
    assert (o.kind, o.note, o.bar, o.hand, o.pitch) == ("trill", _the_e5(a), 2, "right", E5)
    assert len(o.played) == 10 and set(o.pitches) == {E5, F5}
    assert a.scores.pitch == 100.0
    assert all(n.verdict == "correct" for n in a.notes)


def test_a_trill_on_the_top_note_of_a_second() -> None:
    # begun on the upper note before the beat: walking back from the E5, the D5 struck with it is
    # passed over, not taken for the end of the trill
    trill = [(F5, -0.12), (F5, 0.1), (E5, 0.2), (F5, 0.3), (E5, 0.4)]
    a = assess(_score(second=True), _take(*trill, second=True))
    assert [(o.kind, len(o.played)) for o in a.ornaments] == [("trill", 6)] and a.summary()["extra"] == 0
    assert all(n.verdict == "correct" for n in a.notes)


@pytest.mark.parametrize(("added", "kind"), [
    ([(F5, 0.08), (E5, 0.16)], "mordent"),                      # upper mordent
    ([(DS5, 0.08), (E5, 0.16)], "mordent"),                     # lower mordent
    ([(F5, 0.1), (E5, 0.2), (DS5, 0.3), (E5, 0.4)], "turn"),    # a turn after the note
    ([(F5, -0.12), (F5, 0.1), (E5, 0.2)], "trill"),             # begun on the upper note, before the beat
], ids=["upper-mordent", "lower-mordent", "turn", "trill-from-above"])
def test_ornament_kinds(added, kind) -> None:
    a = assess(_score(), _take(*added))
    assert [o.kind for o in a.ornaments] == [kind]
    assert a.summary()["extra"] == 0
    assert a.ornaments[0].onset_s == pytest.approx(T0 + min(0.0, added[0][1]), abs=1e-3)


@pytest.mark.parametrize(("added", "why"), [
    ([(F5, 0.01)], "a neighbouring key struck with the note (a smudge)"),
    ([(F5, 0.01), (E5, 0.1)], "a smudge then the key again"),
    ([(G5, 0.1), (E5, 0.2), (G5, 0.3), (E5, 0.4)], "a third away: not a trill"),
    ([(F5, 0.3), (E5, 0.6)], "too slow for an ornament"),
    ([(F5, 0.1), (F5, 0.2)], "the written key does not come back"),
    ([(DS5, -0.1)], "a single grace note"),
])
def test_what_is_not_an_ornament_stays_extra(added, why) -> None:
    a = assess(_score(), _take(*added))
    assert a.ornaments == (), why
    assert sorted((e.pitch, round(e.onset_s - T0, 3)) for e in a.extras) == sorted(
        (p, round(dt, 3)) for p, dt in added), why


def test_ornaments_can_be_turned_off() -> None:
    trill = [(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)]
    cfg = AssessConfig(verdict=VerdictConfig(ornament_gap_s=0))
    a = assess(_score(), _take(*trill), config=cfg)
    assert a.ornaments == () and a.summary()["extra"] == 5


@pytest.mark.parametrize("kw", [{"ornament_gap_s": -0.1}, {"ornament_gap_s": 0.1, "ornament_min_gap_s": 0.2},
                                {"ornament_gap_s": 5.0}])
def test_absurd_ornament_settings_are_refused(kw) -> None:
    with pytest.raises(ParameterError, match="ornament"):
        VerdictConfig(**kw)


def test_the_json_and_the_page_show_the_ornament() -> None:
    a = assess(_score(), _take(*[(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)]))
    d = json.loads(a.to_json())
    assert d["summary"]["ornaments"] == 1 and d["extra_notes"] == []
    (o,) = d["ornaments"]
    assert (o["kind"], o["bar"], o["hand"], o["name"], o["note"]) == ("trill", 2, "right", "E5", _the_e5(a))
    assert o["played_pitches"] == [E5, F5, E5, F5, E5, F5] and len(o["played"]) == 6
    page = render_html(a)
    assert "ornament (trill, mordent, turn, grace notes; not counted)" in page
    assert "1 ornament (trill)" in page
    assert page.count('fill="#8e5cd9" opacity') == 5  # the trill's notes after the written strike
    assert "trill on E5 in bar 2 (right hand): 6 notes" in page


def _live(*added: tuple[int, float]):
    from yuefu.teach import StreamFollower

    live = StreamFollower(_score())
    said = []
    for p, on, off, v in _take(*added):
        said.append((p, round(on - T0, 3), live.note_on(p, on, v).verdict))
        live.note_off(p, off)
    return [x for x in said if -0.01 < x[1] < 1.0 and x[0] in (E5, F5, G5)], live.finish()


def test_the_live_mode_says_ornament_from_the_third_note_and_lists_it_when_it_finishes() -> None:
    said, a = _live(*[(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)])
    assert [v for _, _, v in said][:2] == ["correct", "wrong_pitch"]  # the neighbour alone: a slip?
    assert [v for _, _, v in said][2:] == ["ornament"] * 4
    assert [o.kind for o in a.ornaments] == ["trill"] and a.summary()["extra"] == 0


def test_the_live_mode_does_not_call_an_alternation_a_third_away_an_ornament() -> None:
    said, a = _live(*[(G5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)])
    assert "ornament" not in [v for _, _, v in said] and a.ornaments == ()


def test_the_command_line_counts_the_ornaments(tmp_path, capsys) -> None:
    from yuefu.cli import main
    from yuefu.core.io import write_midi

    score, take = tmp_path / "score.mid", tmp_path / "take.mid"
    write_midi(_score(), score)
    played = Score(tempos=[Tempo(0, 120)])
    t = played.add_track(Track("piano"))
    for p, on, off, v in _take(*[(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)]):
        t.notes.append(Note(p, 2 * on, 2 * (off - on), v))  # 120 BPM: two beats a second
    write_midi(played.normalize(), take)
    assert main(["practice", str(score), str(take)]) == 0
    out = capsys.readouterr().out
    assert "0 extra" in out and "1 ornament (not counted)" in out, out



def _written_score(tmp_path, **kw) -> str:
    from yuefu.core.io.musicxml import write_musicxml

    return str(write_musicxml(_score(**(kw or {"written": "trill"})), tmp_path / "study.musicxml"))


def test_a_written_trill_played_is_said_to_be_the_written_one(tmp_path) -> None:
    a = assess(_written_score(tmp_path), _take(*[(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 6)]))
    assert [(o.kind, o.written) for o in a.ornaments] == [("trill", "trill")]
    assert a.verdicts.ornaments_not_played == () and not any(x.kind == "ornaments" for x in a.suggestions)
    d = json.loads(a.to_json())
    (e5,) = [n for n in d["notes"] if "ornament_written" in n]
    assert (e5["name"], e5["ornament_written"], e5["ornament_played"]) == ("E5", "trill", True)
    assert d["ornaments"][0]["written"] == "trill"


def test_a_written_trill_played_plain_is_a_suggestion_not_an_error(tmp_path) -> None:
    a = assess(_written_score(tmp_path), _take())
    assert a.verdicts.ornaments_not_played == (_the_e5(a),) and a.ornaments == ()
    assert a.scores.pitch == 100.0 and a.summary()["ornaments_not_played"] == 1
    (sug,) = [x for x in a.suggestions if x.kind == "ornaments"]
    assert sug.text.startswith("Bar 2, right hand: the trill written on E5 was played as a plain note")
    assert (sug.bars, sug.hand) == ((2, 2), "right")
    d = json.loads(a.to_json())
    assert [n["ornament_played"] for n in d["notes"] if "ornament_written" in n] == [False]
    page = render_html(a)
    assert "1 written ornament left out" in page and "trill written)" in page and ">tr</text>" in page
    assert "tr, mord., turn, gr.: ornament written" in page


def test_from_a_recording_a_plain_written_trill_is_not_said(tmp_path) -> None:
    cfg = AssessConfig(verdict=VerdictConfig(audio=True))
    a = assess(_written_score(tmp_path), _take(), config=cfg)
    assert a.verdicts.ornaments_not_played == () and not any(x.kind == "ornaments" for x in a.suggestions)



@pytest.mark.parametrize(("added", "moved"), [([(DS5, -0.08)], 0.0), ([(DS5, 0.0)], 0.25)],
                         ids=["acciaccatura-before-the-beat", "appoggiatura-on-the-beat"])
def test_a_written_grace_note_played_is_not_extra(tmp_path, added, moved) -> None:
    rows = [(p, on + moved, off, v) if p == E5 and abs(on - T0) < 1e-6 else (p, on, off, v)
            for p, on, off, v in _take(*added)]
    a = assess(_written_score(tmp_path, grace=(DS5,)), sorted(rows, key=lambda r: (r[1], r[0])))
    assert [(o.kind, o.written, o.pitches) for o in a.ornaments] == [("grace", "grace", (DS5, E5))]
    assert a.summary()["extra"] == 0 and a.verdicts.ornaments_not_played == ()
    (e5,) = [n for n in json.loads(a.to_json())["notes"] if "grace_written" in n]
    assert (e5["grace_written"], e5["grace_played"]) == (["D#5"], True)


def test_a_written_grace_note_left_out_is_a_suggestion(tmp_path) -> None:
    a = assess(_written_score(tmp_path, grace=(DS5,)), _take())
    assert a.verdicts.ornaments_not_played == (_the_e5(a),) and a.scores.pitch == 100.0
    (sug,) = [x for x in a.suggestions if x.kind == "ornaments"]
    assert sug.text.startswith("Bar 2, right hand: the grace note written before E5 was left out")
    assert ">gr.</text>" in render_html(a)


def test_a_grace_note_on_another_key_stays_extra(tmp_path) -> None:
    a = assess(_written_score(tmp_path, grace=(DS5,)), _take((D5, -0.08)))
    assert a.ornaments == () and [e.pitch for e in a.extras] == [D5]
    assert a.verdicts.ornaments_not_played == (_the_e5(a),)


def test_a_trilled_note_is_held_through_its_trill() -> None:
    # the written strike lasts until the key is struck again, as on a real keyboard
    trill = [(F5 if i % 2 else E5, 0.1 * i) for i in range(1, 12)]
    rows = [(p, on, T0 + 0.09, v) if p == E5 and abs(on - T0) < 1e-6 else (p, on, off, v)
            for p, on, off, v in _take(*trill)]
    a = assess(_score(), rows)
    e5 = a.notes[_the_e5(a)]
    assert [o.kind for o in a.ornaments] == ["trill"]
    assert e5.duration == "ok" and e5.duration_ratio is not None and e5.duration_ratio > 0.8
    assert a.summary()["too_short"] == 0



def test_the_live_mode_calls_a_written_grace_note_an_ornament(tmp_path) -> None:
    from yuefu.teach import StreamFollower

    live = StreamFollower(_written_score(tmp_path, grace=(DS5,)))
    said = {}
    for p, on, off, v in _take((DS5, -0.08)):
        said[(p, round(on - T0, 2))] = live.note_on(p, on, v).verdict
        live.note_off(p, off)
    assert said[(DS5, -0.08)] == "ornament" and said[(E5, 0.0)] == "correct"
    assert [o.kind for o in live.finish().ornaments] == ["grace"]


def test_a_neighbouring_key_caught_with_the_note_is_named_so() -> None:
    a = assess(_score(), _take((F5, 0.01)))
    (e,) = a.extras
    assert e.pitch == F5 and e.caught_with == _the_e5(a)
    assert json.loads(a.to_json())["extra_notes"][0]["caught_with"] == _the_e5(a)
    (sug,) = [x for x in a.suggestions if x.kind == "notes"]
    assert "1 extra note (a neighbouring key caught with the right one, as F5 with E5" in sug.text, sug.text


def test_an_extra_note_struck_on_its_own_is_not_caught_with_anything() -> None:
    a = assess(_score(), _take((G5, 0.3)))
    assert [(e.pitch, e.caught_with) for e in a.extras] == [(G5, None)]
    assert "neighbouring" not in " ".join(x.text for x in a.suggestions)


def test_the_pedal_holds_a_note_with_a_mordent_as_it_holds_a_plain_one() -> None:
    from yuefu.teach import Performance, with_pedal

    # the written strike and the mordent's notes all short, the sustain pedal down throughout
    rows = [(p, on, min(off, on + 0.07), v) if T0 - 1e-6 < on < T0 + 0.2 else (p, on, off, v)
            for p, on, off, v in _take((F5, 0.08), (E5, 0.16))]
    perf = with_pedal(Performance.from_notes(rows), [(0.0, 20.0)])
    a = assess(_score(), perf)
    assert [o.kind for o in a.ornaments] == ["mordent"]
    assert a.notes[_the_e5(a)].duration == "ok"

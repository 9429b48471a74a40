"""Articulation and dynamics marks of a MusicXML score: a staccato note is to be held short, a
tenuto note its full value, and the expression mark follows the score's p and f."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from conftest import make_piece, rows_of
from yuefu.core import Score
from yuefu.core.io.musicxml import read_musicxml, write_musicxml
from yuefu.teach import Performance, assess


def _marked(rng: np.random.Generator) -> Score:
    """The study with the right hand's notes marked staccato in bars 3-4 and tenuto in bars 5-6."""
    s = make_piece(rng)
    rh = s.tracks[0]
    rh.notes = [replace(n, articulations=("staccato",)) if 8 <= n.onset < 16
                else replace(n, articulations=("tenuto",)) if 16 <= n.onset < 24 else n for n in rh.notes]
    return s


def _played(s: Score, held: dict[str, float]) -> Performance:
    """The clean take, each right-hand note with a mark held ``held[mark]`` of its written length."""
    tm = s.tempo_map
    rows = []
    marks = {(n.pitch, round(float(tm.to_seconds(np.array([n.onset]))[0]), 6)): n.articulations
             for t in s.tracks for n in t.notes}
    for p, on, off, v in rows_of(s):
        m = marks.get((p, round(on, 6)), ())
        if m:
            off = on + (off + 0.02 - on) * held[m[0]]
        rows.append((p, on, off, v))
    return Performance.from_notes(rows)


def _by_mark(a, s: Score) -> dict[str, list[str | None]]:  # noqa: ANN001
    out: dict[str, list[str | None]] = {"staccato": [], "tenuto": [], "": []}
    for n in a.notes:
        out[a.reference.notes[n.index].articulations[0] if a.reference.notes[n.index].articulations
            else ""].append(n.duration)
    return out


def test_staccato_notes_played_detached_are_right_and_held_legato_are_too_long(rng, tmp_path) -> None:
    s = read_musicxml(write_musicxml(_marked(rng), tmp_path / "study.musicxml"))  # the marks' own route
    short = assess(s, _played(s, {"staccato": 0.35, "tenuto": 1.0}))
    got = _by_mark(short, s)
    assert len(got["staccato"]) == 16 and set(got["staccato"]) == {"ok"}  # held short, as marked
    assert set(got[""]) == {"ok"} and set(got["tenuto"]) == {"ok"}
    legato = assess(s, _played(s, {"staccato": 1.0, "tenuto": 1.0}))
    assert _by_mark(legato, s)["staccato"].count("too_long") == 16
    texts = [x.text for x in legato.suggestions if x.kind == "articulation"]
    assert any("16 notes marked staccato held too long" in t and "Bars 3–4, right hand" in t
               for t in texts), texts
    d = legato.to_dict()
    assert sum(1 for n in d["notes"] if n.get("articulations") == ["staccato"]) == 16


def test_a_tenuto_note_is_to_be_held_its_full_value(rng) -> None:
    s = _marked(rng)
    a = assess(s, _played(s, {"staccato": 0.4, "tenuto": 0.6}))  # more than half: fine unmarked
    got = _by_mark(a, s)
    assert got["tenuto"].count("too_short") == 16 and set(got["staccato"]) == {"ok"}
    unmarked = Score(tempos=s.tempos, time_signatures=s.time_signatures)
    for t in s.tracks:
        unmarked.add_track(replace(t, notes=[replace(n, articulations=()) for n in t.notes]))
    plain = assess(unmarked, _played(s, {"staccato": 1.0, "tenuto": 0.6}))
    assert plain.summary()["too_short"] == 0


def test_the_pedal_does_not_excuse_a_staccato_key_held_down(rng) -> None:
    s = _marked(rng)
    perf = _played(s, {"staccato": 1.0, "tenuto": 1.0})
    end = float(perf.offset_s.max()) + 1
    from yuefu.teach.performance import with_pedal

    pedalled = assess(s, with_pedal(perf, [(0.0, end)]))
    assert _by_mark(pedalled, s)["staccato"].count("too_long") == 16
    detached = assess(s, with_pedal(_played(s, {"staccato": 0.35, "tenuto": 1.0}), [(0.0, end)]))
    assert detached.summary()["too_short"] == 0 and detached.summary()["too_long"] == 0


def _dynamic_study(tmp_path, rng):  # noqa: ANN001, ANN202
    """The study written as MusicXML with p over bars 1-4 and f over bars 5-8 in both parts (marks,
    not velocities: as MuseScore writes a score)."""
    path = write_musicxml(make_piece(rng), tmp_path / "study.musicxml")
    text = re.sub(r' dynamics="[0-9.]+"', "", path.read_text())
    mark = ('<direction placement="below"><direction-type><dynamics><{}/></dynamics></direction-type>'
            '</direction>')
    for bar, m in ((1, "p"), (5, "f")):
        text = re.sub(rf'(<measure[^>]* number="{bar}">(?:(?!<note).)*?)(<note)',
                      lambda x, m=m: x.group(1) + mark.format(m) + x.group(2), text, flags=re.S)
    path.write_text(text)
    return read_musicxml(path)


def test_the_expression_mark_follows_the_score_s_dynamic_marks(rng, tmp_path) -> None:
    s = _dynamic_study(tmp_path, rng)
    levels = {(n.onset < 16, n.velocity) for t in s.tracks for n in t.notes}
    assert levels == {(True, 49), (False, 96)}  # p, then f, in both hands

    def take(soft: int, loud: int) -> Performance:
        return Performance.from_notes([(p, on, off, soft if on < 16 * 0.6 else loud)
                                       for p, on, off, _ in rows_of(s)])

    followed = assess(s, take(45, 95))
    reversed_ = assess(s, take(95, 45))
    flat = assess(s, take(70, 70))
    assert followed.scores.details["dynamics_marked"] == 1.0
    assert followed.scores.details["shape"] > 0.9 and reversed_.scores.details["shape"] == 0.0
    assert followed.scores.expression > reversed_.scores.expression + 25 > flat.scores.expression


def _accented(rng: np.random.Generator) -> Score:
    """The study with every other right-hand note of bars 2-5 that falls on a beat marked accent."""
    s = make_piece(rng)
    rh = s.tracks[0]
    rh.notes = [replace(n, articulations=("accent",)) if 4 <= n.onset < 20 and n.onset % 1 == 0 else n
                for n in rh.notes]
    return s


def test_accents_played_louder_are_heard_and_lost_ones_are_named(rng) -> None:
    s = _accented(rng)
    accented = {(n.pitch, n.onset) for n in s.tracks[0].notes if n.articulations}
    tm = s.tempo_map

    def take(boost: int) -> Performance:
        beat_of = {round(float(tm.to_seconds(np.array([n.onset]))[0]), 6): n.onset for n in s.tracks[0].notes}
        return Performance.from_notes([(p, on, off, v + boost if (p, beat_of.get(round(on, 6))) in accented
                                        else v) for p, on, off, v in rows_of(s)])

    leaned = assess(s, take(20))
    flat = assess(s, take(0))
    assert leaned.scores.details["accents"] == 1.0 and flat.scores.details["accents"] == 0.0
    assert leaned.scores.expression - flat.scores.expression >= 14.9
    texts = [x.text for x in flat.suggestions if "accented notes" in x.text]
    assert texts and texts[0].startswith("Bars 2–5, right hand: 16 of 16 accented notes played no louder"), \
        texts
    assert not [x for x in leaned.suggestions if "accented notes" in x.text]
    plain = assess(make_piece(np.random.default_rng(12345)), take(0))  # no marks: no accents measure
    assert "accents" not in plain.scores.details


def test_two_voices_on_one_key_are_held_as_the_longer() -> None:
    from yuefu.core import Note, Tempo, Track

    s = Score(tempos=[Tempo(0, 120)])
    upper, lower = s.add_track(Track("right")), s.add_track(Track("left"))
    # an alto holding C4 for two beats while the tenor strikes it for one (every other time staccato)
    for b in range(0, 16, 2):
        upper.notes += [Note(60, b, 2), Note(67, b, 1), Note(64, b + 1, 1)]
        lower.notes += [Note(60, b, 1, articulations=("staccato",) if b % 4 else ()), Note(48, b + 1, 1)]
    rows: dict[tuple[int, float], tuple[int, float, float, int]] = {}
    for r in rows_of(s.normalize()):  # a clean rendition on a piano: C4 struck once, held two beats
        if (r[0], r[1]) not in rows or r[2] > rows[(r[0], r[1])][2]:
            rows[(r[0], r[1])] = r
    a = assess(s, list(rows.values()))
    assert a.summary()["too_long"] == 0 and a.summary()["correct"] == a.summary()["notes"]

"""A fermata: the chord under it is held as long as the player likes, and the wait for the next one
is no hesitation, nor does it make the notes after it late."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from conftest import make_piece, rows_of
from yuefu.core import Score
from yuefu.core.io.musicxml import read_musicxml, write_musicxml
from yuefu.teach import assess

BEAT_S = 0.6  # 100 bpm


def _with_fermata(rng: np.random.Generator, tmp_path) -> Score:  # noqa: ANN001
    """The study with a fermata over both hands' notes on beat 1 of bar 5 (read back from MusicXML)."""
    s = make_piece(rng)
    for t in s.tracks:
        t.notes = [replace(n, articulations=("fermata",)) if n.onset == 16.0 else n for n in t.notes]
    return read_musicxml(write_musicxml(s, tmp_path / "fermata.musicxml"))


def _held(s: Score, wait_s: float) -> list[tuple[int, float, float, int]]:
    """The clean take, the fermata chord held ``wait_s`` longer and everything after it later."""
    t0, t1 = 16 * BEAT_S, 16 * BEAT_S + 0.5 * BEAT_S  # the fermata chord; the next chord
    out = []
    for p, on, off, v in rows_of(s):
        if abs(on - t0) < 1e-6:
            off += wait_s
        elif on >= t1 - 1e-6:
            on, off = on + wait_s, off + wait_s
        out.append((p, on, off, v))
    return out


def test_a_fermata_held_long_is_no_hesitation_nor_a_long_note(rng, tmp_path) -> None:
    s = _with_fermata(rng, tmp_path)
    assert sum(1 for t in s.tracks for n in t.notes if "fermata" in n.articulations) == 3
    a = assess(s, _held(s, 1.5))
    sm = a.summary()
    assert not a.verdicts.events, a.verdicts.events
    assert sm["late"] == sm["early"] == sm["too_long"] == 0 and sm["correct"] == sm["notes"]
    assert a.scores.fluency == 100.0 and a.scores.rhythm >= 99.0


def test_without_the_fermata_the_same_wait_is_a_hesitation(rng, tmp_path) -> None:
    s = _with_fermata(rng, tmp_path)
    plain = Score(tempos=s.tempos, time_signatures=s.time_signatures)
    for t in s.tracks:
        plain.add_track(replace(t, notes=[replace(n, articulations=()) for n in t.notes]))
    a = assess(plain, _held(s, 1.5))
    assert [e.kind for e in a.verdicts.events] == ["hesitation"] and a.verdicts.events[0].bar == 5
    assert a.summary()["too_long"] >= 1


def _rolled(rng: np.random.Generator, tmp_path, marked: bool):  # noqa: ANN001, ANN202
    """The study with its left-hand chords of bars 3-4 marked arpeggio (or not), read from MusicXML."""
    s = make_piece(rng)
    if marked:
        lh = s.tracks[1]
        lh.notes = [replace(n, articulations=("arpeggio",)) if 8 <= n.onset < 16 else n for n in lh.notes]
    return read_musicxml(write_musicxml(s, tmp_path / f"rolled{int(marked)}.musicxml"))


def test_a_rolled_chord_is_timed_by_its_first_note(rng, tmp_path) -> None:
    s = _rolled(np.random.default_rng(7), tmp_path, True)
    played = rows_of(s)
    bottom = {round(on, 6): min(p for p, o, _, _ in played if abs(o - on) < 1e-6) for _, on, _, _ in played}
    rows = []  # bars 3-4: each left-hand chord rolled, its upper note 0.12 s after its lower one
    for p, on, off, v in played:
        if 8 * BEAT_S - 1e-6 <= on < 16 * BEAT_S - 1e-6 and p < 60 and p != bottom[round(on, 6)]:
            on += 0.12
        rows.append((p, on, off, v))
    a = assess(s, rows)
    assert a.summary()["late"] == a.summary()["early"] == 0
    plain = assess(_rolled(np.random.default_rng(7), tmp_path, False), rows)
    assert plain.summary()["late"] >= 6  # the same spread without the sign: the upper notes late


def _rit_score(rng: np.random.Generator, tmp_path, words: str | None):  # noqa: ANN001, ANN202
    """The study as MusicXML, ``words`` (e.g. "rit.") written over the start of bar 7."""
    path = write_musicxml(make_piece(rng), tmp_path / f"rit{bool(words)}.musicxml", force=True)
    if words:
        text = path.read_text()
        i = text.index('number="7"')
        j = text.index("<note", i)
        path.write_text(text[:j] + f"<direction><direction-type><words>{words}</words></direction-type>"
                        "</direction>" + text[j:])
    return read_musicxml(path)


def _slowing(s: Score) -> list[tuple[int, float, float, int]]:
    """The clean take, slowing down from bar 7 to half the tempo at the end (a ritardando)."""
    t0 = 24 * BEAT_S

    def warp(t: float) -> float:
        return t if t <= t0 else t0 + (t - t0) * (1 + 0.104 * (t - t0))

    return [(p, warp(on), warp(off), v) for p, on, off, v in rows_of(s)]


def test_a_written_ritardando_is_no_drift_and_no_late_note(tmp_path) -> None:
    marked = _rit_score(np.random.default_rng(3), tmp_path, "poco rit.")
    assert [d.text for d in marked.directions] == ["poco rit."]
    a = assess(marked, _slowing(marked))
    assert a.reference.free_tempo == ((24.0, 32.0),)
    assert a.summary()["late"] == a.summary()["early"] == 0
    assert not [x for x in a.suggestions if x.kind in ("tempo", "timing")]
    plain = _rit_score(np.random.default_rng(3), tmp_path, None)
    b = assess(plain, _slowing(plain))  # the same slowing down where the score asks for none
    assert [x.kind for x in b.suggestions][0] == "tempo"  # "Your tempo went from 100 bpm ... to 70 bpm"
    assert a.scores.rhythm >= 99 > 85 > b.scores.rhythm


def test_where_the_score_frees_the_tempo() -> None:
    from yuefu.core import Direction, Note, Tempo, Track
    from yuefu.teach.reference import free_tempo_spans

    s = Score(tempos=[Tempo(0, 100), Tempo(40, 80)])
    s.add_track(Track("piano")).notes.append(Note(60, 0, 64))
    s.directions = [Direction(0, "Allegretto"), Direction(4, "rit."), Direction(8, "a tempo"),
                    Direction(16, "accel. poco a poco"), Direction(36, "Rall."), Direction(48, "dolce"),
                    Direction(56, "rubato")]
    # rit. to a tempo; accel. for four bars at most; rall. to the new metronome mark; rubato to the end
    assert free_tempo_spans(s) == [(4, 8), (16, 32), (36, 40), (56, 64)]


def test_a_fermata_over_a_rest_is_a_pause_the_score_asks_for(rng, tmp_path) -> None:
    """Bar 5 silent under a fermata (a general pause), read back from MusicXML: waiting there is
    no hesitation and the notes after it are not late; without the sign the same wait is one."""
    s = make_piece(rng)
    for t in s.tracks:
        t.notes = [n for n in t.notes if not 16.0 <= n.onset < 20.0]
    paused = Score(tempos=s.tempos, time_signatures=s.time_signatures, tracks=s.tracks, fermatas=[16.0])
    back = read_musicxml(write_musicxml(paused, tmp_path / "pause.musicxml"))
    assert back.fermatas == [16.0]
    rows = [(p, on + 1.5 * (on >= 20 * BEAT_S - 1e-6), off + 1.5 * (on >= 20 * BEAT_S - 1e-6), v)
            for p, on, off, v in rows_of(back)]
    a = assess(back, rows)
    assert not a.verdicts.events and a.summary()["late"] == a.summary()["early"] == 0
    assert a.scores.fluency == 100.0
    plain = assess(Score(tempos=s.tempos, time_signatures=s.time_signatures, tracks=back.tracks), rows)
    assert [e.kind for e in plain.verdicts.events] == ["hesitation"]

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

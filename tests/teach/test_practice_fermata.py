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

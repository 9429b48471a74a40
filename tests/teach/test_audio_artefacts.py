"""A transcribed recording: partials taken for notes are set aside, not reported (issue 7, audio)."""

from __future__ import annotations

from dataclasses import replace

from yuefu.core import Note, Score, Track
from yuefu.teach import AssessConfig, Performance, assess
from yuefu.teach.verdict import VerdictConfig


def _score() -> Score:
    s = Score()
    t = s.add_track(Track("piano"))
    for i in range(12):  # a bass note and its octave, then a melody note, every beat
        t.notes += [Note(48, i * 1.0, 1.0), Note(60, i * 1.0, 1.0), Note(64 + i % 3, i * 1.0, 1.0)]
    return s


def _played(*, ghost: bool, drop_octave: bool) -> list[tuple[int, float, float, int]]:
    rows = []
    for i in range(12):
        t = 0.5 * i
        rows += [(48, t, t + 0.45, 70), (64 + i % 3, t + 0.002, t + 0.45, 80)]
        if not (drop_octave and i == 5):
            rows.append((60, t + 0.001, t + 0.45, 70))
        if ghost and i == 3:
            rows.append((64 + i % 3 + 12, t + 0.004, t + 0.15, 75))  # the melody note's octave partial
    return rows


def test_octave_partial_is_an_artefact_only_for_audio() -> None:
    rows = _played(ghost=True, drop_octave=False)
    midi = assess(_score(), Performance.from_notes(rows))
    assert midi.summary()["extra"] == 1
    audio = assess(_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert audio.summary()["extra"] == 0 and audio.summary()["artefacts"] == 1
    assert audio.scores.pitch == 100.0


def test_unheard_octave_is_not_missed_in_audio() -> None:
    rows = _played(ghost=False, drop_octave=True)
    midi = assess(_score(), Performance.from_notes(rows))
    assert midi.summary()["missed"] == 1
    audio = assess(_score(), replace(Performance.from_notes(rows), transcribed=True))
    s = audio.summary()
    assert s["missed"] == 0 and s["unheard"] == 1
    n = next(n for n in audio.notes if n.verdict == "unheard")
    assert n.pitch == 60 and n.played is None
    assert audio.to_dict()["notes"][n.index]["verdict"] == "unheard"
    # forced off: the recording is judged as MIDI would be
    off = assess(_score(), replace(Performance.from_notes(rows), transcribed=True),
                 config=AssessConfig(verdict=VerdictConfig(audio=False)))
    assert off.summary()["missed"] == 1


def test_wrong_extra_note_is_still_reported_in_audio() -> None:
    rows = _played(ghost=False, drop_octave=False) + [(69, 2.25, 2.4, 80)]  # off the beat, not a partial
    audio = assess(_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert audio.summary()["extra"] == 1

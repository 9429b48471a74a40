"""A transcribed recording: partials taken for notes are set aside, not reported (issue 7, audio)."""

from __future__ import annotations

from dataclasses import replace

from yuefu.core import Note, Score, Track
from yuefu.teach import AssessConfig, Performance, assess
from yuefu.teach.verdict import VerdictConfig


def _score(bass: int = 48, melody: int = 64) -> Score:
    s = Score()
    t = s.add_track(Track("piano"))
    for i in range(12):  # a bass note and its octave, then a melody note, every beat
        t.notes += [Note(p, i * 1.0, 1.0) for p in (bass, bass + 12, melody + i % 3)]
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


def test_a_held_note_heard_again_inside_its_written_length_is_an_artefact() -> None:
    rows = _played(ghost=False, drop_octave=False)
    # the melody E4 of beat 3 (1.5 s, written to sound until 2.0 s) fades out of the transcription
    # at 1.6 s, and its key is heard again at 1.8 s (a neighbour's onset re-lit it)
    i = next(j for j, r in enumerate(rows) if r[0] == 64 and abs(r[1] - 1.502) < 1e-6)
    rows[i] = (64, 1.502, 1.6, 80)
    ghost = rows + [(64, 1.8, 1.95, 55)]
    midi = assess(_score(), Performance.from_notes(ghost))
    assert midi.summary()["extra"] == 1
    audio = assess(_score(), replace(Performance.from_notes(ghost), transcribed=True))
    assert (audio.summary()["extra"], audio.summary()["artefacts"]) == (0, 1)
    # after its written length the key struck again is an extra note
    late = rows + [(64, 2.25, 2.4, 55)]
    audio = assess(_score(), replace(Performance.from_notes(late), transcribed=True))
    assert [e.pitch for e in audio.extras] == [64]


def _bass_score() -> Score:
    return _score(bass=31, melody=70)  # a deep G1 under its octave, and a melody note, every beat


def _bass_played(extra: list[tuple[int, float, float, int]]) -> list[tuple[int, float, float, int]]:
    rows = [r for i in range(12)
            for r in ((43, 0.5 * i, 0.5 * i + 0.45, 70), (70 + i % 3, 0.5 * i + 0.002, 0.5 * i + 0.45, 80))]
    rows += [(31, 0.5 * i, 0.5 * i + 0.45, 70) for i in range(12) if i != 4]  # G1 of beat 4 not heard
    return rows + extra


def test_a_partial_of_an_unheard_written_note_is_an_artefact() -> None:
    # D3 (50), the third partial of the written G1 that the transcription did not hear
    rows = _bass_played([(50, 2.003, 2.2, 60)])
    midi = assess(_bass_score(), Performance.from_notes(rows))
    assert midi.summary()["extra"] == 1
    audio = assess(_bass_score(), replace(Performance.from_notes(rows), transcribed=True))
    s = audio.summary()
    assert (s["extra"], s["artefacts"], s["missed"], s["unheard"]) == (0, 1, 0, 1)


def test_a_sub_octave_of_a_written_note_struck_with_it_is_an_artefact() -> None:
    # A#3 (58) under the written A#4 of beat 6: the transcriber's octave error
    rows = _bass_played([(58, 3.003, 3.2, 60)])
    midi = assess(_bass_score(), Performance.from_notes(rows))
    assert midi.summary()["extra"] == 1
    audio = assess(_bass_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert (audio.summary()["extra"], audio.summary()["artefacts"]) == (0, 1)
    # off the chord (between two beats) the same pitch is an extra note
    rows = _bass_played([(58, 3.25, 3.4, 60)])
    audio = assess(_bass_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert [e.pitch for e in audio.extras] == [58]


def test_a_note_played_an_octave_off_is_a_wrong_note_in_audio_too() -> None:
    """A hand in the wrong octave is a real mistake: from a recording it is reported as from MIDI,
    not explained away as the transcriber's octave error (on 101 injected octave errors, seed 1,
    that rule reported 5; without it 61)."""
    rows = _played(ghost=False, drop_octave=False)
    i = next(j for j, r in enumerate(rows) if r[0] == 66 and abs(r[1] - 2.502) < 1e-6)
    for wrong in (54, 78, 65):  # the melody F#4 of beat 5 played an octave low, high, a semitone low
        rows[i] = (wrong, 2.502, 2.95, 80)
        for transcribed in (False, True):
            a = assess(_score(), replace(Performance.from_notes(rows), transcribed=transcribed))
            n = next(n for n in a.notes if n.pitch == 66 and n.onset_beat == 5.0)
            assert (n.verdict, n.played_pitch) == ("wrong_pitch", wrong), (wrong, transcribed)

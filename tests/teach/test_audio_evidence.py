"""Score-informed listening (issue 7, audio): the transcriber's candidates are asked again knowing
the score -- a written note heard faintly is played, a doubtful note the score lacks is dropped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    FRAME_S,
    bass_melody_rows,
    bass_melody_score,
    painted_transcription,
    render_take,
    transcriber_missing,
    two_bar_piece,
)
from yuefu.core import Note, Score, Track
from yuefu.core.errors import ParameterError
from yuefu.teach import AssessConfig, Performance, assess
from yuefu.teach.evidence import EvidenceConfig
from yuefu.teach.performance import Candidates
from yuefu.teach.verdict import VerdictConfig

Row = tuple[int, float, float, int]


def _transcribed(rows: list[Row], extra: list[tuple[Row, float]], *,
                 onset_post: np.ndarray | None = None, note_post: np.ndarray | None = None) -> Performance:
    """A transcription: ``rows`` accepted (probability 0.99) plus ``extra`` candidates with theirs.

    Given posteriors, every candidate is also painted into them as the note model would show it (an
    onset peak that grows with its probability, its key sounding while it lasts)."""
    cand = [(r, 0.99) for r in rows] + extra
    cand.sort(key=lambda x: (x[0][1], x[0][0]))
    arr = np.array([r for r, _ in cand], dtype=np.float64)
    prob = np.array([q for _, q in cand])
    if onset_post is not None:
        onset_post = onset_post.copy()
        note_post = np.zeros_like(onset_post) if note_post is None else note_post.copy()
        for (p, a, b, _), q in cand:
            g, e = int(round(a / FRAME_S)), int(round(b / FRAME_S))
            onset_post[g, p - 21] = max(float(onset_post[g, p - 21]), 0.3 + 0.6 * q)
            note_post[g:e, p - 21] = np.maximum(note_post[g:e, p - 21], 0.3 + 0.4 * q)
    c = Candidates(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64), prob, 0.5,
                   onset_post, note_post, FRAME_S)
    acc = [r for r, q in cand if q >= 0.5]
    return replace(Performance.from_notes(acc), transcribed=True, candidates=c)


def test_a_written_note_heard_faintly_is_played() -> None:
    rows = bass_melody_rows()
    faint = rows.pop(11)  # the melody note of beat 5: F#4
    assert faint[0] == 66
    got = assess(bass_melody_score(), _transcribed(rows, [(faint, 0.2)]))
    assert got.summary()["missed"] == 0 and got.summary()["correct"] == 24
    # the same candidate but hardly believed: the note is missed
    got = assess(bass_melody_score(), _transcribed(rows, [(faint, 0.01)]))
    assert got.summary()["missed"] == 1
    # and with the second look off, a candidate the transcriber rejected counts for nothing
    off = AssessConfig(evidence=EvidenceConfig(enabled=False))
    got = assess(bass_melody_score(), _transcribed(rows, [(faint, 0.2)]), config=off)
    assert got.summary()["missed"] == 1


def test_a_doubtful_unwritten_note_is_dropped_and_a_sure_one_reported() -> None:
    ghost: Row = (71, 2.25, 2.4, 60)  # off the beat, a pitch the score does not have there
    doubtful = assess(bass_melody_score(), _transcribed(bass_melody_rows(), [(ghost, 0.6)]))
    assert doubtful.summary()["extra"] == 0 and doubtful.scores.pitch == 100.0
    sure = assess(bass_melody_score(), _transcribed(bass_melody_rows(), [(ghost, 0.99)]))
    assert [e.pitch for e in sure.extras] == [71]


def test_onset_posterior_alone_recovers_a_written_note() -> None:
    rows = bass_melody_rows()
    lost = rows.pop(11)  # no candidate at all: the decoder found no onset peak above its threshold
    post = np.zeros((int(7.0 / FRAME_S), 88), dtype=np.float16)
    g = int(round(lost[1] / FRAME_S))
    post[g - 1:g + 2, lost[0] - 21] = [0.3, 0.7, 0.3]
    got = assess(bass_melody_score(), _transcribed(rows, [], onset_post=post))
    assert got.summary()["missed"] == 0
    n = next(n for n in got.notes if n.pitch == 66 and n.onset_beat == 5.0)
    assert n.verdict == "correct" and abs(n.played_onset_s - lost[1]) < 2 * FRAME_S
    weak = post.copy()
    weak[g - 1:g + 2, lost[0] - 21] = [0.1, 0.2, 0.1]
    assert assess(bass_melody_score(), _transcribed(rows, [], onset_post=weak)).summary()["missed"] == 1


def test_expected_times_go_on_at_the_played_pace_beyond_the_chords_heard() -> None:
    from yuefu.teach.align import align
    from yuefu.teach.evidence import expected_times
    from yuefu.teach.reference import build_reference
    from yuefu.teach.verdict import judge

    ref = build_reference(bass_melody_score())  # a chord on each of 12 beats, 0.5 s apart as written
    for start, first in ((2.0, 0.8), (0.7, None)):
        # beats 2-10 played 0.6 s apart from ``start``; the first two and the last were not heard
        at = {i: start + 0.6 * (i - 2) for i in range(2, 11)}
        rows = [r for i, a in at.items() for r in ((48, a, a + .5, 70), (64 + i % 3, a + .002, a + .5, 80))]
        perf = Performance.from_notes(rows)
        t = expected_times(ref, judge(ref, perf, align(ref, perf)))
        assert t[5] == pytest.approx(start + 1.8, abs=0.01)  # heard
        assert t[1] == pytest.approx(start - 0.6, abs=0.01) and t[11] == pytest.approx(start + 5.4, abs=0.01)
        if first is None:
            assert np.isnan(t[0])  # the pace puts it before the recording began
        else:
            assert t[0] == pytest.approx(first, abs=0.01)


def test_a_lost_opening_chord_is_looked_for_before_the_first_chord_heard() -> None:
    rows = [(p, a + 0.5, b + 0.5, v) for p, a, b, v in bass_melody_rows()]  # from 0.5 s
    lost, rows = rows[:2], rows[2:]  # the transcriber heard nothing of the first chord
    post = np.zeros((int(7.0 / FRAME_S), 88), dtype=np.float16)
    for p, a, _, _ in lost:
        g = int(round(a / FRAME_S))
        post[g - 1:g + 2, p - 21] = [0.3, 0.7, 0.3]
    got = assess(bass_melody_score(), _transcribed(rows, [], onset_post=post))
    assert got.summary()["missed"] == 0 and got.summary()["correct"] == 24
    assert not [e for e in got.verdicts.events if e.kind == "skip"]
    # with nothing there, the opening chord was not played
    got = assess(bass_melody_score(), _transcribed(rows, [], onset_post=np.zeros_like(post)))
    assert got.summary()["missed"] == 2


def test_a_recording_that_stops_halfway_leaves_the_rest_missed() -> None:
    # the times now go on past the last chord heard: silence there is still no note, heard or not
    got = assess(bass_melody_score(), painted_transcription([(r, 0.97) for r in bass_melody_rows()[:12]]))
    assert got.summary()["correct"] == 12 and got.summary()["missed"] == 12 and got.summary()["unheard"] == 0
    assert [e.kind for e in got.verdicts.events] == ["ended_early"]


def test_a_weaker_onset_suffices_where_its_chord_was_struck() -> None:
    rows = bass_melody_rows()
    lost = rows.pop(11)  # the melody note of beat 5; its bass (the rest of its chord) was heard
    post = np.zeros((int(7.0 / FRAME_S), 88), dtype=np.float16)
    g = int(round(lost[1] / FRAME_S))
    post[g - 1:g + 2, lost[0] - 21] = [0.2, 0.45, 0.2]
    assert assess(bass_melody_score(), _transcribed(rows, [], onset_post=post)).summary()["missed"] == 0
    strict = AssessConfig(evidence=EvidenceConfig(onset_chord=0.5))
    got = assess(bass_melody_score(), _transcribed(rows, [], onset_post=post), config=strict)
    assert got.summary()["missed"] == 1


def test_a_further_look_follows_what_the_first_one_found() -> None:
    rows = bass_melody_rows()
    lost = rows.pop(11)  # the melody note of beat 5, heard only in the onset posterior ...
    bass = rows.pop(10)  # ... and its bass, only as a doubtful candidate
    post = np.zeros((int(7.0 / FRAME_S), 88), dtype=np.float16)
    g = int(round(lost[1] / FRAME_S))
    post[g - 1:g + 2, lost[0] - 21] = [0.2, 0.45, 0.2]
    # the first look takes the bass (a candidate where the score expects it); the chord was then
    # struck, and a second look takes the melody note on the weaker onset a struck chord needs
    got = assess(bass_melody_score(), _transcribed(rows, [(bass, 0.2)], onset_post=post))
    assert got.summary()["missed"] == 0 and got.summary()["correct"] == 24
    # without the bass, no chord was struck there: the melody note's onset is too weak alone
    got = assess(bass_melody_score(), _transcribed(rows, [], onset_post=post))
    assert got.summary()["missed"] == 2


def _trill_score() -> Score:
    """Quarter notes (bass and melody, 120 BPM), then two beats of a 64th-note trill E4-F#4 (a key
    struck every 62 ms) over a held bass, then quarter notes again."""
    s = Score()
    t = s.add_track(Track("piano"))
    for i in range(12):
        if i in (4, 5):
            continue
        t.notes += [Note(48, i * 1.0, 1.0), Note(72 + i % 3, i * 1.0, 1.0)]
    t.notes.append(Note(43, 4.0, 2.0))
    t.notes += [Note(64 + 2 * (k % 2), 4.0 + k / 16, 1 / 16) for k in range(32)]
    return s


def _trill_heard() -> tuple[list[Row], np.ndarray, np.ndarray]:
    """:func:`_trill_score` played cleanly, as the transcriber hears it: every fourth strike of each
    trill key (each heard as a long note), both keys sounding throughout (rows, onset and key
    posteriors)."""
    rows: list[Row] = [r for i in range(12) if i not in (4, 5) for r in
                       ((48, 0.5 * i, 0.5 * i + 0.45, 70), (72 + i % 3, 0.5 * i, 0.5 * i + 0.45, 80))]
    rows.append((43, 2.0, 2.95, 70))
    rows += [(64 + 2 * (k % 2), 2.0 + k / 32, 2.0 + k / 32 + 0.12, 70) for k in range(32) if k % 8 < 2]
    rows.sort(key=lambda r: (r[1], r[0]))
    keys = np.zeros((int(7.0 / FRAME_S), 88), dtype=np.float16)
    span = slice(int(2.0 / FRAME_S), int(3.0 / FRAME_S))
    keys[span, 64 - 21] = keys[span, 66 - 21] = 0.5
    return rows, np.zeros_like(keys), keys


def test_a_trill_heard_as_a_few_long_strikes_is_played_where_the_keys_sound() -> None:
    rows, onset, keys = _trill_heard()
    got = assess(_trill_score(), _transcribed(rows, [], onset_post=onset, note_post=keys))
    assert got.summary()["missed"] == 0, got.summary()
    # without the rule (and the learned judge of unanswered notes, which hears the keys sound too)
    off = AssessConfig(evidence=EvidenceConfig(note_repeat=1.0, unheard=False))
    assert assess(_trill_score(), _transcribed(rows, [], onset_post=onset, note_post=keys),
                  config=off).summary()["missed"] >= 16
    judged = assess(_trill_score(), _transcribed(rows, [], onset_post=onset, note_post=keys),
                    config=AssessConfig(evidence=EvidenceConfig(note_repeat=1.0)))
    assert judged.summary()["missed"] < 16, judged.summary()
    # F#4 never struck: no strike heard and its key silent -- its notes stay missed
    no_f = [r for r in rows if r[0] != 66]
    silent = keys.copy()
    silent[:, 66 - 21] = 0
    got = assess(_trill_score(), _transcribed(no_f, [], onset_post=onset, note_post=silent))
    assert {n.pitch for n in got.notes if n.verdict == "missed"} == {66}
    assert not any(n.verdict in ("correct", "unheard") for n in got.notes if n.pitch == 66)
    assert got.summary()["missed"] >= 13  # (a few of them paired with an E4 strike: wrong)


def test_a_trill_heard_a_few_strikes_short_is_not_missed_by_notes_alone() -> None:
    """A transcription that keeps no candidates (Transkun's): the trill's strikes it did not hear
    are unheard, where its keys were heard struck; a key never heard stays missed; MIDI is exact."""
    rows, _, _ = _trill_heard()
    heard = replace(Performance.from_notes(rows), transcribed=True)
    got = assess(_trill_score(), heard)
    trill = [n for n in got.notes if n.pitch in (64, 66)]
    assert not any(n.verdict == "missed" for n in trill), got.summary()
    assert sum(n.verdict == "unheard" for n in trill) >= 16
    # F#4 never heard: its strikes stay missed (or wrong where an E4 strike answers them)
    no_f = replace(Performance.from_notes([r for r in rows if r[0] != 66]), transcribed=True)
    got = assess(_trill_score(), no_f)
    assert not any(n.verdict in ("correct", "unheard") for n in got.notes if n.pitch == 66)
    # a plain note left out, outside the trill, is missed all the same
    plain = replace(Performance.from_notes([r for r in rows if not (r[0] == 73 and r[1] < 1)]),
                    transcribed=True)
    assert [n.pitch for n in assess(_trill_score(), plain).notes if n.verdict == "missed"] == [73]
    # from MIDI the strikes are counted: the ones not played are missed
    midi = assess(_trill_score(), Performance.from_notes(rows))
    assert sum(n.verdict == "missed" for n in midi.notes if n.pitch in (64, 66)) >= 16


def test_a_trill_is_not_judged_early_or_late_from_a_recording() -> None:
    rows, onset, keys = _trill_heard()
    got = assess(_trill_score(), _transcribed(rows, [], onset_post=onset, note_post=keys))
    assert (got.summary()["early"], got.summary()["late"]) == (0, 0), got.summary()
    trill = [n for n in got.notes if n.pitch in (64, 66)]
    assert all(n.timing is None for n in trill)
    assert all(n.timing == "on_time" for n in got.notes if n.pitch not in (64, 66) and n.played is not None)
    # judged like any note, the strikes the transcriber placed (and those read from the key
    # posterior between them) come out early and late
    every = AssessConfig(verdict=VerdictConfig(repeat_s=0))
    got = assess(_trill_score(), _transcribed(rows, [], onset_post=onset, note_post=keys), config=every)
    assert got.summary()["early"] + got.summary()["late"] >= 3


def test_a_trills_other_key_where_a_strike_is_written_is_no_wrong_note_in_a_recording() -> None:
    # every strike of the trill, but E4 heard where F#4 is written, as the transcriber's onsets
    # inside a trill (a key struck every 62 ms) can be: which key sounds first is not heard
    rows: list[Row] = [r for i in range(12) if i not in (4, 5) for r in
                       ((48, 0.5 * i, 0.5 * i + 0.45, 70), (72 + i % 3, 0.5 * i, 0.5 * i + 0.45, 80))]
    rows.append((43, 2.0, 2.95, 70))
    rows += [(64 + 2 * (k % 2) * (k != 11), 2.0 + k / 32, 2.0 + k / 32 + 0.03, 70) for k in range(32)]
    rows.sort(key=lambda r: (r[1], r[0]))
    midi = assess(_trill_score(), rows)  # from a digital piano it is what was played: a wrong note
    wrong = [(n.onset_beat, n.played_pitch) for n in midi.notes if n.verdict == "wrong_pitch"]
    assert wrong == [(4.6875, 64)]
    got = assess(_trill_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert got.summary()["wrong_pitch"] == 0 and got.summary()["missed"] == 0, got.summary()
    assert [n.onset_beat for n in got.notes if n.verdict == "unheard"] == [4.6875]
    # a trill whose other key was never heard nearby: its written strikes answered by E4 are wrong
    lone = [r for r in rows if not (r[0] == 66 and 2.1 < r[1] < 2.6)]
    got = assess(_trill_score(), replace(Performance.from_notes(lone), transcribed=True))
    assert (4.6875, 64) in [(n.onset_beat, n.played_pitch) for n in got.notes if n.verdict == "wrong_pitch"]


def test_a_chord_note_heard_apart_from_its_chord_is_taken_where_its_chord_was_struck() -> None:
    rows = bass_melody_rows()
    i = next(j for j, r in enumerate(rows) if r[0] == 66 and abs(r[1] - 2.502) < 1e-6)
    rows[i] = (66, 2.62, 2.95, 80)  # the melody F#4 of beat 5 heard 120 ms after its bass ...
    with_chord: Row = (66, 2.502, 2.95, 70)  # ... and doubtfully with it
    got = assess(bass_melody_score(), _transcribed(rows, [(with_chord, 0.3)]))
    n = next(n for n in got.notes if n.pitch == 66 and n.onset_beat == 5.0)
    assert n.verdict == "correct" and n.timing == "on_time" and abs(n.played_onset_s - 2.502) < 1e-6
    assert got.summary()["late"] == 0 and got.summary()["extra"] == 0
    # with no candidate where the chord was struck, the late onset stands
    got = assess(bass_melody_score(), _transcribed(rows, []))
    assert got.summary()["late"] == 1


def _early_taken(extra: list[tuple[Row, float]]) -> tuple[Performance, Performance | None]:
    """A first judgement that took an early onset of the F#4 of beat 5 (2.40 s) for the chord's note
    (as a denser texture leads the aligner to), and the second look at it."""
    from yuefu.teach.align import KIND_STAY, OP_INSERT, OP_MATCH, align
    from yuefu.teach.evidence import reconsider
    from yuefu.teach.reference import build_reference
    from yuefu.teach.verdict import judge

    rows = [r for r in bass_melody_rows() if not (r[0] == 66 and abs(r[1] - 2.502) < 1e-6)]
    perf = _transcribed(rows, extra)
    ref = build_reference(bass_melody_score())
    al = align(ref, perf)
    early, with_chord, bass = (int(np.flatnonzero((perf.pitch == p) & (np.abs(perf.onset_s - t) < 1e-6))[0])
                               for p, t in ((66, 2.40), (66, 2.502), (48, 2.5)))
    cluster, op, kind = al.cluster.copy(), al.op.copy(), al.kind.copy()
    cl = int(al.cluster[bass])
    cluster[early], op[early], kind[early] = cl, OP_MATCH, al.kind[bass]
    cluster[with_chord], op[with_chord] = cl, OP_INSERT
    kind[bass] = KIND_STAY
    v = judge(ref, perf, replace(al, cluster=cluster, op=op, kind=kind))
    n = next(n for n in v.notes if n.pitch == 66 and n.onset_beat == 5.0)
    assert n.timing == "early" and n.played == early
    return perf, reconsider(ref, perf, v)


def test_the_strike_with_the_chord_is_kept_when_an_early_onset_was_taken_for_it() -> None:
    # both heard, both doubtful: the strike with the chord, set aside as the key heard twice, is kept
    _, better = _early_taken([((66, 2.40, 2.95, 80), 0.7), ((66, 2.502, 2.95, 70), 0.7)])
    assert better is not None
    assert sorted(better.onset_s[better.pitch == 66].round(3).tolist()) == [1.002, 2.502, 4.002, 5.502]


def test_an_early_onset_on_a_partial_of_a_note_struck_with_it_goes_though_the_verifier_is_sure() -> None:
    sure_early = ((66, 2.40, 2.95, 80), 0.99)
    with_chord = ((66, 2.502, 2.95, 70), 0.7)
    # F#3 struck with the early F#4: its octave partial lit the key
    _, better = _early_taken([sure_early, with_chord, ((54, 2.40, 2.6, 80), 0.99)])
    assert better is not None
    assert sorted(better.onset_s[better.pitch == 66].round(3).tolist()) == [1.002, 2.502, 4.002, 5.502]
    # no partial explains it: a sure onset stays
    _, better = _early_taken([sure_early, with_chord, ((53, 2.40, 2.6, 80), 0.99)])
    assert better is None or 2.4 in better.onset_s[better.pitch == 66].round(3).tolist()


def test_midi_is_never_reconsidered() -> None:
    rows = bass_melody_rows() + [(71, 2.25, 2.4, 60)]
    a = assess(bass_melody_score(), Performance.from_notes(rows))
    assert a.summary()["extra"] == 1 and a.performance.candidates is None


def _judged(rows: list[Row], score: Score | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """(MIDI summary, audio summary) of the same notes, without candidates (the verdict rules only)."""
    sc = score or bass_melody_score()
    midi = assess(sc, Performance.from_notes(rows)).summary()
    audio = assess(sc, replace(Performance.from_notes(rows), transcribed=True)).summary()
    return midi, audio


def test_deep_bass_under_its_octave_is_unheard_in_audio() -> None:
    s = Score()
    t = s.add_track(Track("piano"))
    for i in range(12):
        t.notes += [Note(31, i * 1.0, 1.0), Note(43, i * 1.0, 1.0), Note(67 + i % 3, i * 1.0, 1.0)]
    rows = [r for i in range(12)
            for r in ((43, 0.5 * i, 0.5 * i + 0.45, 70), (67 + i % 3, 0.5 * i, 0.5 * i + 0.45, 80))]
    rows += [(31, 0.5 * i, 0.5 * i + 0.45, 70) for i in range(12) if i != 4]  # G1 of beat 4 not heard
    midi, audio = _judged(rows, s)
    assert midi["missed"] == 1 and (audio["missed"], audio["unheard"]) == (0, 1)


def test_a_restruck_key_heard_as_one_long_note_is_unheard_in_audio() -> None:
    rows = bass_melody_rows()
    i = next(j for j, r in enumerate(rows) if r[0] == 48 and r[1] == 1.0)  # the bass of beat 2 ...
    rows[i - 2] = (48, 0.5, 1.45, 70)                                       # ... merged into beat 1's
    del rows[i]
    midi, audio = _judged(rows)
    assert midi["missed"] == 1 and (audio["missed"], audio["unheard"]) == (0, 1)


def test_one_strike_heard_twice_is_an_artefact_in_audio() -> None:
    rows = bass_melody_rows() + [(64, 1.4, 1.45, 60)]  # E4 100 ms before the E4 of beat 3 (at 1.5 s)
    midi, audio = _judged(rows)
    assert midi["extra"] == 1 and (audio["extra"], audio["artefacts"]) == (0, 1)


def test_evidence_config_is_checked() -> None:
    with pytest.raises(ParameterError):
        EvidenceConfig(accept_expected=1.5)
    with pytest.raises(ParameterError):
        EvidenceConfig(window_s=-0.1)
    with pytest.raises(ParameterError):
        EvidenceConfig(note_repeat=2.0)


# -- rendered piano, through the product's audio route ---------------------------------------------

@pytest.mark.fluidsynth
@pytest.mark.skipif(transcriber_missing() is not None, reason=f"transcriber: {transcriber_missing()}")
def test_rendered_clean_take_reports_no_errors_and_real_errors_are_found(tmp_path: Path) -> None:
    score = two_bar_piece()
    spb = 0.6
    rows: list[Row] = sorted(((n.pitch, n.onset * spb, (n.onset + n.duration) * spb - 0.02, n.velocity)
                              for t in score.tracks for n in t.notes), key=lambda r: (r[1], r[0]))
    clean = assess(score, render_take(rows, tmp_path / "clean"))
    s = clean.summary()
    assert (s["wrong_pitch"], s["missed"], s["extra"]) == (0, 0, 0), s
    # one melody note left out (E5 of beat 1), one octave struck between two melody notes
    omitted = next(r for r in rows if r[0] == 76)
    octave: Row = (74 + 12, 0.5 * spb + 0.12, 0.5 * spb + 0.3, 80)
    played = sorted([r for r in rows if r != omitted] + [octave], key=lambda r: (r[1], r[0]))
    got = assess(score, render_take(played, tmp_path / "errors"))
    s = got.summary()
    assert [(n.pitch, n.onset_beat) for n in got.notes if n.verdict == "missed"] == [(76, 1.0)], s
    assert [e.pitch for e in got.extras] == [86], s
    assert s["wrong_pitch"] == 0


def test_held_lengths_are_not_judged_from_a_recording() -> None:
    # every note played at a fifth of its written length: MIDI says "cut short"; a recording's note
    # ends are where the sound fades, so neither the verdict nor the expression mark counts them
    rows = [r for i in range(12)
            for r in ((48, 0.5 * i, 0.5 * i + 0.1, 70), (64 + i % 3, 0.5 * i, 0.5 * i + 0.1, 80))]
    midi = assess(bass_melody_score(), Performance.from_notes(rows))
    audio = assess(bass_melody_score(), replace(Performance.from_notes(rows), transcribed=True))
    assert midi.summary()["too_short"] == 24 and audio.summary()["too_short"] == 0
    assert all(n.duration is None and n.duration_ratio is not None for n in audio.notes)
    assert audio.scores.expression > midi.scores.expression


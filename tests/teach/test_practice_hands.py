"""Hands: from the score's staves, the tracks' names, two tracks, or a split at middle C."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from conftest import rows_of
from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.core.io import read_musicxml, write_musicxml
from yuefu.core.io.midi import score_from_midi_bytes
from yuefu.teach import AssessConfig, StreamFollower, assess, build_reference, render_html
from yuefu.teach.reference import hand_of_name


def crossing_piece(*, staves: bool = True, names: tuple[str, str] | None = None) -> Score:
    """Eight bars, 4/4 at 100 BPM, where the hands cross middle C.

    The right hand plays a line at C3-G3 (below middle C) in bars 3-6, the left hand holds
    chords at E4-G4 (above it) in bars 3-4: a split at middle C gets both wrong.
    ``staves``: one piano part, notes carrying their staff; else two tracks named ``names``.
    """
    s = Score(tempos=[Tempo(0, 100)], time_signatures=[TimeSignature(0, 4, 4)], title="crossing")
    rh: list[Note] = []
    lh: list[Note] = []
    for i in range(64):  # eighth notes
        bar = i // 8 + 1
        base = 48 if 3 <= bar <= 6 else 67
        rh.append(Note(base + (0, 2, 4, 5, 7, 5, 4, 2)[i % 8], i * 0.5, 0.5, 80))
    for b in range(32):  # a two-note chord on every beat
        bar = b // 4 + 1
        low = 64 if bar in (3, 4) else 36
        lh += [Note(low, float(b), 1.0, 70), Note(low + 3, float(b), 1.0, 70)]
    if staves:
        t = s.add_track(Track("Piano", program=0))
        t.notes += [Note(n.pitch, n.onset, n.duration, n.velocity, staff=1) for n in rh]
        t.notes += [Note(n.pitch, n.onset, n.duration, n.velocity, staff=2) for n in lh]
    else:
        a, b = names or ("Piano RH", "Piano LH")
        s.add_track(Track(a)).notes.extend(rh)
        s.add_track(Track(b)).notes.extend(lh)
    return s.normalize()


def _with_wrong_notes(rows: list[tuple[int, float, float, int]], pitches: set[int],
                      first_s: float, last_s: float, k: int) -> list[tuple[int, float, float, int]]:
    """Raise the first ``k`` played notes with these pitches between the times by a semitone."""
    out, done = [], 0
    for p, a, b, v in rows:
        if done < k and p in pitches and first_s <= a < last_s:
            p, done = p + 1, done + 1
        out.append((p, a, b, v))
    assert done == k
    return out


def test_a_two_staff_musicxml_part_gives_the_hands_from_its_staves(tmp_path: Path) -> None:
    path = write_musicxml(crossing_piece(), tmp_path / "crossing.musicxml")
    score = read_musicxml(path)
    assert len(score.tracks) == 1  # one piano part: the staves are one track
    ref = build_reference(score)
    assert ref.hands_from == "staves"
    rh_low = [n for n in ref.notes if n.hand == "right" and n.pitch < 60]
    lh_high = [n for n in ref.notes if n.hand == "left" and n.pitch >= 60]
    assert len(rh_low) == 32 and len(lh_high) == 16
    # three wrong notes in the right hand's line below middle C (bars 4-5: 7.2-12 s)
    played = _with_wrong_notes(rows_of(score), {48, 50, 52, 53, 55}, 7.2, 12.0, 3)
    a = assess(path, played)
    per = {(b.bar, b.hand): b for b in a.verdicts.bar_hands}
    assert sum(per[(b, "right")].wrong_pitch for b in (4, 5)) == 3
    assert sum(per[(b, "left")].pitch_errors for b in range(1, 9)) == 0
    top = a.suggestions[0]
    assert top.kind == "notes" and top.hand == "right" and "right hand" in top.text
    d = json.loads(a.to_json())
    assert d["score"]["hands_from"] == "staves"
    assert all(n["hand"] == "right" for n in d["notes"] if n["verdict"] == "wrong_pitch")
    assert "the score&#x27;s staves" in render_html(a) or "the score's staves" in render_html(a)


def test_without_staves_the_same_notes_are_split_at_middle_c(tmp_path: Path) -> None:
    """The counter-test: the same part on one staff is split, and the wrong notes change hands."""
    one = crossing_piece()
    for n in one.tracks[0].notes:
        n.staff = None
    ref = build_reference(one)
    assert ref.hands_from == "pitch (split at 60)"
    assert all((n.hand == "right") == (n.pitch >= 60) for n in ref.notes)


def test_tracks_named_for_the_hands_win_over_their_pitch() -> None:
    # the left hand's track is the higher-sounding one here: its name says left
    s = crossing_piece(staves=False, names=("RH", "LH"))
    lh = s.tracks[1]
    for n in lh.notes:
        n.pitch += 30
    ref = build_reference(s)
    assert ref.hands_from == "track names"
    assert {n.hand for n in ref.notes if n.track == "LH"} == {"left"}
    # unnamed, the two tracks are told apart by pitch: the higher is the right hand
    s.tracks[0].name, s.tracks[1].name = "one", "two"
    ref = build_reference(s)
    assert ref.hands_from == "tracks" and {n.hand for n in ref.notes if n.track == "two"} == {"right"}


def test_track_names_that_name_the_hands() -> None:
    assert [hand_of_name(n) for n in ("Right Hand", "Piano R.H.", "pno_rh", "Treble", "upper",
                                      "右手", "rechts")] == ["right"] * 7
    assert [hand_of_name(n) for n in ("Left Hand", "L.H.", "Bass", "lower", "左手")] == ["left"] * 5
    assert [hand_of_name(n) for n in ("Piano", "", "track1", "right and left", "Lhasa",
                                      "Brighton")] == [None] * 6


def test_three_tracks_named_for_hands_use_the_names_and_one_unnamed_falls_back() -> None:
    s = crossing_piece(staves=False)
    extra = s.add_track(Track("RH 2"))
    extra.notes.append(Note(40, 0.0, 1.0))
    assert build_reference(s).hands_from == "track names"
    extra.name = "ornament"
    assert build_reference(s).hands_from == "pitch (split at 60)"


def _two_channel_midi() -> bytes:
    """One MIDI track, a C major scale on channel 1 and its bass on channel 2 (format 0)."""

    def vlq(n: int) -> bytes:
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))

    ev = b""
    for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72)):
        bass = 48 - 12 * (i % 2)
        ev += vlq(0) + bytes([0x90, p, 80]) + vlq(0) + bytes([0x91, bass, 70])
        ev += vlq(480) + bytes([0x80, p, 0]) + vlq(0) + bytes([0x81, bass, 0])
    ev += vlq(0) + b"\xff\x2f\x00"
    track = b"MTrk" + struct.pack(">I", len(ev)) + ev
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + track


def test_a_midi_file_with_the_hands_on_two_channels_uses_them() -> None:
    score = score_from_midi_bytes(_two_channel_midi())
    ref = build_reference(score)
    assert ref.hands_from == "tracks"
    assert {n.pitch for n in ref.notes if n.hand == "left"} == {36, 48}


def test_an_extra_note_goes_to_the_hand_playing_near_it() -> None:
    score = crossing_piece()
    rows = rows_of(score)
    # bar 4 (beats 12-16, 7.2-9.6 s): the right hand plays C3-G3, the left E4-G4; an extra A#4
    # is next to the left hand's chord, an extra C#3 next to the right hand's line
    rows += [(70, 7.85, 8.0, 60), (49, 8.45, 8.6, 60)]
    a = assess(score, sorted(rows, key=lambda r: (r[1], r[0])))
    hands = {e.pitch: e.hand for e in a.extras}
    assert hands == {70: "left", 49: "right"}
    live = StreamFollower(score)
    got = {}
    for p, t0, _, v in sorted(rows, key=lambda r: (r[1], r[0])):
        lv = live.note_on(p, t0, v)
        if p in (70, 49):
            got[p] = lv.hand
    assert got == {70: "left", 49: "right"}


def test_an_extra_note_of_a_split_score_follows_the_configured_split() -> None:
    """Regression: extra notes were split at 60 whatever ``split_pitch`` the score was split at."""
    s = Score(tempos=[Tempo(0, 120)])
    t = s.add_track(Track("piano"))
    t.notes += [Note(50 + (i % 4), i * 1.0, 1.0) for i in range(16)]  # all below 60, above 48
    rows = rows_of(s) + [(49, 4.05, 4.3, 60)]
    a = assess(s, sorted(rows, key=lambda r: (r[1], r[0])), config=AssessConfig(split_pitch=48))
    assert {n.hand for n in a.notes} == {"right"}
    assert [(e.pitch, e.hand) for e in a.extras] == [(49, "right")]
    assert np.isclose(a.scores.pitch, 100 * 16 / 17, atol=0.1)

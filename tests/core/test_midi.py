"""MIDI IO: lossless round trips of everything a Score holds, foreign files, broken files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from yuefu.core.errors import OutputExistsError, ParameterError, ScoreLoadError
from yuefu.core.io.midi import TPQ, midi_bytes, read_midi, score_from_midi_bytes, write_midi
from yuefu.core.score import (
    ChordSymbol,
    KeySignature,
    Note,
    Score,
    Section,
    Tempo,
    TimeSignature,
    Track,
)
from yuefu.core.theory import Key


def _song() -> Score:
    s = Score(
        tempos=[Tempo(0, 97.5), Tempo(8, 140), Tempo(14, 63.25)],
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(8, 3, 4), TimeSignature(14, 6, 8)],
        key_signatures=[KeySignature(0, Key.parse("A minor")), KeySignature(8, Key.parse("Eb major")),
                        KeySignature(14, Key.parse("Bb minor"))],
        chords=[ChordSymbol(0, "Am7"), ChordSymbol(4, "G/B"), ChordSymbol(8, "Ebmaj7"),
                ChordSymbol(11, "F#ø7")],
        sections=[Section(0, "verse"), Section(8, "chorus"), Section(14, "间奏")],
        title="月亮代表我的心",
    )
    v = s.add_track(Track("vocal", program=52, role="vocal", gain_db=2.5, pan=-0.25))
    v.notes += [Note(69, 0.0, 1.0, 100, "月"), Note(72, 1.0, 0.5, 80, "亮"),
                Note(71, 1.5, 0.5, 81, "-"), Note(76, 2.0, 2.0, 127, "moon")]
    d = s.add_track(Track("drums", is_drum=True, role="drums", gain_db=-6.0, pan=0.3))
    d.notes += [Note(36, 0.0, 0.25, 110), Note(38, 1.0, 0.25, 90), Note(42, 1.5, 0.125, 1)]
    p = s.add_track(Track("piano", program=0, role="accompaniment", gain_db=-3.0, pan=1.0))
    p.notes += [Note(57, 0.0, 2.0, 70), Note(60, 0.0, 2.0, 70), Note(64, 0.0, 2.0, 70)]
    b = s.add_track(Track("bass", program=33, role="bass", gain_db=-1.0 / 3.0, pan=-1.0))
    b.notes += [Note(33, 0.0, 4.0, 90), Note(31, 4.0, 17.0, 90)]
    return s


def _round_trip(score: Score) -> Score:
    return score_from_midi_bytes(midi_bytes(score))


def _notes(track: Track) -> list[tuple]:
    return [(n.pitch, n.onset, n.duration, n.velocity, n.lyric) for n in track.notes]


def test_round_trip_is_lossless():
    s = _song().normalize()
    back = _round_trip(s)
    assert back == s  # every field of every note, track, tempo, meter, key, chord and section


def test_round_trip_details():
    back = _round_trip(_song())
    assert back.title == "月亮代表我的心"
    assert [t.name for t in back.tracks] == ["vocal", "drums", "piano", "bass"]
    v = back.track("vocal")
    assert [n.lyric for n in v.notes] == ["月", "亮", "-", "moon"]
    assert (v.program, v.role, v.gain_db, v.pan) == (52, "vocal", 2.5, -0.25)  # positive gain
    d = back.track("drums")
    assert d.is_drum and d.role == "drums"
    assert _notes(d)[2] == (42, 1.5, 0.125, 1, None)
    assert back.track("bass").gain_db == -1.0 / 3.0  # regression: was cut to 6 digits
    assert [t.bpm for t in back.tempos] == [97.5, 140.0, 63.25]
    assert [(t.numerator, t.denominator) for t in back.time_signatures] == [(4, 4), (3, 4), (6, 8)]
    assert [k.key.name for k in back.key_signatures] == ["A minor", "Eb major", "Bb minor"]
    assert [c.symbol for c in back.chords] == ["Am7", "G/B", "Ebmaj7", "F#ø7"]
    assert [(x.beat, x.name) for x in back.sections] == [(0, "verse"), (8, "chorus"), (14, "间奏")]


def test_the_seconds_survive(rng):
    s = _song()
    back = _round_trip(s)
    beats = rng.uniform(0, 30, 100)
    np.testing.assert_allclose(back.tempo_map.to_seconds(beats), s.tempo_map.to_seconds(beats),
                               atol=1e-6)  # tempos are stored as whole microseconds per beat
    assert back.duration_s == pytest.approx(s.duration_s, abs=1e-6)


@pytest.mark.parametrize("sharps", range(-7, 8))
@pytest.mark.parametrize("mode", ["major", "minor"])
def test_every_key_signature_round_trips(sharps, mode):
    # regression: 7 sharps came back as 5 flats, 6 flats as 6 sharps, 7 flats as 5 sharps
    s = Score(key_signatures=[KeySignature(0, Key.from_sharps(sharps, mode))])
    s.add_track(Track("m", notes=[Note(60, 0, 1)]))
    k = _round_trip(s).key_signatures[0].key
    assert (k.tonic, k.mode, k.sharps()) == (s.key_signatures[0].key.tonic, mode, sharps)


@pytest.mark.parametrize("text", ["D dorian", "E phrygian", "F# lydian", "G mixolydian",
                                  "B locrian", "A harmonic minor", "D yu", "Eb gong", "C blues"])
def test_modes_round_trip(text):
    # regression: every mode came back as the major or minor key with its signature
    s = Score(key_signatures=[KeySignature(0, Key(0)), KeySignature(4, Key.parse(text))])
    s.add_track(Track("m", notes=[Note(60, 0, 8)]))
    back = _round_trip(s).key_signatures
    assert back[0].key == Key(0)
    assert back[1].key == Key.parse(text)
    assert back[1].key.name == Key.parse(text).name


def test_tempo_97_5_stays_97_5():
    s = Score(tempos=[Tempo(0, 97.5)])
    s.add_track(Track("m", notes=[Note(60, 0, 1)]))
    assert _round_trip(s).tempos == [Tempo(0.0, 97.5)]


def test_times_are_quantised_to_1_480_beat():
    s = Score()
    s.add_track(Track("m", notes=[Note(60, 0.1234, 0.3333), Note(62, 1 / 3, 1 / 3),
                                  Note(64, 2.0, 0.0001)]))
    back = _round_trip(s).track("m").notes
    assert TPQ == 480
    assert back[0].onset == round(0.1234 * 480) / 480
    assert back[0].end == round((0.1234 + 0.3333) * 480) / 480
    assert back[1].onset == pytest.approx(1 / 3, abs=1 / 960)
    # a note shorter than a tick keeps one tick
    assert back[2].duration == 1 / 480
    for n in back:
        assert n.onset * 480 == round(n.onset * 480)
        assert n.duration * 480 == round(n.duration * 480)


def test_a_chord_in_a_lyric_track_gives_the_lyric_to_one_note():
    s = Score()
    s.add_track(Track("vocal", role="vocal", notes=[
        Note(60, 0, 1, lyric="la"), Note(64, 0, 1, lyric="la"), Note(67, 0, 1),
        Note(62, 1, 1, lyric="li"),
    ]))
    notes = _round_trip(s).track("vocal").notes
    at0 = [n.lyric for n in notes if n.onset == 0]
    assert len(at0) == 3
    assert sorted(x for x in at0 if x) == ["la"]  # once, not once per note
    assert [n.lyric for n in notes if n.onset == 1] == ["li"]


def test_lyric_tracks_do_not_swap_lyrics():
    s = Score()
    s.add_track(Track("a", role="vocal", notes=[Note(60, 0, 1, lyric="甲")]))
    s.add_track(Track("b", role="melody", notes=[Note(60, 0, 1, lyric="乙")]))
    back = _round_trip(s)
    assert back.track("a").notes[0].lyric == "甲"
    assert back.track("b").notes[0].lyric == "乙"


def test_empty_tracks_survive_the_round_trip():
    # regression: a track without notes vanished (MIDI readers drop empty tracks)
    s = Score()
    s.add_track(Track("vocal", program=52, role="vocal", gain_db=-2.0, pan=0.5))
    s.add_track(Track("bass", program=33, role="bass", notes=[Note(40, 0, 1)]))
    s.add_track(Track("kit", is_drum=True, role="drums"))
    back = _round_trip(s)
    assert back == s
    assert [t.name for t in back.tracks] == ["vocal", "bass", "kit"]


def test_odd_track_names_keep_their_metadata():
    s = Score()
    s.add_track(Track("lead|solo 100% 独奏", program=81, role="lead", gain_db=-4.5, pan=-0.5,
                      notes=[Note(72, 0, 1)]))
    assert _round_trip(s) == s


def test_mix_cc_values():
    import symusic

    s = Score()
    s.add_track(Track("a", gain_db=0.0, pan=0.0, notes=[Note(60, 0, 1)]))
    s.add_track(Track("b", gain_db=-40.0, pan=-1.0, notes=[Note(60, 0, 1)]))
    s.add_track(Track("c", gain_db=6.0, pan=1.0, notes=[Note(60, 0, 1)]))
    raw = symusic.Score.from_midi(midi_bytes(s))
    cc = {str(t.name): {c.number: c.value for c in t.controls} for t in raw.tracks if t.notes}
    assert cc["a"] == {7: 127, 10: 64}
    assert cc["b"] == {7: 13, 10: 1}  # -40 dB on the GM curve is 127/10
    assert cc["c"] == {7: 127, 10: 127}  # gain above 0 dB lives only in the marker
    raw = symusic.Score.from_midi(midi_bytes(s, with_mix=False))
    assert all(len(t.controls) == 0 for t in raw.tracks)


def test_empty_score_round_trip():
    back = _round_trip(Score())
    assert back.tracks == [] and back.tempos == [Tempo(0.0, 120.0)]
    assert back.time_signatures == [TimeSignature(0.0)]


# -- files ---------------------------------------------------------------------------------------


def test_write_and_read_a_file(tmp_path):
    path = tmp_path / "song.mid"
    assert write_midi(_song(), path) == path
    assert path.read_bytes().startswith(b"MThd")
    assert read_midi(path) == _song().normalize()
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"]


def test_write_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "song.mid"
    path.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        write_midi(_song(), path)
    assert path.read_bytes() == b"keep"
    write_midi(_song(), path, force=True)
    assert read_midi(path).title == "月亮代表我的心"


# -- a file from another writer ------------------------------------------------------------------


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def _meta(delta: int, kind: int, data: bytes) -> bytes:
    return _vlq(delta) + bytes([0xFF, kind]) + _vlq(len(data)) + data


def _smf(tracks: list[bytes], *, fmt: int, division: int = 96) -> bytes:
    out = b"MThd" + struct.pack(">IHHH", 6, fmt, len(tracks), division)
    for t in tracks:
        out += b"MTrk" + struct.pack(">I", len(t)) + t
    return out


def _format0() -> bytes:
    ev = _meta(0, 0x03, b"Lead")
    ev += _meta(0, 0x51, (600_000).to_bytes(3, "big"))  # 100 BPM
    ev += _meta(0, 0x58, bytes([3, 2, 24, 8]))  # 3/4
    ev += _meta(0, 0x59, bytes([0xFD, 0]))  # 3 flats, major
    ev += _vlq(0) + bytes([0xC0, 73])  # flute
    ev += _meta(0, 0x05, "月".encode())
    ev += _vlq(0) + bytes([0x90, 60, 100])
    ev += _vlq(96) + bytes([0x80, 60, 64])  # one beat at 96 ticks per beat
    ev += _meta(0, 0x05, b"la")
    ev += _vlq(0) + bytes([0x90, 62, 80])
    ev += _vlq(48) + bytes([0x90, 62, 0])  # note-off as note-on with velocity 0
    ev += _meta(0, 0x2F, b"")
    return _smf([ev], fmt=0)


def test_a_hand_made_format_0_file():
    s = score_from_midi_bytes(_format0(), source="other.mid")
    assert [t.name for t in s.tracks] == ["Lead"]
    t = s.tracks[0]
    assert (t.program, t.is_drum, t.role) == (73, False, "lead")
    assert _notes(t) == [(60, 0.0, 1.0, 100, "月"), (62, 1.0, 0.5, 80, "la")]
    assert s.tempos == [Tempo(0.0, 100.0)]
    assert s.time_signatures == [TimeSignature(0.0, 3, 4)]
    assert s.key_signatures[0].key.name == "Eb major"
    assert s.title == "" and s.chords == [] and s.sections == []
    assert s.lyric_track() is t


def test_a_hand_made_format_1_file_with_drums_and_mix():
    conductor = _meta(0, 0x51, (500_000).to_bytes(3, "big")) + _meta(0, 0x2F, b"")
    bass = _meta(0, 0x03, b"Bass") + _vlq(0) + bytes([0xC1, 33])
    bass += _vlq(0) + bytes([0xB1, 7, 100]) + _vlq(0) + bytes([0xB1, 10, 0])  # CC7, CC10
    bass += _vlq(0) + bytes([0x91, 40, 90]) + _vlq(192) + bytes([0x81, 40, 0])
    bass += _meta(0, 0x2F, b"")
    kit = _meta(0, 0x03, b"") + _vlq(0) + bytes([0x99, 36, 120]) + _vlq(24) + bytes([0x89, 36, 0])
    kit += _meta(0, 0x2F, b"")
    s = score_from_midi_bytes(_smf([conductor, bass, kit], fmt=1), source="band.mid")
    assert [t.name for t in s.tracks] == ["Bass", "drums"]
    b, d = s.tracks
    assert (b.program, b.role, b.is_drum) == (33, "bass", False)
    assert b.gain_db == pytest.approx(40 * np.log10(100 / 127), abs=0.01)  # from CC7
    assert b.pan == -1.0  # CC10 = 0 is hard left: -64/63 clamped to -1
    assert _notes(b) == [(40, 0.0, 2.0, 90, None)]
    assert d.is_drum and d.role == "drums"
    assert _notes(d) == [(36, 0.0, 0.25, 120, None)]


def test_foreign_markers_that_look_like_ours_are_ignored():
    ev = _meta(0, 0x06, b"chord:not a chord") + _meta(0, 0x06, b"section:intro")
    ev += _meta(0, 0x06, b"yuefu:track=x|gain_db=nan|pan=oops|role=wizard")
    ev += _meta(0, 0x03, b"x") + _vlq(0) + bytes([0x90, 60, 90]) + _vlq(96) + bytes([0x80, 60, 0])
    ev += _meta(0, 0x2F, b"")
    s = score_from_midi_bytes(_smf([ev], fmt=0), source="odd.mid")
    assert s.chords == []
    assert [x.name for x in s.sections] == ["intro"]
    t = s.track("x")
    assert (t.gain_db, t.pan, t.role) == (0.0, 0.0, "other")


# -- broken files --------------------------------------------------------------------------------


def _valid() -> bytes:
    return midi_bytes(_song())


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"hello, this is a text file\n", "not a MIDI file"),
        (b"RIFF\x00\x00\x00\x00RMIDdata", "not a MIDI file"),
        (b"MThd", "truncated"),
        (b"MThd" + bytes(range(200)), "corrupt"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0", "truncated"),  # header, no tracks
        (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\xe7\x28MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
         "corrupt"),  # SMPTE time division
        (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00MTrk\x00\x00\x00\x04\x00\xff\x2f\x00",
         "time division"),
    ],
    ids=["empty", "text", "riff", "header-only", "header-garbage", "no-tracks", "smpte",
         "zero-division"],
)
def test_broken_bytes(data, match):
    with pytest.raises(ScoreLoadError, match=match) as exc:
        score_from_midi_bytes(data, source="broken.mid")
    msg = str(exc.value)
    assert msg.startswith("broken.mid: ")
    assert "\n" not in msg


def test_truncated_file_cut_in_half(tmp_path):
    data = _valid()
    path = tmp_path / "half.mid"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ScoreLoadError, match="truncated") as exc:
        read_midi(path)
    assert str(path) in str(exc.value)


def test_every_truncation_is_refused_or_read(rng):
    # cut a valid file at many places: a clear ScoreLoadError or a score, never anything else
    data = _valid()
    for cut in sorted(set(rng.integers(1, len(data), size=60).tolist())):
        with pytest.raises(ScoreLoadError, match="^cut.mid: "):
            score_from_midi_bytes(data[:cut], source="cut.mid")


def test_random_corruption_never_escapes_as_another_error(rng):
    data = _valid()
    for _ in range(300):
        b = bytearray(data)
        for i in rng.integers(4, len(b), size=int(rng.integers(1, 6))):
            b[int(i)] = int(rng.integers(0, 256))
        try:
            score = score_from_midi_bytes(bytes(b), source="fuzz.mid")
        except ScoreLoadError as e:
            assert str(e).startswith("fuzz.mid: ") and "\n" not in str(e)
        else:
            assert isinstance(score, Score)


@pytest.mark.parametrize(("mspq", "bpm"), [(1, "60000000.0"), (0, "inf"), (50_000, "1200.0")])
def test_impossible_tempo_is_a_score_load_error(mspq, bpm):
    # regression: escaped as a ParameterError that did not name the file
    ev = _meta(0, 0x51, mspq.to_bytes(3, "big"))
    ev += _vlq(0) + bytes([0x90, 60, 90]) + _vlq(96) + bytes([0x80, 60, 0]) + _meta(0, 0x2F, b"")
    with pytest.raises(ScoreLoadError, match=f"^tempo.mid: .*tempo.*{bpm}"):
        score_from_midi_bytes(_smf([ev], fmt=0), source="tempo.mid")


def test_invalid_time_signature_is_a_score_load_error():
    ev = _meta(0, 0x58, bytes([4, 7, 24, 8]))  # 4/128
    ev += _vlq(0) + bytes([0x90, 60, 90]) + _vlq(96) + bytes([0x80, 60, 0]) + _meta(0, 0x2F, b"")
    with pytest.raises(ScoreLoadError, match="^ts.mid: invalid time signature"):
        score_from_midi_bytes(_smf([ev], fmt=0), source="ts.mid")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ParameterError, match="no such MIDI file"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(ParameterError, match="is a folder"):
        read_midi(tmp_path)


def test_empty_file_names_the_file(tmp_path):
    path = tmp_path / "empty.mid"
    path.write_bytes(b"")
    with pytest.raises(ScoreLoadError, match="empty") as exc:
        read_midi(path)
    assert str(path) in str(exc.value)

"""The shared symbolic vocabulary: Note, Track, tempo map, meters, keys, chords, Score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.score import (
    ROLES,
    ChordSymbol,
    KeySignature,
    Note,
    Score,
    Section,
    Tempo,
    TempoMap,
    TimeSignature,
    Track,
)
from yuefu.core.theory import Key

# -- validation ----------------------------------------------------------------------------------


def test_note_defaults_and_end():
    n = Note(60, 1.5, 0.5)
    assert (n.velocity, n.lyric, n.staff) == (90, None, None)
    assert n.end == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pitch": -1}, "pitch"),
        ({"pitch": 128}, "pitch"),
        ({"duration": 0.0}, "duration"),
        ({"duration": -1.0}, "duration"),
        ({"duration": math.inf}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"onset": -0.001}, "onset"),
        ({"onset": math.nan}, "onset"),
        ({"onset": math.inf}, "onset"),
        ({"velocity": 0}, "velocity"),
        ({"velocity": 128}, "velocity"),
        ({"staff": 0}, "staff"),
        ({"staff": 17}, "staff"),
    ],
)
def test_note_validation(kwargs, match):
    args = {"pitch": 60, "onset": 0.0, "duration": 1.0, **kwargs}
    with pytest.raises(ParameterError, match=match):
        Note(**args)


def test_note_edges_are_valid():
    Note(0, 0.0, 1e-6, 1)
    Note(127, 1e6, 1.0, 127)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "non-empty name"),
        ({"name": "   "}, "non-empty name"),
        ({"program": -1}, "0..127"),
        ({"program": 128}, "0..127"),
        ({"role": "singer"}, "unknown role"),
        ({"pan": 1.01}, "pan"),
        ({"pan": -1.01}, "pan"),
        ({"pan": math.nan}, "pan"),
        ({"gain_db": math.nan}, "gain_db"),  # regression: NaN and inf gains were accepted
        ({"gain_db": math.inf}, "gain_db"),
    ],
)
def test_track_validation(kwargs, match):
    args = {"name": "piano", **kwargs}
    with pytest.raises(ParameterError, match=match):
        Track(**args)


def test_track_role_error_lists_the_roles():
    with pytest.raises(ParameterError) as exc:
        Track("x", role="singer")
    assert all(r in str(exc.value) for r in ROLES)


def test_track_sort_and_end():
    t = Track("p", notes=[Note(67, 2.0, 1.0), Note(64, 0.0, 4.0), Note(60, 0.0, 1.0)])
    t.sort()
    assert [(n.onset, n.pitch) for n in t.notes] == [(0.0, 60), (0.0, 64), (2.0, 67)]
    assert t.end == pytest.approx(4.0, abs=1e-12)
    assert Track("empty").end == 0.0
    # positive gain is a valid mix level
    assert Track("loud", gain_db=6.0, pan=1.0).gain_db == 6.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.0, 0.5), "1..1000 BPM"),
        ((0.0, 1001.0), "1..1000 BPM"),
        ((0.0, math.nan), "1..1000 BPM"),
        ((-1.0, 120.0), "beat"),
        ((math.nan, 120.0), "beat"),  # regression: a NaN beat was accepted
        ((math.inf, 120.0), "beat"),
    ],
)
def test_tempo_validation(args, match):
    with pytest.raises(ParameterError, match=match):
        Tempo(*args)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.0, 0, 4), "numerator"),
        ((0.0, 65, 4), "numerator"),
        ((0.0, 4, 3), "denominator"),
        ((0.0, 4, 64), "denominator"),
        ((0.0, 4, 0), "denominator"),
        ((-4.0, 4, 4), "beat"),  # regression: a negative beat was accepted
        ((math.nan, 4, 4), "beat"),
    ],
)
def test_time_signature_validation(args, match):
    with pytest.raises(ParameterError, match=match):
        TimeSignature(*args)


@pytest.mark.parametrize(
    ("sig", "bar_beats"),
    [((4, 4), 4.0), ((3, 4), 3.0), ((6, 8), 3.0), ((2, 2), 4.0), ((5, 16), 1.25), ((7, 8), 3.5)],
)
def test_time_signature_bar_beats(sig, bar_beats):
    assert TimeSignature(0.0, *sig).bar_beats == pytest.approx(bar_beats, abs=1e-12)


def test_event_validation():
    # regression: negative or NaN beats of key, chord and section events were accepted
    with pytest.raises(ParameterError, match="beat"):
        KeySignature(-1.0, Key(0))
    with pytest.raises(ParameterError, match="beat"):
        ChordSymbol(math.nan, "C")
    with pytest.raises(ParameterError, match="beat"):
        Section(-0.5, "verse")
    with pytest.raises(ParameterError, match="chord"):
        ChordSymbol(0.0, "Hm7")
    assert ChordSymbol(4.0, "G/B").symbol == "G/B"


# -- tempo map -----------------------------------------------------------------------------------


def _three_tempos() -> TempoMap:
    # 120 BPM for 4 beats (2 s), 60 BPM for 4 beats (4 s), 90 BPM for 6 beats (4 s), then 240
    return TempoMap([Tempo(0, 120), Tempo(4, 60), Tempo(8, 90), Tempo(14, 240)])


@pytest.mark.parametrize(
    ("beat", "seconds"),
    [(0.0, 0.0), (1.0, 0.5), (4.0, 2.0), (5.0, 3.0), (8.0, 6.0), (11.0, 8.0), (14.0, 10.0),
     (18.0, 11.0)],
)
def test_tempo_map_several_changes(beat, seconds):
    tm = _three_tempos()
    assert float(tm.to_seconds(beat)) == pytest.approx(seconds, abs=1e-12)
    assert float(tm.to_beats(seconds)) == pytest.approx(beat, abs=1e-12)


def test_tempo_map_vectorised_and_monotonic():
    tm = _three_tempos()
    beats = np.linspace(0.0, 30.0, 301)
    secs = tm.to_seconds(beats)
    assert secs.shape == beats.shape
    assert np.all(np.diff(secs) > 0)


def test_tempo_map_inverse_property(rng):
    # a seeded property test: random tempo maps, random positions, both directions
    for _ in range(200):
        n = int(rng.integers(1, 8))
        beats = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 64.0, n - 1))])
        bpms = rng.uniform(20.0, 300.0, n)
        tm = TempoMap([Tempo(float(b), float(q)) for b, q in zip(beats, bpms, strict=True)])
        x = rng.uniform(0.0, 100.0, 50)
        np.testing.assert_allclose(tm.to_beats(tm.to_seconds(x)), x, atol=1e-9)
        np.testing.assert_allclose(tm.to_seconds(tm.to_beats(x)), x, atol=1e-9)


def test_tempo_map_defaults_and_order():
    assert float(TempoMap([]).to_seconds(2.0)) == pytest.approx(1.0, abs=1e-12)  # 120 BPM
    # the first tempo also covers the beats before it
    assert float(TempoMap([Tempo(4, 60)]).to_seconds(2.0)) == pytest.approx(2.0, abs=1e-12)
    # unsorted input is sorted
    tm = TempoMap([Tempo(4, 60), Tempo(0, 120)])
    assert float(tm.to_seconds(6.0)) == pytest.approx(4.0, abs=1e-12)
    # two tempos on one beat: the later in the list wins
    tm = TempoMap([Tempo(0, 120), Tempo(4, 30), Tempo(4, 60)])
    assert float(tm.to_seconds(5.0)) == pytest.approx(3.0, abs=1e-12)
    assert float(tm.to_beats(3.0)) == pytest.approx(5.0, abs=1e-12)


# -- score time ----------------------------------------------------------------------------------


def _song() -> Score:
    s = Score(tempos=[Tempo(0, 120), Tempo(8, 60)], title="t")
    mel = s.add_track(Track("melody", role="melody"))
    mel.notes += [Note(60, 0.0, 1.0, lyric="la"), Note(62, 7.0, 2.0, lyric="li")]
    s.add_track(Track("bass", program=33, role="bass", notes=[Note(36, 0.0, 10.0)]))
    return s


def test_score_seconds_duration_end_beat():
    s = _song()
    assert s.seconds(s.track("melody").notes[0]) == pytest.approx((0.0, 0.5), abs=1e-12)
    # 7 beats at 120 = 3.5 s; beat 8 at 4.0 s; beat 9 at 5.0 s
    assert s.seconds(s.track("melody").notes[1]) == pytest.approx((3.5, 5.0), abs=1e-12)
    assert s.end_beat == pytest.approx(10.0, abs=1e-12)
    assert s.duration_s == pytest.approx(6.0, abs=1e-12)
    assert s.n_notes == 3
    empty = Score()
    assert empty.end_beat == 0.0 and empty.duration_s == 0.0 and empty.n_notes == 0


def _changing_meter(end_beat: float) -> Score:
    s = Score(time_signatures=[TimeSignature(0, 4, 4), TimeSignature(8, 3, 4),
                               TimeSignature(14, 6, 8)])
    s.add_track(Track("m", notes=[Note(60, 0.0, end_beat)]))
    return s


def test_bar_lines_with_meter_changes():
    s = _changing_meter(23.0)
    np.testing.assert_array_equal(s.bar_lines(), [0, 4, 8, 11, 14, 17, 20])
    # a score that ends on a barline has no bar starting there
    np.testing.assert_array_equal(_changing_meter(20.0).bar_lines(), [0, 4, 8, 11, 14, 17])


def test_bar_lines_stop_at_the_end_of_the_score():
    # regression: a meter change after the last note used to fill bars up to it
    s = Score(time_signatures=[TimeSignature(0, 4, 4), TimeSignature(100, 3, 4)])
    s.add_track(Track("m", notes=[Note(60, 0.0, 6.0)]))
    np.testing.assert_array_equal(s.bar_lines(), [0, 4])
    np.testing.assert_array_equal(Score().bar_lines(), [0])


def test_bar_lines_meter_before_the_first_time_signature_is_four_four():
    # regression: bars began at the first time signature, so beats before it had no bar
    s = Score(time_signatures=[TimeSignature(8, 3, 4)])
    s.add_track(Track("m", notes=[Note(60, 0.0, 14.0)]))
    np.testing.assert_array_equal(s.bar_lines(), [0, 4, 8, 11])
    assert s.bar_of(5.0) == 1
    np.testing.assert_array_equal(Score(time_signatures=[]).bar_lines(), [0])


def test_bar_of_agrees_with_bar_lines():
    s = _changing_meter(23.0)
    lines = s.bar_lines()
    for i, b in enumerate(lines):
        assert s.bar_of(float(b)) == i
        assert s.bar_of(float(b) + 0.5) == i
        assert s.bar_of(float(b) - 1e-12) == i  # within the tolerance of a barline
    assert s.bar_of(0.0) == 0
    assert s.bar_of(3.999) == 0
    assert s.bar_of(10.9) == 2
    assert s.bar_of(11.0) == 3
    assert s.bar_of(-1.0) == 0


def test_bar_of_past_the_last_note():
    # regression: bar_of clamped to the last bar of the notes (beat 50 in 4/4 was bar 3)
    s = Score()
    s.add_track(Track("m", notes=[Note(60, 0.0, 16.0)]))
    assert s.bar_of(50.0) == 12
    m = _changing_meter(4.0)  # notes end long before the meter changes
    assert m.bar_of(8.0) == 2
    assert m.bar_of(14.0) == 4
    assert m.bar_of(20.0) == 6


def test_bar_of_meter_change_off_a_barline():
    # 4/4 changed to 3/4 in the middle of bar 2: that bar is cut short
    s = Score(time_signatures=[TimeSignature(0, 4, 4), TimeSignature(6, 3, 4)])
    s.add_track(Track("m", notes=[Note(60, 0.0, 12.0)]))
    np.testing.assert_array_equal(s.bar_lines(), [0, 4, 6, 9])
    assert [s.bar_of(b) for b in (3.0, 5.0, 6.0, 9.5)] == [0, 1, 2, 3]


# -- score content -------------------------------------------------------------------------------


def test_key_at():
    s = Score(key_signatures=[KeySignature(8, Key(7)), KeySignature(0, Key(0))])
    assert s.key_at(0) == Key(0)
    assert s.key_at(7.99) == Key(0)
    assert s.key_at(8) == Key(7)
    assert s.key_at(100) == Key(7)
    assert Score().key_at(0) is None


def test_chord_at():
    s = Score(chords=[ChordSymbol(4, "G"), ChordSymbol(0, "C"), ChordSymbol(8, "Am7/G")])
    assert s.chord_at(-1) is None
    assert s.chord_at(0).symbol == "C"
    assert s.chord_at(3.5).symbol == "C"
    assert s.chord_at(4).symbol == "G"
    assert s.chord_at(1000).symbol == "Am7/G"
    assert Score().chord_at(0) is None


def test_lyric_track_prefers_vocal_over_melody():
    s = Score()
    s.add_track(Track("lead", role="lead", notes=[Note(60, 0, 1, lyric="x")]))
    s.add_track(Track("mel", role="melody", notes=[Note(60, 0, 1, lyric="m")]))
    s.add_track(Track("voc", role="vocal", notes=[Note(60, 0, 1, lyric="v"), Note(62, 1, 1)]))
    assert s.lyric_track().name == "voc"
    assert [syl for _, syl in s.lyrics()] == ["v"]
    assert [syl for _, syl in s.lyrics("mel")] == ["m"]


def test_lyric_track_skips_tracks_without_lyrics():
    s = Score()
    s.add_track(Track("voc", role="vocal", notes=[Note(60, 0, 1)]))
    s.add_track(Track("mel", role="melody", notes=[Note(60, 0, 1, lyric="m")]))
    assert s.lyric_track().name == "mel"
    only_other = Score(tracks=[Track("x", notes=[Note(60, 0, 1, lyric="o")])])
    assert only_other.lyric_track().name == "x"
    assert Score(tracks=[Track("x", notes=[Note(60, 0, 1)])]).lyric_track() is None
    assert Score().lyrics() == []


def test_track_lookup():
    s = _song()
    assert s.track("bass").program == 33
    assert [t.name for t in s.tracks_with_role("melody")] == ["melody"]
    with pytest.raises(ParameterError, match="no track named 'drums'; tracks: melody, bass"):
        s.track("drums")
    with pytest.raises(ParameterError, match="tracks: none"):
        Score().track("x")


def test_add_track_duplicate_name():
    s = _song()
    with pytest.raises(ParameterError, match="already has a track named 'bass'"):
        s.add_track(Track("bass"))
    assert len(s.tracks) == 2


def test_duplicate_track_names_refused_at_construction():
    # regression: Score(tracks=[...]) bypassed the unique-name rule of add_track
    with pytest.raises(ParameterError, match="two tracks named 'a'"):
        Score(tracks=[Track("a"), Track("b"), Track("a")])


def test_normalize_sorts_every_list():
    s = Score(
        tempos=[Tempo(8, 60), Tempo(0, 120)],
        time_signatures=[TimeSignature(8, 3, 4), TimeSignature(0)],
        key_signatures=[KeySignature(4, Key(7)), KeySignature(0, Key(0))],
        chords=[ChordSymbol(4, "G"), ChordSymbol(0, "C")],
        sections=[Section(8, "chorus"), Section(0, "verse")],
    )
    s.add_track(Track("m", notes=[Note(64, 2, 1), Note(62, 0, 1), Note(60, 0, 1)]))
    assert s.normalize() is s
    assert [t.beat for t in s.tempos] == [0, 8]
    assert [t.beat for t in s.time_signatures] == [0, 8]
    assert [k.beat for k in s.key_signatures] == [0, 4]
    assert [c.symbol for c in s.chords] == ["C", "G"]
    assert [x.name for x in s.sections] == ["verse", "chorus"]
    assert [(n.onset, n.pitch) for n in s.track("m").notes] == [(0, 60), (0, 62), (2, 64)]


def test_copy_is_independent():
    s = _song()
    c = s.copy()
    assert c == s
    c.track("melody").notes[0].pitch = 72
    c.track("melody").notes.append(Note(64, 9, 1))
    c.tempos.append(Tempo(20, 90))
    c.add_track(Track("new"))
    c.title = "changed"
    assert s.track("melody").notes[0].pitch == 60
    assert len(s.track("melody").notes) == 2
    assert len(s.tempos) == 2
    assert [t.name for t in s.tracks] == ["melody", "bass"]
    assert s.title == "t"


def test_default_lists_are_not_shared():
    a, b = Score(), Score()
    a.tempos.append(Tempo(4, 60))
    a.add_track(Track("x"))
    assert len(b.tempos) == 1 and b.tracks == []


def test_score_estimate_key_ignores_drums():
    s = Score()
    s.add_track(Track("m", notes=[Note(p, i, 1.0) for i, p in enumerate([57, 60, 64, 69, 64])]))
    # a loud drum part on F#/C# keys must not sway the estimate
    s.add_track(Track("d", is_drum=True, role="drums",
                      notes=[Note(42, i, 4.0) for i in range(8)] + [Note(49, 0, 8.0)]))
    assert s.estimate_key() == Key(9, "minor")
    with pytest.raises(ParameterError, match="empty"):
        Score().estimate_key()


def test_iter_notes():
    s = _song()
    pairs = list(s.iter_notes())
    assert [(t.name, n.pitch) for t, n in pairs] == [("melody", 60), ("melody", 62), ("bass", 36)]

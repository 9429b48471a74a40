"""harmonize, chord_tone_ratio, in_key_ratio on known melodies."""

from __future__ import annotations

import pytest

from yuefu.compose import chord_options, chord_tone_ratio, harmonize, in_key_ratio
from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Section, TimeSignature, Track
from yuefu.core.theory import Key, parse_chord

#: C major up and down in quarters over 4 bars, ending on a half-note C.
SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]


def melody(pitches, durations=None, *, key="C major", meter=(4, 4)):
    s = Score(time_signatures=[TimeSignature(0.0, *meter)],
              key_signatures=[KeySignature(0.0, Key.parse(key))])
    t = s.add_track(Track("vocal", role="vocal"))
    durations = durations or [1.0] * (len(pitches) - 1) + [2.0]
    beat = 0.0
    for p, d in zip(pitches, durations, strict=True):
        t.notes.append(Note(p, beat, d, lyric="la"))
        beat += d
    return s


def strong_notes_fit(s, chords):
    s = s.copy()
    s.chords = chords
    return chord_tone_ratio(s)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_c_major_scale_gets_tonic_dominant_tonic(seed):
    s = melody(SCALE)
    chords = harmonize(s, Motive(key="C major"), seed=seed)
    names = [c.symbol for c in chords]
    assert names[0] == "C" and names[-1] == "C"
    assert any(parse_chord(n).root == 7 for n in names)  # a G chord: I .. V .. I
    assert strong_notes_fit(s, chords) == 1.0  # every strong-beat note is a chord tone
    assert all(c.beat % 2.0 == 0 for c in chords)  # on beats 1 and 3
    bars = {int(c.beat // 4) for c in chords}
    assert bars == {0, 1, 2, 3}  # a symbol at every barline


def test_chords_per_bar_one():
    s = melody([60, 64, 67, 64, 65, 69, 72, 69, 67, 71, 74, 71, 72], [1.0] * 12 + [4.0])
    chords = harmonize(s, Motive(key="C major"), chords_per_bar=1)
    assert [c.symbol for c in chords] == ["C", "F", "G", "C"]
    assert [c.beat for c in chords] == [0.0, 4.0, 8.0, 12.0]
    with pytest.raises(ParameterError):
        harmonize(s, Motive(key="C major"), chords_per_bar=3)


def test_minor_key_and_section_cadences():
    s = melody([69, 72, 76, 72, 74, 77, 76, 74, 71, 74, 76, 71, 69], [1.0] * 12 + [4.0], key="A minor")
    s.sections = [Section(0.0, "chorus")]
    chords = harmonize(s, Motive(key="A minor", palette="minor_modal"))
    assert chords[-1].symbol == "Am"
    assert strong_notes_fit(s, chords) == 1.0


@pytest.mark.parametrize("palette", ["diatonic", "sevenths", "pentatonic", "minor_modal", "power",
                                     "classical"])
def test_palettes(palette):
    s = melody(SCALE)
    chords = harmonize(s, Motive(key="C major", palette=palette))
    allowed = {o.symbol(Key.parse("C major")) for o in chord_options(Key.parse("C major"), palette)}
    assert {c.symbol for c in chords} <= allowed
    assert strong_notes_fit(s, chords) >= 0.85
    if palette == "pentatonic":
        assert all(parse_chord(o).quality != "dim" for o in allowed) and "Bdim" not in allowed
    if palette == "classical":
        assert {"G7", "D7"} <= allowed  # V7 and a secondary dominant
    if palette == "minor_modal":
        assert {"Ab", "Bb"} <= allowed


def test_three_four_and_six_eight():
    s = melody([67, 64, 60, 65, 69, 72, 71, 67, 62, 60], [1.0] * 9 + [3.0], meter=(3, 4))
    chords = harmonize(s, Motive(key="C major", meter=(3, 4)))
    assert all(c.beat % 3.0 == 0 for c in chords) and chords[-1].symbol == "C"
    assert strong_notes_fit(s, chords) == 1.0
    s = melody([60, 64, 67, 65, 62, 59, 60], [1.5] * 6 + [3.0], meter=(6, 8))
    chords = harmonize(s, Motive(key="C major", meter=(6, 8)))
    assert strong_notes_fit(s, chords) == 1.0


def test_chord_tone_ratio_counts_prepared_non_chord_tones():
    s = melody([60, 65, 64, 62, 64], [2.0, 1.0, 1.0, 2.0, 2.0])
    s.chords = [ChordSymbol(0.0, "C")]
    # strong beats: 60 (tone), 64 at beat 4 (tone), 62 at beat 6 is no tone but... resolves to 64 by step
    # yet lasts 2 beats without preparation: not prepared. 64 at beat 8: tone.
    assert chord_tone_ratio(s) == pytest.approx(3 / 4)
    s2 = melody([62, 60, 64], [1.0, 1.0, 2.0])  # D on beat 1, a short appoggiatura resolving to C
    s2.chords = [ChordSymbol(0.0, "C")]
    assert chord_tone_ratio(s2) == 1.0
    s3 = melody([65, 65, 64, 60], [2.0, 1.0, 1.0, 4.0])  # F held over the barline of a C chord: suspension
    s3.chords = [ChordSymbol(0.0, "F"), ChordSymbol(2.0, "C")]
    assert chord_tone_ratio(s3) == 1.0


def test_in_key_ratio():
    assert in_key_ratio(melody(SCALE)) == 1.0
    s = melody([60, 61, 62, 63])
    assert in_key_ratio(s) == 0.5
    assert in_key_ratio(Score()) != in_key_ratio(Score())  # NaN without notes


def test_no_notes_is_an_error():
    with pytest.raises(ParameterError):
        harmonize(Score(), Motive())

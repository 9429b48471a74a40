"""Music theory: pitch names, frequencies, keys, signatures, chords, key estimation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.theory import (
    CHORD_QUALITIES,
    SCALES,
    Chord,
    Key,
    chord_symbol,
    estimate_key,
    hz_to_pitch,
    name_to_pitch,
    parse_chord,
    pitch_class_of,
    pitch_to_hz,
    pitch_to_name,
)

# -- pitch names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pitch", "sharp", "flat"),
    [
        (0, "C-1", "C-1"),
        (1, "C#-1", "Db-1"),
        (11, "B-1", "B-1"),
        (12, "C0", "C0"),
        (21, "A0", "A0"),
        (58, "A#3", "Bb3"),
        (59, "B3", "B3"),
        (60, "C4", "C4"),
        (61, "C#4", "Db4"),
        (63, "D#4", "Eb4"),
        (69, "A4", "A4"),
        (70, "A#4", "Bb4"),
        (71, "B4", "B4"),
        (72, "C5", "C5"),
        (108, "C8", "C8"),
        (127, "G9", "G9"),
    ],
)
def test_pitch_to_name_sharps_and_flats(pitch, sharp, flat):
    assert pitch_to_name(pitch) == sharp
    assert pitch_to_name(pitch, flats=True) == flat


def test_pitch_names_round_trip_over_the_whole_midi_range():
    for p in range(128):
        assert name_to_pitch(pitch_to_name(p)) == p
        assert name_to_pitch(pitch_to_name(p, flats=True)) == p


@pytest.mark.parametrize("pitch", [-1, 128, 1000])
def test_pitch_to_name_refuses_pitches_outside_midi(pitch):
    # regression: -1 used to come out as "B-2" and 128 as "G#9"
    with pytest.raises(ParameterError, match="0..127"):
        pitch_to_name(pitch)


@pytest.mark.parametrize(
    ("name", "pitch"),
    [
        ("C4", 60),
        ("c4", 60),
        (" A4 ", 69),
        ("C#5", 73),
        ("C♯5", 73),
        ("Db5", 73),
        ("D♭5", 73),
        ("Bb3", 58),
        ("bb3", 58),  # lower-case b is the letter B, then a flat
        ("B#3", 60),  # B#3 is enharmonically C4
        ("Cb4", 59),  # Cb4 is enharmonically B3
        ("E#4", 65),
        ("Fb4", 64),
        ("C##4", 62),
        ("Dbb4", 60),
        ("C-1", 0),
        ("G9", 127),
        ("A0", 21),
    ],
)
def test_name_to_pitch(name, pitch):
    assert name_to_pitch(name) == pitch


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("Cb-1", "outside the MIDI range"),  # -1
        ("G#9", "outside the MIDI range"),  # 128
        ("C10", "outside the MIDI range"),
        ("H4", "not a note name"),
        ("C", "not a note name"),  # no octave
        ("", "not a note name"),
        ("4C", "not a note name"),
        ("C#x4", "not a note name"),
    ],
)
def test_name_to_pitch_errors(name, match):
    with pytest.raises(ParameterError, match=match):
        name_to_pitch(name)


@pytest.mark.parametrize(
    ("name", "pc"),
    [("C", 0), ("C#", 1), ("Db", 1), ("Eb", 3), ("E", 4), ("Fb", 4), ("E#", 5), ("B", 11),
     ("Cb", 11), ("B#", 0), ("f#", 6), ("A♭", 8)],
)
def test_pitch_class_of(name, pc):
    assert pitch_class_of(name) == pc


@pytest.mark.parametrize("name", ["C4", "X", "", "#"])
def test_pitch_class_of_errors(name):
    with pytest.raises(ParameterError, match="not a pitch-class name"):
        pitch_class_of(name)


# -- frequencies ---------------------------------------------------------------------------------


def test_pitch_to_hz_anchors():
    assert pitch_to_hz(69) == pytest.approx(440.0, abs=1e-12)
    assert pitch_to_hz(60) == pytest.approx(261.6256, abs=1e-4)
    assert pitch_to_hz(81) == pytest.approx(880.0, abs=1e-9)
    assert pitch_to_hz(57) == pytest.approx(220.0, abs=1e-9)
    assert pitch_to_hz(69, a4_hz=432.0) == pytest.approx(432.0, abs=1e-12)
    assert pitch_to_hz(69.5) == pytest.approx(440.0 * 2 ** (1 / 24), rel=1e-12)


def test_hz_to_pitch_anchors():
    assert hz_to_pitch(440.0) == pytest.approx(69.0, abs=1e-12)
    assert hz_to_pitch(261.63) == pytest.approx(60.0, abs=0.001)
    assert hz_to_pitch(432.0, a4_hz=432.0) == pytest.approx(69.0, abs=1e-12)


def test_hz_pitch_round_trip(rng):
    pitches = rng.uniform(0.0, 127.0, size=200)
    back = np.array([hz_to_pitch(pitch_to_hz(p)) for p in pitches])
    np.testing.assert_allclose(back, pitches, atol=1e-9)


@pytest.mark.parametrize("hz", [0.0, -1.0])
def test_hz_to_pitch_refuses_non_positive(hz):
    with pytest.raises(ParameterError, match="positive"):
        hz_to_pitch(hz)


# -- keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tonic", "mode"),
    [
        ("C", 0, "major"),
        ("C major", 0, "major"),
        ("c major", 0, "major"),
        ("C Major", 0, "major"),
        ("Cmaj", 0, "major"),
        ("C ionian", 0, "major"),
        ("CM", 0, "major"),  # regression: "CM" (capital M, major) was read as C minor
        ("Am", 9, "minor"),
        ("am", 9, "minor"),
        ("A minor", 9, "minor"),
        ("A min", 9, "minor"),
        ("A aeolian", 9, "minor"),
        ("  A  minor ", 9, "minor"),
        ("Bbm", 10, "minor"),
        ("bm", 11, "minor"),
        ("bb", 10, "major"),
        ("Eb major", 3, "major"),
        ("E♭ major", 3, "major"),
        ("F# dorian", 6, "dorian"),
        ("F#m", 6, "minor"),
        ("C# minor", 1, "minor"),
        ("D mixolydian", 2, "mixolydian"),
        ("A harmonic minor", 9, "harmonic_minor"),
        ("A harmonic_minor", 9, "harmonic_minor"),
        ("G melodic minor", 7, "melodic_minor"),
        ("E phrygian", 4, "phrygian"),
        ("F lydian", 5, "lydian"),
        ("B locrian", 11, "locrian"),
        ("D yu", 2, "yu"),
        ("C gong", 0, "gong"),
        ("A minor pentatonic", 9, "minor_pentatonic"),
        ("E blues", 4, "blues"),
        ("Cb major", 11, "major"),
    ],
)
def test_key_parse(text, tonic, mode):
    k = Key.parse(text)
    assert (k.tonic, k.mode) == (tonic, mode)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "not a key"),
        ("H major", "not a key"),
        ("major", "not a key"),
        ("C majestic", "unknown mode"),
        ("Am7", "unknown mode"),
    ],
)
def test_key_parse_errors(text, match):
    with pytest.raises(ParameterError, match=match):
        Key.parse(text)


def test_key_parse_error_lists_the_valid_modes():
    with pytest.raises(ParameterError) as exc:
        Key.parse("C bogus")
    assert "dorian" in str(exc.value) and "minor" in str(exc.value)


def test_key_validation():
    with pytest.raises(ParameterError, match="0..11"):
        Key(12)
    with pytest.raises(ParameterError, match="0..11"):
        Key(-1)
    with pytest.raises(ParameterError, match="unknown mode"):
        Key(0, "ionian")  # aliases are for parse(); the field takes the canonical name
    with pytest.raises(ParameterError, match="does not fit"):
        Key(0, "major", 1)  # one sharp is G major, not C major
    with pytest.raises(ParameterError, match="does not fit"):
        Key(0, "chromatic", 0)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("C", "C major"),
        ("Am", "A minor"),
        ("Eb major", "Eb major"),
        ("Gb major", "Gb major"),  # regression: used to be renamed "F# major"
        ("F# major", "F# major"),
        ("C# major", "C# major"),  # regression: used to be renamed "Db major"
        ("Db major", "Db major"),
        ("Cb major", "Cb major"),
        ("D# minor", "D# minor"),
        ("Eb minor", "Eb minor"),
        ("Ab minor", "Ab minor"),
        ("A# minor", "A# minor"),
        ("Bb minor", "Bb minor"),
        ("F# dorian", "F# dorian"),
        ("Eb dorian", "Eb dorian"),
        ("Ab lydian", "Ab lydian"),
    ],
)
def test_key_name_keeps_the_spelling(text, name):
    assert Key.parse(text).name == name
    assert str(Key.parse(text)) == name


def test_key_name_without_spelling_prefers_the_simpler_signature():
    assert Key(1).name == "Db major"  # 5 flats rather than 7 sharps
    assert Key(6).name == "F# major"  # 6 sharps rather than 6 flats
    assert Key(3, "minor").name == "D# minor"  # 6 sharps rather than 6 flats
    assert Key(10, "minor").name == "Bb minor"
    assert Key(3, "dorian").name == "Eb dorian"  # Db major's notes


def test_enharmonic_keys_are_equal():
    assert Key.parse("C# major") == Key.parse("Db major") == Key(1)
    assert hash(Key.parse("C# major")) == hash(Key(1))
    assert Key.parse("C# major").sharps() == 7
    assert Key.parse("Db major").sharps() == -5


_MAJOR_SIGNATURES = {
    -7: "Cb", -6: "Gb", -5: "Db", -4: "Ab", -3: "Eb", -2: "Bb", -1: "F", 0: "C",
    1: "G", 2: "D", 3: "A", 4: "E", 5: "B", 6: "F#", 7: "C#",
}
_MINOR_SIGNATURES = {
    -7: "Ab", -6: "Eb", -5: "Bb", -4: "F", -3: "C", -2: "G", -1: "D", 0: "A",
    1: "E", 2: "B", 3: "F#", 4: "C#", 5: "G#", 6: "D#", 7: "A#",
}


@pytest.mark.parametrize("sharps", range(-7, 8))
def test_major_key_signatures_round_trip(sharps):
    # regression: from_sharps(7) came back as 5 flats, from_sharps(-6) as 6 sharps,
    # from_sharps(-7) as 5 sharps
    k = Key.from_sharps(sharps)
    assert k.mode == "major"
    assert k.sharps() == sharps
    assert k.tonic_name == _MAJOR_SIGNATURES[sharps]
    parsed = Key.parse(f"{_MAJOR_SIGNATURES[sharps]} major")
    assert parsed.sharps() == sharps
    assert parsed == k


@pytest.mark.parametrize("sharps", range(-7, 8))
def test_minor_key_signatures_round_trip(sharps):
    k = Key.from_sharps(sharps, "minor")
    assert k.mode == "minor"
    assert k.sharps() == sharps
    assert k.tonic_name == _MINOR_SIGNATURES[sharps]
    parsed = Key.parse(f"{_MINOR_SIGNATURES[sharps]} minor")
    assert parsed.sharps() == sharps
    assert parsed == k
    # the relative major shares the signature and is a minor third up
    assert k.relative_major_tonic() == (k.tonic + 3) % 12
    assert Key.from_sharps(sharps).tonic == k.relative_major_tonic()


def test_sharps_without_spelling_spans_five_flats_to_six_sharps():
    values = {Key(pc).sharps() for pc in range(12)}
    assert values == set(range(-5, 7))
    assert Key(7).sharps() == 1  # G
    assert Key(5).sharps() == -1  # F
    assert Key(9, "minor").sharps() == 0
    assert Key(2, "dorian").sharps() == 0
    assert Key(7, "mixolydian").sharps() == 0
    assert Key(5, "lydian").sharps() == 0
    assert Key(4, "phrygian").sharps() == 0
    assert Key(11, "locrian").sharps() == 0
    assert Key(2, "shang").sharps() == 0  # shang on D: the C gong collection


@pytest.mark.parametrize("mode", ["dorian", "phrygian", "lydian", "mixolydian", "locrian", "yu",
                                  "harmonic_minor", "gong", "shang", "jue", "zhi"])
def test_from_sharps_supports_every_mode_with_a_signature(mode):
    # regression: from_sharps(n, "dorian") silently returned a major key
    for sharps in range(-7, 8):
        k = Key.from_sharps(sharps, mode)
        assert k.mode == mode
        assert k.sharps() == sharps
        assert Key.from_sharps(sharps).tonic == k.relative_major_tonic()


def test_from_sharps_errors():
    with pytest.raises(ParameterError, match="-7..7"):
        Key.from_sharps(8)
    with pytest.raises(ParameterError, match="-7..7"):
        Key.from_sharps(-8)
    with pytest.raises(ParameterError, match="no key signature"):
        Key.from_sharps(0, "chromatic")
    assert Key.from_sharps(0, "min") == Key(9, "minor")


@pytest.mark.parametrize(
    ("text", "pcs"),
    [
        ("C major", (0, 2, 4, 5, 7, 9, 11)),
        ("A minor", (9, 11, 0, 2, 4, 5, 7)),
        ("A harmonic minor", (9, 11, 0, 2, 4, 5, 8)),
        ("A melodic minor", (9, 11, 0, 2, 4, 6, 8)),
        ("D dorian", (2, 4, 5, 7, 9, 11, 0)),
        ("E phrygian", (4, 5, 7, 9, 11, 0, 2)),
        ("F lydian", (5, 7, 9, 11, 0, 2, 4)),
        ("G mixolydian", (7, 9, 11, 0, 2, 4, 5)),
        ("B locrian", (11, 0, 2, 4, 5, 7, 9)),
        ("Eb major", (3, 5, 7, 8, 10, 0, 2)),
        ("F# major", (6, 8, 10, 11, 1, 3, 5)),
        ("C gong", (0, 2, 4, 7, 9)),
        ("A yu", (9, 0, 2, 4, 7)),
        ("C blues", (0, 3, 5, 6, 7, 10)),
    ],
)
def test_scale_pitch_classes(text, pcs):
    assert Key.parse(text).scale_pitch_classes() == pcs


def test_every_scale_starts_on_the_tonic_and_rises():
    for mode, steps in SCALES.items():
        assert steps[0] == 0, mode
        assert list(steps) == sorted(set(steps)), mode
        assert all(0 <= s < 12 for s in steps), mode
        assert len(Key(5, mode).scale_pitch_classes()) == len(steps)


def test_key_contains():
    c = Key(0)
    assert all(c.contains(p) for p in (60, 62, 64, 65, 67, 69, 71, 72, 0, 127))  # 127 is G9
    assert not any(c.contains(p) for p in (61, 63, 66, 68, 70))


def test_degree_pitch():
    c = Key(0)
    assert [c.degree_pitch(d) for d in range(1, 9)] == [60, 62, 64, 65, 67, 69, 71, 72]
    assert c.degree_pitch(1, octave=3) == 48
    assert c.degree_pitch(9) == 74
    assert c.degree_pitch(15) == 84
    a = Key(9, "minor")
    assert [a.degree_pitch(d) for d in (1, 3, 5, 7, 8)] == [69, 72, 76, 79, 81]
    # a degree below 1 goes down the scale: 0 is the leading note of the octave below
    assert c.degree_pitch(0) == 59
    g = Key.parse("C gong")
    assert [g.degree_pitch(d) for d in range(1, 7)] == [60, 62, 64, 67, 69, 72]


# -- chords --------------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", list(CHORD_QUALITIES))
@pytest.mark.parametrize("root", ["C", "F#", "Bb", "E"])
def test_parse_chord_every_quality(root, quality):
    c = parse_chord(root + quality)
    assert c.root == pitch_class_of(root)
    assert c.quality == quality
    assert c.bass is None
    assert c.intervals == CHORD_QUALITIES[quality]
    assert c.pitch_classes == tuple((c.root + i) % 12 for i in CHORD_QUALITIES[quality])


@pytest.mark.parametrize(
    ("text", "quality"),
    [
        ("Cmaj", ""), ("CM", ""), ("Cmin", "m"), ("C-", "m"), ("CM7", "maj7"), ("CΔ", "maj7"),
        ("CΔ7", "maj7"), ("Cmin7", "m7"), ("C-7", "m7"), ("Cø", "m7b5"), ("Cø7", "m7b5"),
        ("Co", "dim"), ("C°", "dim"), ("Co7", "dim7"), ("C°7", "dim7"), ("C+", "aug"),
        ("Csus", "sus4"), ("Cdom7", "7"), ("C7sus", "7sus4"),
    ],
)
def test_parse_chord_aliases(text, quality):
    c = parse_chord(text)
    assert c.root == 0
    assert c.quality == quality


@pytest.mark.parametrize(
    ("text", "pcs"),
    [
        ("C", (0, 4, 7)),
        ("Am", (9, 0, 4)),
        ("G7", (7, 11, 2, 5)),
        ("F#m7", (6, 9, 1, 4)),
        ("Bbmaj7", (10, 2, 5, 9)),
        ("G7sus4", (7, 0, 2, 5)),
        ("Bdim", (11, 2, 5)),
        ("Caug", (0, 4, 8)),
        ("D9", (2, 6, 9, 0, 4)),
        ("C5", (0, 7)),
        ("Cb5", (11, 6)),  # Cb power chord, not C with a flat five
        ("C/E", (4, 7, 0)),  # first inversion: the bass is a chord tone
        ("C/G", (7, 0, 4)),
        ("Am7/G", (7, 9, 0, 4)),
        ("C/Bb", (10, 0, 4, 7)),  # the bass is not a chord tone: put in front
        ("D/F#", (6, 9, 2)),
    ],
)
def test_chord_pitch_classes(text, pcs):
    assert parse_chord(text).pitch_classes == pcs


def test_slash_chords():
    c = parse_chord("G/B")
    assert (c.root, c.quality, c.bass) == (7, "", 11)
    c = parse_chord("Ebm7/Db")
    assert (c.root, c.quality, c.bass) == (3, "m7", 1)
    c = parse_chord("F#ø7/E")
    assert (c.root, c.quality, c.bass) == (6, "m7b5", 4)


def test_chord_pitches_close_position():
    assert parse_chord("C").pitches() == [48, 52, 55]
    assert parse_chord("Am").pitches(octave=4) == [69, 72, 76]
    # the bass sits below the root
    assert parse_chord("C/E").pitches() == [52, 60, 64, 67]
    assert parse_chord("C/Bb").pitches() == [58, 60, 64, 67]
    assert parse_chord("F/C").pitches() == [48, 53, 57, 60]
    assert parse_chord("Cadd9").pitches() == [48, 52, 55, 62]


@pytest.mark.parametrize("text", ["", "H", "am", "Cxyz", "C/H", "C/", "/C", "Cmaj7/G/B", "7"])
def test_parse_chord_errors(text):
    with pytest.raises(ParameterError):
        parse_chord(text)


def test_parse_chord_error_lists_the_valid_qualities():
    with pytest.raises(ParameterError) as exc:
        parse_chord("Cxyz")
    assert "'xyz'" in str(exc.value) and "'maj7'" in str(exc.value)


def test_chord_symbol_round_trip_every_root_quality_and_bass():
    for root in range(12):
        for quality in CHORD_QUALITIES:
            for bass in (None, *range(12)):
                c = Chord(root, quality, bass)
                assert parse_chord(chord_symbol(c)) == c, c
                assert parse_chord(chord_symbol(c, flats=True)) == c, c
                assert parse_chord(c.symbol) == c
                assert str(c) == c.symbol


def test_chord_symbol_spellings():
    assert chord_symbol(Chord(1, "m7")) == "C#m7"
    assert chord_symbol(Chord(1, "m7"), flats=True) == "Dbm7"
    assert chord_symbol(Chord(10, "maj7", 2)) == "Bbmaj7/D"
    assert chord_symbol(parse_chord("Am7/G")) == "Am7/G"


def test_chord_validation():
    with pytest.raises(ParameterError, match="unknown chord quality"):
        Chord(0, "maj13")
    # regression: out-of-range roots and basses were accepted, then broke chord_symbol
    with pytest.raises(ParameterError, match="root"):
        Chord(12)
    with pytest.raises(ParameterError, match="root"):
        Chord(-1)
    with pytest.raises(ParameterError, match="bass"):
        Chord(0, "", 12)


# -- key estimation ------------------------------------------------------------------------------


def _material(key: Key) -> tuple[list[int], list[float]]:
    """One octave of the scale, plus the tonic triad weighted double."""
    scale = [key.degree_pitch(d) for d in range(1, 8)]
    triad = [key.degree_pitch(d) for d in (1, 3, 5)]
    return scale + triad, [1.0] * 7 + [2.0] * 3


@pytest.mark.parametrize("mode", ["major", "minor"])
@pytest.mark.parametrize("tonic", range(12))
def test_estimate_key_all_24_keys_scale_and_triad(tonic, mode):
    key = Key(tonic, mode)
    pitches, weights = _material(key)
    est, r = estimate_key(pitches, weights)
    assert est == key
    assert 0.6 < r <= 1.0


@pytest.mark.parametrize("mode", ["major", "minor"])
@pytest.mark.parametrize("tonic", range(12))
def test_estimate_key_all_24_tonic_triads(tonic, mode):
    key = Key(tonic, mode)
    triad = [key.degree_pitch(d, octave=3) for d in (1, 3, 5)]
    est, r = estimate_key(triad)
    assert est == key
    assert r > 0.8


def test_estimate_key_c_major_scale_weighted_toward_tonic_triad():
    pitches = [60, 62, 64, 65, 67, 69, 71, 72]
    weights = [4, 1, 3, 1, 3, 1, 1, 4]
    key, r = estimate_key(pitches, weights)
    assert key == Key(0, "major")
    assert r > 0.8


def test_estimate_key_a_harmonic_minor_material():
    # A harmonic minor scale up and down, with the tonic and dominant leaning
    up = [57, 59, 60, 62, 64, 65, 68, 69]
    pitches = up + up[::-1][1:] + [57, 64, 69]
    key, _ = estimate_key(pitches)
    assert key == Key(9, "minor")


def test_estimate_key_is_transposition_invariant(rng):
    pitches = list(rng.integers(40, 80, size=60))
    weights = list(rng.uniform(0.25, 2.0, size=60))
    k0, r0 = estimate_key(pitches, weights)
    for shift in range(1, 12):
        k, r = estimate_key([p + shift for p in pitches], weights)
        assert k == Key((k0.tonic + shift) % 12, k0.mode)
        assert r == pytest.approx(r0, abs=1e-12)


def test_estimate_key_accepts_iterables_and_octaves_do_not_matter():
    gen = (p for p in [60, 64, 67])
    assert estimate_key(gen)[0] == Key(0)
    assert estimate_key([36, 76, 103])[0] == Key(0)  # C2, E5, G7


def test_estimate_key_uninformative_input_is_c_major_with_zero_correlation():
    key, r = estimate_key(list(range(60, 72)))  # every pitch class once
    assert key == Key(0) and r == 0.0
    key, r = estimate_key([60, 64], [0.0, 0.0])
    assert key == Key(0) and r == 0.0


def test_estimate_key_errors():
    with pytest.raises(ParameterError, match="empty"):
        estimate_key([])
    # regression: a length mismatch used to escape as numpy's own ValueError
    with pytest.raises(ParameterError, match="3 pitches but 2 weights"):
        estimate_key([60, 64, 67], [1.0, 1.0])
    with pytest.raises(ParameterError, match="finite"):
        estimate_key([60, 64, 67], [1.0, math.nan, 1.0])
    with pytest.raises(ParameterError, match=">= 0"):
        estimate_key([60, 64, 67], [1.0, -1.0, 1.0])

"""Music theory in one place: pitch names, keys, scales, chords and key estimation.

Pitches are MIDI numbers (60 = C4, 69 = A4 = 440 Hz); pitch classes are 0..11 with C = 0.

>>> pitch_to_name(69)
'A4'
>>> name_to_pitch("C#5")
73
>>> Key.parse("A minor").scale_pitch_classes()
(9, 11, 0, 2, 4, 5, 7)
>>> parse_chord("Am7/G").pitch_classes
(7, 9, 0, 4)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from yuefu.core.errors import ParameterError

__all__ = [
    "PITCH_CLASS_NAMES",
    "SCALES",
    "CHORD_QUALITIES",
    "Key",
    "Chord",
    "pitch_to_name",
    "name_to_pitch",
    "pitch_to_hz",
    "hz_to_pitch",
    "pitch_class_of",
    "parse_chord",
    "chord_symbol",
    "estimate_key",
]

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Scale and mode interval sets, in semitones above the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "melodic_minor": (0, 2, 3, 5, 7, 9, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    # Chinese pentatonic modes (宫 商 角 徵 羽), named by their tonic degree.
    "gong": (0, 2, 4, 7, 9),
    "shang": (0, 2, 5, 7, 10),
    "jue": (0, 3, 5, 8, 10),
    "zhi": (0, 2, 5, 7, 9),
    "yu": (0, 3, 5, 7, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "chromatic": tuple(range(12)),
}
_MODE_ALIASES = {"maj": "major", "ionian": "major", "min": "minor", "aeolian": "minor", "m": "minor"}

#: Where each mode's tonic sits relative to the tonic of the major scale that shares its notes,
#: in fifths (C major 0, A minor -3: C is three fifths above A). The chromatic scale has none.
_MODE_FIFTHS = {
    "major": 0, "minor": -3, "harmonic_minor": -3, "melodic_minor": -3, "dorian": -2,
    "phrygian": -4, "lydian": 1, "mixolydian": -1, "locrian": -5,
    "gong": 0, "shang": -2, "jue": -4, "zhi": -1, "yu": -3,
    "major_pentatonic": 0, "minor_pentatonic": -3, "blues": -3,
}
_LETTER_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}


def _fifths_name(fifths: int) -> str:
    """Spell a position on the line of fifths (C = 0, G = 1, F = -1, F# = 6, Cb = -7)."""
    acc, idx = divmod(fifths + 1, 7)
    return "FCGDAEB"[idx] + ("#" * acc if acc >= 0 else "b" * -acc)

#: Chord qualities: suffix -> intervals above the root.
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "5": (0, 7),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "mmaj7": (0, 3, 7, 11),
    "m7b5": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
    "7sus4": (0, 5, 7, 10),
    "add9": (0, 4, 7, 14),
    "madd9": (0, 3, 7, 14),
    "9": (0, 4, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
    "m9": (0, 3, 7, 10, 14),
}
_QUALITY_ALIASES = {
    "maj": "",
    "M": "",
    "min": "m",
    "-": "m",
    "M7": "maj7",
    "Δ": "maj7",
    "Δ7": "maj7",
    "min7": "m7",
    "-7": "m7",
    "ø": "m7b5",
    "ø7": "m7b5",
    "o": "dim",
    "°": "dim",
    "o7": "dim7",
    "°7": "dim7",
    "+": "aug",
    "sus": "sus4",
    "dom7": "7",
}

_NOTE_RE = re.compile(r"^([A-Ga-g])([#b♯♭]*)(-?\d+)?$")


def _accidental_offset(acc: str) -> int:
    return acc.count("#") + acc.count("♯") - acc.count("b") - acc.count("♭")


def pitch_to_name(pitch: int, *, flats: bool = False) -> str:
    """Name a MIDI pitch in scientific pitch notation (60 -> ``"C4"``)."""
    p = int(pitch)
    if not 0 <= p <= 127:
        raise ParameterError(f"MIDI pitch must be 0..127, got {pitch}")
    names = _FLAT_NAMES if flats else _SHARP_NAMES
    return f"{names[p % 12]}{p // 12 - 1}"


def pitch_class_of(name: str) -> int:
    """Pitch class (0..11) of a note name without octave (``"Eb"`` -> 3)."""
    m = _NOTE_RE.match(name.strip())
    if not m or m.group(3) is not None:
        raise ParameterError(f"not a pitch-class name: {name!r} (expected e.g. 'C', 'F#', 'Bb')")
    return (_LETTER_PC[m.group(1).upper()] + _accidental_offset(m.group(2))) % 12


def name_to_pitch(name: str) -> int:
    """MIDI pitch of a note name with octave (``"A4"`` -> 69, ``"Bb3"`` -> 58)."""
    m = _NOTE_RE.match(name.strip())
    if not m or m.group(3) is None:
        raise ParameterError(f"not a note name: {name!r} (expected e.g. 'A4', 'C#5', 'Bb3')")
    pitch = (int(m.group(3)) + 1) * 12 + _LETTER_PC[m.group(1).upper()]
    pitch += _accidental_offset(m.group(2))
    if not 0 <= pitch <= 127:
        raise ParameterError(f"note {name!r} is outside the MIDI range C-1..G9")
    return pitch


def pitch_to_hz(pitch: float, *, a4_hz: float = 440.0) -> float:
    """Frequency in Hz of a (possibly fractional) MIDI pitch."""
    return a4_hz * 2.0 ** ((pitch - 69.0) / 12.0)


def hz_to_pitch(hz: float, *, a4_hz: float = 440.0) -> float:
    """Fractional MIDI pitch of a frequency in Hz."""
    if hz <= 0:
        raise ParameterError(f"frequency must be positive, got {hz} Hz")
    return 69.0 + 12.0 * math.log2(hz / a4_hz)


@dataclass(frozen=True, slots=True)
class Key:
    """A key or mode: tonic pitch class and a scale name from :data:`SCALES`.

    ``signature`` optionally fixes the spelling where two signatures name the same pitch classes
    (C# major, 7 sharps, and Db major, 5 flats): :meth:`parse` and :meth:`from_sharps` set it, and
    :meth:`sharps` and :attr:`tonic_name` honour it. It takes no part in equality: ``C# major ==
    Db major``.
    """

    tonic: int
    mode: str = "major"
    signature: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.tonic <= 11:
            raise ParameterError(f"key tonic must be a pitch class 0..11, got {self.tonic}")
        if self.mode not in SCALES:
            raise ParameterError(
                f"unknown mode {self.mode!r}; valid modes: {', '.join(sorted(SCALES))}"
            )
        if self.signature is not None:
            sig = self.signature
            if (
                self.mode not in _MODE_FIFTHS
                or not -7 <= sig <= 7
                or (sig * 7) % 12 != self.relative_major_tonic()
            ):
                raise ParameterError(
                    f"a key signature of {sig} accidentals does not fit "
                    f"{_SHARP_NAMES[self.tonic]} {self.mode}"
                )

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse ``"C"``, ``"Am"``, ``"A minor"``, ``"F# dorian"``, ``"Eb major"``."""
        t = text.strip()
        m = re.match(r"^([A-Ga-g][#b♯♭]?)\s*(.*)$", t)
        if not m:
            raise ParameterError(f"not a key: {text!r} (expected e.g. 'C major', 'A minor', 'Am')")
        raw_mode = m.group(2).strip()
        mode = raw_mode.lower().replace(" ", "_") or "major"
        if raw_mode == "M":  # "CM" is C major, as in chord symbols; "Cm" is C minor
            mode = "major"
        mode = _MODE_ALIASES.get(mode, mode)
        if mode not in SCALES:
            raise ParameterError(
                f"unknown mode {m.group(2)!r} in key {text!r}; valid: {', '.join(sorted(SCALES))}"
            )
        tonic = m.group(1)
        signature = None
        if mode in _MODE_FIFTHS:
            fifths = _LETTER_FIFTHS[tonic[0].upper()] + 7 * _accidental_offset(tonic[1:])
            if -7 <= fifths + _MODE_FIFTHS[mode] <= 7:
                signature = fifths + _MODE_FIFTHS[mode]
        return cls(pitch_class_of(tonic), mode, signature)

    @property
    def name(self) -> str:
        return f"{self.tonic_name} {self.mode}"

    @property
    def tonic_name(self) -> str:
        """The tonic spelled as the key signature implies (``"Eb"`` in E-flat major)."""
        if self.signature is not None:
            return _fifths_name(self.signature - _MODE_FIFTHS[self.mode])
        flats = self.sharps() < 0 if self.mode in _MODE_FIFTHS else False
        return (_FLAT_NAMES if flats else _SHARP_NAMES)[self.tonic]

    def scale_pitch_classes(self) -> tuple[int, ...]:
        """Pitch classes of the scale, starting from the tonic."""
        return tuple((self.tonic + i) % 12 for i in SCALES[self.mode])

    def contains(self, pitch: int) -> bool:
        """Whether a MIDI pitch belongs to the scale."""
        return pitch % 12 in self.scale_pitch_classes()

    def degree_pitch(self, degree: int, *, octave: int = 4) -> int:
        """MIDI pitch of a scale degree (1-based; 8 is the tonic an octave up) in an octave."""
        steps = SCALES[self.mode]
        idx = degree - 1
        octave_shift, idx = divmod(idx, len(steps))
        return (octave + 1 + octave_shift) * 12 + self.tonic + steps[idx]

    def relative_major_tonic(self) -> int:
        """Tonic pitch class of the major key that shares this key's signature."""
        return (self.tonic + 7 * _MODE_FIFTHS.get(self.mode, 0)) % 12

    def sharps(self) -> int:
        """Key-signature accidentals: positive sharps, negative flats (-7..7).

        Without an explicit :attr:`signature` the simpler spelling wins: -5..6 (Db, not C#).
        """
        if self.signature is not None:
            return self.signature
        pc = self.relative_major_tonic()
        n = (pc * 7) % 12  # position on the circle of fifths
        return n - 12 if n > 6 else n  # 0..6 sharps (F# major has six), 7..11 -> 5..1 flats

    @classmethod
    def from_sharps(cls, sharps: int, mode: str = "major") -> Key:
        """The key in ``mode`` with ``sharps`` accidentals (negative for flats).

        >>> Key.from_sharps(-3, "minor").name
        'C minor'
        """
        if not -7 <= sharps <= 7:
            raise ParameterError(f"key signature must have -7..7 accidentals, got {sharps}")
        mode = _MODE_ALIASES.get(mode, mode)
        if mode not in _MODE_FIFTHS:
            raise ParameterError(
                f"mode {mode!r} has no key signature; valid: {', '.join(sorted(_MODE_FIFTHS))}"
            )
        tonic = ((sharps - _MODE_FIFTHS[mode]) * 7) % 12
        return cls(tonic, mode, sharps)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol: root pitch class, quality suffix, optional bass pitch class."""

    root: int
    quality: str = ""
    bass: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.root <= 11:
            raise ParameterError(f"chord root must be a pitch class 0..11, got {self.root}")
        if self.bass is not None and not 0 <= self.bass <= 11:
            raise ParameterError(f"chord bass must be a pitch class 0..11, got {self.bass}")
        if self.quality not in CHORD_QUALITIES:
            raise ParameterError(
                f"unknown chord quality {self.quality!r}; valid: "
                + ", ".join(repr(q) for q in CHORD_QUALITIES)
            )

    @property
    def intervals(self) -> tuple[int, ...]:
        return CHORD_QUALITIES[self.quality]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """Chord tones as pitch classes from the bass up: a chord-tone bass rotates the
        tones (an inversion, ``C/E`` -> E G C); any other bass is put in front of them."""
        pcs = tuple((self.root + i) % 12 for i in self.intervals)
        if self.bass is not None and self.bass not in pcs:
            return (self.bass, *pcs)
        if self.bass is not None:
            i = pcs.index(self.bass)
            return pcs[i:] + pcs[:i]
        return pcs

    def pitches(self, *, octave: int = 3) -> list[int]:
        """Close-position MIDI pitches, root (or bass) in the given octave."""
        base = (octave + 1) * 12
        out = []
        if self.bass is not None:
            out.append(base + self.bass)
        root = base + self.root
        if out and root <= out[0]:
            root += 12
        out.extend(root + i for i in self.intervals)
        return out

    @property
    def symbol(self) -> str:
        return chord_symbol(self)

    def __str__(self) -> str:
        return self.symbol


_CHORD_RE = re.compile(r"^([A-G][#b♯♭]?)([^/]*)(?:/([A-G][#b♯♭]?))?$")


def parse_chord(text: str) -> Chord:
    """Parse a chord symbol such as ``"C"``, ``"F#m7"``, ``"Bbmaj7"``, ``"G7sus4"``, ``"C/E"``."""
    m = _CHORD_RE.match(text.strip())
    if not m:
        raise ParameterError(f"not a chord symbol: {text!r} (expected e.g. 'C', 'Am7', 'G/B')")
    quality = m.group(2)
    quality = _QUALITY_ALIASES.get(quality, quality)
    if quality == "7sus":
        quality = "7sus4"
    if quality not in CHORD_QUALITIES:
        raise ParameterError(
            f"unknown chord quality {m.group(2)!r} in {text!r}; valid: "
            + ", ".join(repr(q) for q in CHORD_QUALITIES)
        )
    bass = pitch_class_of(m.group(3)) if m.group(3) else None
    return Chord(pitch_class_of(m.group(1)), quality, bass)


def chord_symbol(chord: Chord, *, flats: bool = False) -> str:
    """The text symbol of a chord (inverse of :func:`parse_chord`)."""
    names = _FLAT_NAMES if flats else PITCH_CLASS_NAMES
    s = names[chord.root] + chord.quality
    if chord.bass is not None:
        s += "/" + names[chord.bass]
    return s


# Krumhansl-Kessler key profiles (probe-tone ratings), C major / C minor.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(
    pitches: Sequence[int] | Iterable[int], weights: Sequence[float] | None = None
) -> tuple[Key, float]:
    """Estimate the major or minor key of notes (Krumhansl-Schmuckler).

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches.
    weights : sequence of float, optional
        A weight per note, usually its duration in beats.

    Returns
    -------
    key : Key
        The best major or minor key.
    correlation : float
        Pearson correlation of the pitch-class histogram with that key's profile (-1..1).
    """
    p = np.asarray(list(pitches), dtype=np.int64)
    if p.size == 0:
        raise ParameterError("cannot estimate the key of an empty set of notes")
    w = np.ones(p.size) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != p.shape:
        raise ParameterError(f"estimate_key: {p.size} pitches but {w.size} weights; give one each")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ParameterError("estimate_key: weights must be finite and >= 0")
    hist = np.bincount(p % 12, weights=w, minlength=12)
    if not np.any(hist > 0) or np.allclose(hist, hist[0]):
        return Key(0, "major"), 0.0
    best: tuple[float, Key] = (-2.0, Key(0))
    for tonic in range(12):
        for mode, prof in (("major", _KK_MAJOR), ("minor", _KK_MINOR)):
            r = float(np.corrcoef(hist, np.roll(prof, tonic))[0, 1])
            if r > best[0]:
                best = (r, Key(tonic, mode))
    return best[1], best[0]

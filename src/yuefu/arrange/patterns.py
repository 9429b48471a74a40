"""Shared machinery of the arranger: the song's grid of bars and chords, voicings with voice
leading, velocities shaped by section and beat, rhythm patterns played over the chords, and the
final tidy pass that keeps every track renderable.

Every style module builds its parts from these pieces. Times are in beats (quarter notes) from
the start of the *song* (intro included).

>>> g = Grid.from_meter((6, 8), "compound")
>>> g.pulses, g.pulse_beats, g.subs, g.bar_beats
(2, 1.5, 3, 3.0)
>>> g.strong_offsets()
(0.0, 1.5)
>>> from yuefu.core.theory import parse_chord
>>> v = Voicer(low=55, high=72, size=3)
>>> s1 = Span(0.0, 4.0, "C", parse_chord("C"))
>>> s2 = Span(4.0, 8.0, "F", parse_chord("F"))
>>> v.voice(s1), v.voice(s2)        # F follows C by the nearest inversion
((60, 64, 67), (60, 65, 69))
"""

from __future__ import annotations

import bisect
import math
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.score import Note, Track
from yuefu.core.theory import Chord, Key

__all__ = [
    "EPS",
    "SECTION_KINDS",
    "section_kind",
    "Grid",
    "Bar",
    "Span",
    "Song",
    "Voicer",
    "ChordVoicer",
    "Hit",
    "fit_pitch",
    "add_note",
    "velocity",
    "play_hits",
    "pick",
    "tidy",
    "swing_warp",
]

EPS = 1e-6

#: The section kinds that the arranger tells apart (every section name maps to one).
SECTION_KINDS = ("intro", "verse", "prechorus", "chorus", "bridge", "outro", "other")

_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("prechorus", "prechorus"), ("pre", "prechorus"), ("build", "prechorus"), ("lift", "prechorus"),
    ("导歌", "prechorus"), ("预副歌", "prechorus"), ("chorus", "chorus"), ("refrain", "chorus"),
    ("hook", "chorus"), ("副歌", "chorus"), ("verse", "verse"), ("stanza", "verse"),
    ("主歌", "verse"), ("bridge", "bridge"), ("middle", "bridge"), ("桥", "bridge"),
    ("solo", "bridge"), ("interlude", "bridge"), ("间奏", "bridge"), ("intro", "intro"),
    ("前奏", "intro"), ("outro", "outro"), ("coda", "outro"), ("ending", "outro"),
    ("尾", "outro"),
)

#: Energy added to the motive's energy in each kind of section.
_KIND_ENERGY = {"intro": -0.12, "verse": -0.12, "prechorus": 0.02, "chorus": 0.18,
                "bridge": -0.04, "outro": -0.08, "other": 0.0}


def section_kind(name: str) -> str:
    """Map a section name (``"Verse 2"``, ``"pre-chorus"``, ``"副歌"``) to a kind.

    >>> [section_kind(n) for n in ("Verse 2", "pre-chorus", "Chorus", "副歌", "tag")]
    ['verse', 'prechorus', 'chorus', 'chorus', 'other']
    """
    low = re.sub(r"[\s\-_0-9]", "", name.lower())
    for word, kind in _KIND_WORDS:
        if low.startswith(word) or (len(word) > 3 and word in low) or (not word.isascii() and word in low):
            return kind
    return "other"


@dataclass(frozen=True)
class Grid:
    """The metric grid of a meter: felt pulses per bar, their length, their subdivisions.

    Parameters
    ----------
    numerator, denominator : int
        The time signature.
    pulses : int
        Felt beats per bar (4/4: 4, 3/4: 3, 6/8: 2, 12/8: 4).
    pulse_beats : float
        Length of a pulse in quarter notes (1.0, or 1.5 for a dotted quarter).
    subs : int
        Subdivisions of a pulse: 2 (straight eighths) or 3 (compound or triplet feel).
    halftime : bool
        The backbeat falls once a bar (half-time feel).
    """

    numerator: int
    denominator: int
    pulses: int
    pulse_beats: float
    subs: int
    halftime: bool = False

    @classmethod
    def from_meter(cls, meter: tuple[int, int], feel: str = "straight") -> Grid:
        num, den = int(meter[0]), int(meter[1])
        table = {(4, 4): (4, 1.0, 2), (3, 4): (3, 1.0, 2), (2, 4): (2, 1.0, 2),
                 (6, 8): (2, 1.5, 3), (12, 8): (4, 1.5, 3)}
        if (num, den) not in table:
            raise ParameterError(
                f"arrange: meter {num}/{den} is not supported; valid: 4/4, 3/4, 2/4, 6/8, 12/8")
        pulses, pulse_beats, subs = table[(num, den)]
        if feel == "compound":
            subs = 3
        return cls(num, den, pulses, pulse_beats, subs, halftime=feel == "halftime")

    @property
    def bar_beats(self) -> float:
        """Length of a bar in quarter notes."""
        return self.pulses * self.pulse_beats

    @property
    def sub_beats(self) -> float:
        """Length of one subdivision in quarter notes."""
        return self.pulse_beats / self.subs

    @property
    def compound(self) -> bool:
        return self.subs == 3

    def strong_offsets(self) -> tuple[float, ...]:
        """Offsets of the strong beats within a bar: the downbeat, and the middle of the bar
        when the bar has two or four pulses."""
        if self.pulses in (2, 4):
            return (0.0, self.pulses // 2 * self.pulse_beats)
        return (0.0,)

    def backbeats(self) -> tuple[float, ...]:
        """Offsets where a backbeat (snare, clap) falls."""
        L = self.pulse_beats
        if self.pulses == 4:
            return (2 * L,) if self.halftime else (L, 3 * L)
        if self.pulses == 2:
            return (L,)
        return (L, 2 * L)  # 3/4: the "pah-pah" of a waltz

    def pulse_offsets(self) -> list[float]:
        return [p * self.pulse_beats for p in range(self.pulses)]

    def sub_offsets(self) -> list[float]:
        return [i * self.sub_beats for i in range(self.pulses * self.subs)]

    def accent(self, offset: float) -> int:
        """Metric weight of an offset within the bar: 3 downbeat, 2 strong beat, 1 pulse,
        0 subdivision, -1 anything finer."""
        if abs(offset) < 1e-4:
            return 3
        if any(abs(offset - s) < 1e-4 for s in self.strong_offsets()):
            return 2
        if _on_grid(offset, self.pulse_beats):
            return 1
        if _on_grid(offset, self.sub_beats):
            return 0
        return -1


def _on_grid(x: float, step: float) -> bool:
    r = x / step
    return abs(r - round(r)) < 1e-4


@dataclass(frozen=True)
class Span:
    """A chord in force from ``start`` to ``end`` (beats)."""

    start: float
    end: float
    symbol: str
    chord: Chord

    @property
    def bass_pc(self) -> int:
        """The pitch class the bass plays: the slash bass, else the root."""
        return self.chord.bass if self.chord.bass is not None else self.chord.root

    @property
    def tones(self) -> tuple[int, ...]:
        """The chord's own tones (without a slash bass), root first."""
        out: list[int] = []
        for i in self.chord.intervals:
            pc = (self.chord.root + i) % 12
            if pc not in out:
                out.append(pc)
        return tuple(out)

    @property
    def fifth_pc(self) -> int:
        """The chord's fifth (its own diminished or augmented fifth if it has one)."""
        for i in (7, 6, 8):
            if i in self.chord.intervals:
                return (self.chord.root + i) % 12
        return (self.chord.root + 7) % 12


@dataclass(frozen=True)
class Bar:
    """One bar of the song, with what the arranger needs to know about its place.

    Attributes
    ----------
    index : int
        0-based bar number in the song.
    start, end : float
        Beats.
    kind : str
        The section kind (:data:`SECTION_KINDS`).
    name : str
        The section's own name.
    section_no : int
        Index of the section in the song (intro 0, ...).
    occurrence : int
        How many sections of this kind came before this one (0 for the first verse).
    pos, length : int
        Bar position within its section and the section's length in bars.
    energy : float
        0..1, the motive's energy shaped by the section.
    final : bool
        The last bar of the song.
    """

    index: int
    start: float
    end: float
    kind: str
    name: str
    section_no: int
    occurrence: int
    pos: int
    length: int
    energy: float
    final: bool = False

    @property
    def first(self) -> bool:
        return self.pos == 0

    @property
    def last(self) -> bool:
        return self.pos == self.length - 1

    @property
    def progress(self) -> float:
        """0 at the section's first bar .. 1 at its last."""
        return self.pos / max(1, self.length - 1)


@dataclass
class Song:
    """Everything the style modules read: key, grid, bars, chord spans, the vocal line.

    Parameters
    ----------
    key : Key
    grid : Grid
    feel : str
    style, emotion : str
    energy : float
        The motive's energy.
    pentatonic : bool
        Use the pentatonic (国风) colour.
    bars : list of Bar
    spans : list of Span
        Chords in force, covering the whole song without gaps.
    vocal : list of Note
        The melody, shifted by the intro.
    body_start, body_end : float
        Where the melody's bars begin and end (beats).
    seed : int
    """

    key: Key
    grid: Grid
    feel: str
    style: str
    emotion: str
    energy: float
    pentatonic: bool
    bars: list[Bar]
    spans: list[Span]
    vocal: list[Note]
    body_start: float
    body_end: float
    seed: int = 0
    _span_starts: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._span_starts = [s.start for s in self.spans]

    @property
    def end(self) -> float:
        return self.bars[-1].end

    def rng(self, name: str) -> np.random.Generator:
        """A generator of its own for one part, so adding a part changes no other part."""
        return np.random.default_rng([int(self.seed), zlib.crc32(name.encode("utf-8"))])

    def span_at(self, beat: float) -> Span:
        i = bisect.bisect_right(self._span_starts, beat + EPS) - 1
        return self.spans[max(0, min(i, len(self.spans) - 1))]

    def next_span(self, span: Span) -> Span | None:
        i = bisect.bisect_right(self._span_starts, span.start + EPS)
        return self.spans[i] if i < len(self.spans) else None

    def spans_in(self, start: float, end: float) -> list[Span]:
        """The spans that overlap ``[start, end)``, clipped to it."""
        out = []
        for s in self.spans:
            a, b = max(s.start, start), min(s.end, end)
            if b - a > EPS:
                out.append(Span(a, b, s.symbol, s.chord))
        return out

    def bar_at(self, beat: float) -> Bar:
        i = int(math.floor((beat + EPS) / self.grid.bar_beats))
        return self.bars[max(0, min(i, len(self.bars) - 1))]

    def next_bar(self, bar: Bar) -> Bar | None:
        return self.bars[bar.index + 1] if bar.index + 1 < len(self.bars) else None

    def scale_pcs(self) -> tuple[int, ...]:
        """Pitch classes of the melodic scale: the key's, or its pentatonic subset."""
        pcs = self.key.scale_pitch_classes()
        if self.pentatonic and len(pcs) == 7:
            t = self.key.tonic
            major_like = (t + 4) % 12 in pcs
            steps = (0, 2, 4, 7, 9) if major_like else (0, 3, 5, 7, 10)
            return tuple((t + s) % 12 for s in steps)
        return pcs

    def vocal_median(self) -> float:
        return float(np.median([n.pitch for n in self.vocal])) if self.vocal else 67.0


def fit_pitch(pitch: int, low: int, high: int) -> int:
    """Move a pitch by octaves into ``[low, high]`` (nearest octave when the range is narrower
    than an octave), and always into MIDI 0..127."""
    p = int(pitch)
    low, high = max(0, int(low)), min(127, int(high))
    while p < low:
        p += 12
    while p > high:
        p -= 12
    while p < 0:
        p += 12
    while p > 127:
        p -= 12
    return p


def add_note(track: Track, pitch: int, onset: float, dur: float, vel: float,
             lyric: str | None = None) -> None:
    """Append a note, rounding times to 1e-6 beats and keeping pitch and velocity in MIDI range;
    a note of no length is dropped."""
    onset = round(max(0.0, float(onset)), 6)
    dur = round(float(dur), 6)
    if dur <= 1e-4:
        return
    track.notes.append(Note(fit_pitch(pitch, 0, 127), onset, dur,
                            int(np.clip(round(vel), 1, 127)), lyric))


def velocity(base: float, song: Song, beat: float, *, energy: float | None = None,
             rng: np.random.Generator | None = None, spread: int = 4, accent_scale: float = 1.0) -> int:
    """A velocity shaped by the section's energy and the beat's metric weight.

    Parameters
    ----------
    base : float
        The part's velocity at energy 0.5 on an ordinary pulse.
    song : Song
    beat : float
        Onset in beats (song time).
    energy : float, optional
        Defaults to the energy of the bar that holds ``beat``.
    rng : Generator, optional
        Adds a humanising jitter of up to ``spread`` either way.
    accent_scale : float
        Scales the metric accents (0: none).

    Returns
    -------
    int
        1..127.
    """
    bar = song.bar_at(beat)
    e = bar.energy if energy is None else energy
    acc = song.grid.accent(beat - bar.start)
    v = base + 36.0 * (e - 0.5) + accent_scale * {3: 8, 2: 5, 1: 2, 0: -3, -1: -6}[acc]
    if rng is not None and spread > 0:
        v += float(rng.integers(-spread, spread + 1))
    return int(np.clip(round(v), 1, 127))


def _chord_pcs(span: Span, size: int, *, omit_bass: bool = False) -> list[int]:
    """The distinct pitch classes to voice with ``size`` notes: the fifth is dropped first, then
    the highest extension, when the chord has more tones than notes. ``omit_bass`` leaves out
    the note the bass plays (when two tones remain)."""
    tones = list(span.tones)
    if omit_bass and span.bass_pc in tones and len(tones) >= 3:
        tones.remove(span.bass_pc)
    while len(tones) > size and len(tones) > 2:
        fifth = span.fifth_pc
        if fifth in tones[1:] and len(tones) > 3:
            tones.remove(fifth)
        else:
            tones.pop()  # the highest extension
    root = span.chord.root
    return sorted(tones, key=lambda pc: (pc - root) % 12)


def _close_voicings(pcs: Sequence[int], size: int, low: int, high: int) -> list[tuple[int, ...]]:
    """Every close-position voicing of ``size`` notes in ``[low, high]``: each inversion of the
    distinct ``pcs``, continued upward through the same cycle (so a triad in four voices
    doubles its lowest note an octave up)."""
    out: set[tuple[int, ...]] = set()
    n = len(pcs)
    for r in range(n):
        order = [pcs[(r + i) % n] for i in range(size)]
        for base in range(low - low % 12 - 12, high + 1, 12):
            first = base + order[0]
            if first < low:
                continue
            notes = [first]
            for pc in order[1:]:
                p = notes[-1] + 1
                while p % 12 != pc:
                    p += 1
                notes.append(p)
            if notes[-1] <= high:
                out.add(tuple(notes))
    return sorted(out)


class Voicer:
    """Voices each chord near the previous voicing (nearest inversion, no parallel leaps).

    Parameters
    ----------
    low, high : int
        MIDI range of the voicing.
    size : int
        Notes per voicing (2..6).
    spread : bool
        Also consider open (drop-2) voicings.
    omit_bass : bool
        Leave out the bass's note (the upper notes of an Alberti bass).
    """

    def __init__(self, *, low: int, high: int, size: int, spread: bool = False,
                 omit_bass: bool = False) -> None:
        if not 0 <= low < high <= 127 or high - low < 12:
            raise ParameterError(f"Voicer: range {low}..{high} must span an octave within 0..127")
        self.low, self.high, self.size, self.spread = low, high, size, spread
        self.omit_bass = omit_bass
        self.prev: tuple[int, ...] | None = None
        self._memo: dict[tuple[float, str], tuple[int, ...]] = {}

    def candidates(self, span: Span) -> list[tuple[int, ...]]:
        pcs = _chord_pcs(span, self.size, omit_bass=self.omit_bass)
        cands = _close_voicings(pcs, self.size, self.low, self.high)
        if self.spread and len(pcs) >= 3:
            for v in list(cands):
                d = sorted((*v[:-2], v[-2] - 12, v[-1]))
                if d[0] >= self.low:
                    cands.append(tuple(d))
        if not cands:  # the range is too narrow for the whole chord: its tones, once each
            cands = [tuple(sorted({self.low + (pc - self.low) % 12 for pc in pcs}))]
        return cands

    def cost(self, v: tuple[int, ...], prev: tuple[int, ...] | None) -> float:
        centre = (self.low + self.high) / 2.0
        c = 0.15 * abs(float(np.mean(v)) - centre)
        if v[1] - v[0] <= 2 and v[0] < 55:
            c += 3.0  # a second at the bottom of a low voicing is mud
        if prev is None:
            return c * 4
        if len(prev) == len(v):
            moves = [b - a for a, b in zip(prev, v, strict=True)]
        else:
            moves = [min((b - a for a in prev), key=abs) for b in v]
        c += sum(abs(m) for m in moves) + 0.4 * abs(v[-1] - prev[-1])
        if len(moves) > 1 and min(abs(m) for m in moves) >= 3 and (all(m > 0 for m in moves)
                                                                    or all(m < 0 for m in moves)):
            c += 6.0  # every voice leaping the same way
        return c

    def voice(self, span: Span) -> tuple[int, ...]:
        """The voicing of a chord span (the same span always gets the same voicing)."""
        k = (round(span.start, 6), span.symbol)
        if k in self._memo:
            return self._memo[k]
        prev = self.prev
        best = min(self.candidates(span), key=lambda v: (self.cost(v, prev), v))
        self._memo[k] = best
        self.prev = best
        return best


class ChordVoicer(Protocol):
    """Anything that voices a chord span: :class:`Voicer`, or
    :class:`~yuefu.arrange.parts.RootVoicer` for bass notes."""

    def voice(self, span: Span) -> tuple[int, ...]: ...


def pick(voicing: Sequence[int], index: int) -> int:
    """The ``index``-th note of a voicing, extended by octaves past its ends (an index of
    ``len(voicing)`` is the lowest note an octave up)."""
    n = len(voicing)
    octave, i = divmod(index, n)
    return voicing[i] + 12 * octave


@dataclass(frozen=True)
class Hit:
    """One event of a rhythm pattern.

    Parameters
    ----------
    offset : float
        Beats from the bar start.
    dur : float
        Length in beats (clipped at the next chord change, where the part is re-voiced).
    voices : tuple of int or None
        Indices into the voicing (:func:`pick`); None plays every note.
    accent : int
        Velocity added to the pattern's base.
    roll : float
        Beats between successive notes of a strummed or rolled chord; negative rolls from the
        top down (an up-strum).
    """

    offset: float
    dur: float
    voices: tuple[int, ...] | None = None
    accent: int = 0
    roll: float = 0.0


def play_hits(track: Track, song: Song, bars: Iterable[Bar], pattern: Callable[[Bar], list[Hit]],
              voicer: ChordVoicer, *, base_vel: float, rng: np.random.Generator,
              low: int = 0, high: int = 127, extend: bool = False) -> None:
    """Play a rhythm pattern over the chords of some bars.

    A hit that outlasts its chord is cut at the change and, when ``extend``, continues with
    the new chord's voicing (a sustained part re-voiced at each change). Pitches outside
    ``[low, high]`` are moved by octaves into it.
    """
    for bar in bars:
        for h in pattern(bar):
            onset = bar.start + h.offset
            end = min(onset + h.dur, song.end)
            if onset >= bar.end - EPS or end - onset <= EPS:
                continue
            vel = velocity(base_vel + h.accent, song, onset, rng=rng)
            t = onset
            first = True
            while end - t > 1e-3:
                span = song.span_at(t)
                seg_end = min(end, span.end)
                v = voicer.voice(span)
                pitches = list(v) if h.voices is None else [pick(v, i) for i in h.voices]
                pitches = [fit_pitch(p, low, high) for p in pitches]
                order = sorted(set(pitches), reverse=h.roll < 0)
                for k, p in enumerate(order):
                    on = t + k * abs(h.roll)
                    if seg_end - on > 0.05:
                        add_note(track, p, on, seg_end - on, vel if first else vel - 6)
                if not extend:
                    break
                t, first = seg_end, False


def tidy(track: Track) -> Track:
    """Make a track safe to render: notes sorted, no same-pitch overlap (an earlier note is cut
    where the same key is struck again, so FluidSynth never releases the new note early), and
    duplicate strikes merged (the louder kept)."""
    notes = sorted(track.notes, key=lambda n: (n.onset, n.pitch, -n.velocity))
    by_pitch: dict[int, list[Note]] = {}
    for n in notes:
        by_pitch.setdefault(n.pitch, []).append(n)
    keep: list[Note] = []
    for seq in by_pitch.values():
        out: list[Note] = []
        for n in seq:
            if out and n.onset - out[-1].onset < 1e-3:
                continue  # the same key struck twice at once: keep the first (loudest)
            if out and out[-1].end > n.onset + 1e-9:
                out[-1].duration = round(n.onset - out[-1].onset, 6)
            out.append(n)
        keep.extend(out)
    track.notes = sorted(keep, key=lambda n: (n.onset, n.pitch))
    return track


def swing_warp(beat: float, *, pulse_beats: float = 1.0, ratio: float = 2.0 / 3.0) -> float:
    """Swing a straight time: the middle of each pulse moves to ``ratio`` of it.

    >>> swing_warp(0.5), swing_warp(1.0), swing_warp(1.75)
    (0.666667, 1.0, 1.833333)
    """
    p, frac = divmod(beat, pulse_beats)
    x = frac / pulse_beats
    y = x * 2 * ratio if x <= 0.5 else ratio + (x - 0.5) * 2 * (1 - ratio)
    return round((p + y) * pulse_beats, 6)


# -- rhythm generators shared by the styles ------------------------------------------------------

def comp_rhythm(grid: Grid, level: int, *, voices: tuple[int, ...] | None = None) -> list[Hit]:
    """Chord hits for one bar at a density level.

    0 one chord a bar; 1 a chord on each strong beat (each pulse in 3/4); 2 syncopated comping
    (``1 . 2& . . 4`` in 4/4, a long-short lilt per pulse in compound time); 3 every subdivision,
    accented on the pulses.
    """
    sub, bar = grid.sub_beats, grid.bar_beats
    if level <= 0:
        return [Hit(0.0, bar, voices)]
    if level == 1:
        marks = grid.pulse_offsets() if grid.pulses == 3 else list(grid.strong_offsets())
        return [Hit(m, (marks[i + 1] if i + 1 < len(marks) else bar) - m, voices, 2 if i == 0 else 0)
                for i, m in enumerate(marks)]
    if level == 2:
        if grid.compound:
            out = []
            for p in grid.pulse_offsets():
                out += [Hit(p, 2 * sub, voices, 2), Hit(p + 2 * sub, sub, voices, -6)]
            return out
        if grid.pulses == 4:
            return [Hit(0.0, 1.5, voices, 3), Hit(1.5, 1.5, voices, 0), Hit(3.0, 1.0, voices, -2)]
        if grid.pulses == 2:
            return [Hit(0.0, 1.5, voices, 3), Hit(1.5, 0.5, voices, -4)]
        return [Hit(0.0, 1.0, voices, 3), Hit(1.0, 1.0, voices, -4), Hit(2.0, 1.0, voices, -4)]
    return [Hit(o, sub * 0.9, voices, 0 if grid.accent(o) >= 1 else -10) for o in grid.sub_offsets()]


def strum_rhythm(grid: Grid, *, roll: float = 0.012, up: tuple[int, ...] = (1, 2, 3)) -> list[Hit]:
    """A strumming pattern for one bar: down-strums (all strings, low to high) on the pulses and
    lighter up-strums (the top strings, high to low) between them."""
    sub, bar = grid.sub_beats, grid.bar_beats
    if grid.compound:
        marks: list[tuple[float, bool]] = []
        for p in grid.pulse_offsets():
            marks += [(p, True), (p + 2 * sub, False)]
    elif grid.pulses == 4:
        marks = [(0.0, True), (1.0, True), (1.5, False), (2.5, False), (3.0, True), (3.5, False)]
    elif grid.pulses == 3:
        marks = [(0.0, True), (1.0, True), (1.5, False), (2.0, True), (2.5, False)]
    else:
        marks = [(0.0, True), (1.0, True), (1.5, False)]
    out = []
    for i, (off, down) in enumerate(marks):
        nxt = marks[i + 1][0] if i + 1 < len(marks) else bar
        if down:
            out.append(Hit(off, nxt - off, None, 2 if off == 0 else 0, roll))
        else:
            out.append(Hit(off, nxt - off, up, -10, -roll))
    return out


def arpeggio_rhythm(grid: Grid, order: Sequence[int], *, step: float | None = None, ring: float = 2.0,
                    skip_first: bool = False) -> list[Hit]:
    """A broken chord for one bar: ``order`` (voicing indices, see :func:`pick`) cycled over the
    bar at ``step`` beats (default one subdivision), each note ringing ``ring`` steps."""
    step = grid.sub_beats if step is None else step
    n = int(round(grid.bar_beats / step))
    out = []
    k = 0
    for i in range(n):
        if skip_first and i == 0:
            continue
        off = i * step
        acc = 0 if grid.accent(off) >= 1 else -4
        out.append(Hit(off, min(ring * step, grid.bar_beats - off), (order[k % len(order)],), acc))
        k += 1
    return out

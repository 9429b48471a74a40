"""The symbolic vocabulary that every stage shares: ``Note``, ``Track``, ``Score``.

Time is in beats (quarter notes) from the start of the piece; the tempo map turns beats into
seconds. A chord symbol or a section lasts until the next one (lead-sheet semantics).

>>> s = Score(tempos=[Tempo(0, 120)])
>>> t = s.add_track(Track("melody", program=0, role="melody"))
>>> t.notes.append(Note(69, 0.0, 1.0, lyric="la"))
>>> s.seconds(t.notes[0])
(0.0, 0.5)
>>> s.duration_s
0.5
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.theory import Key, estimate_key, parse_chord

__all__ = [
    "ROLES",
    "ORNAMENTS",
    "ARTICULATIONS",
    "Note",
    "Pedal",
    "pedal_marks",
    "Track",
    "Tempo",
    "TimeSignature",
    "KeySignature",
    "ChordSymbol",
    "Section",
    "Direction",
    "TempoMap",
    "Score",
]

def _check_beat(what: str, beat: float) -> None:
    if not (beat >= 0 and math.isfinite(beat)):
        raise ParameterError(f"{what} must be at a finite beat >= 0, got {beat}")


#: What a track does in the arrangement.
ROLES = (
    "melody",
    "vocal",
    "lead",
    "chords",
    "accompaniment",
    "bass",
    "drums",
    "pad",
    "strings",
    "counter",
    "fx",
    "other",
)


#: The ornament signs a note may carry (``Note.ornament``): a trill, a mordent (upper or lower)
#: and a turn (either way round).
ORNAMENTS = ("trill", "mordent", "turn")
#: Articulation marks a note can carry (``Note.articulations``): how long to hold it (staccato,
#: staccatissimo: detached, shorter than written; tenuto: its full value; staccato and tenuto
#: together: portato; fermata: as long as the player likes, the beat waiting for it) and how to
#: strike it (accent, marcato: louder than the notes around; arpeggio: a chord rolled from its
#: lowest note up).
ARTICULATIONS = ("staccato", "staccatissimo", "tenuto", "accent", "marcato", "fermata", "arpeggio")


@dataclass(slots=True)
class Note:
    """One note.

    Parameters
    ----------
    pitch : int
        MIDI pitch 0..127 (60 = C4). For drum tracks, the GM percussion key.
    onset : float
        Start in beats (quarter notes) from the start of the score.
    duration : float
        Length in beats, > 0.
    velocity : int
        MIDI velocity 1..127.
    lyric : str or None
        The syllable sung on this note. ``"-"`` marks a melisma (the previous syllable held).
    staff : int or None
        The staff of its part that the note is written on, 1 being the top one (in a piano part
        staff 1 is the right hand's, staff 2 the left hand's), for a part with several staves;
        None for a one-staff part or a source that does not say (MIDI).
    ornament : str or None
        The ornament sign written over the note, one of :data:`ORNAMENTS` (MusicXML says it; MIDI
        does not), or None.
    grace : tuple of int
        The pitches of the grace notes written just before the note (an acciaccatura, an
        appoggiatura; several: a slide), in the order written; empty for none (MIDI cannot say).
    """

    pitch: int
    onset: float
    duration: float
    velocity: int = 90
    lyric: str | None = None
    staff: int | None = None
    ornament: str | None = None
    grace: tuple[int, ...] = ()
    articulations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= int(self.pitch) <= 127:
            raise ParameterError(f"note pitch must be 0..127, got {self.pitch}")
        if not (self.duration > 0 and np.isfinite(self.duration)):
            raise ParameterError(f"note duration must be a positive number of beats, got {self.duration}")
        if not (self.onset >= 0 and np.isfinite(self.onset)):
            raise ParameterError(f"note onset must be >= 0 beats, got {self.onset}")
        if not 1 <= int(self.velocity) <= 127:
            raise ParameterError(f"note velocity must be 1..127, got {self.velocity}")
        if self.staff is not None and not 1 <= int(self.staff) <= 16:
            raise ParameterError(f"note staff must be 1..16 (1 = the top staff) or None, got {self.staff}")
        if self.ornament is not None and self.ornament not in ORNAMENTS:
            raise ParameterError(f"note ornament must be one of {', '.join(ORNAMENTS)} or None, "
                                 f"got {self.ornament!r}")
        if any(not 0 <= int(g) <= 127 for g in self.grace):
            raise ParameterError(f"grace note pitches must be 0..127, got {self.grace}")
        self.grace = tuple(int(g) for g in self.grace)
        bad = [a for a in self.articulations if a not in ARTICULATIONS]
        if bad:
            raise ParameterError(f"note articulations must be among {', '.join(ARTICULATIONS)}, "
                                 f"got {bad[0]!r}")
        self.articulations = tuple(a for a in ARTICULATIONS if a in self.articulations)

    @property
    def end(self) -> float:
        """End in beats."""
        return self.onset + self.duration


@dataclass(frozen=True, slots=True)
class Pedal:
    """The sustain pedal held down from ``onset`` for ``duration`` beats. A pedal change (the
    pedal let up and pressed again at once, "Ped." under every new harmony) is one pedal ending
    where the next begins."""

    onset: float
    duration: float

    def __post_init__(self) -> None:
        _check_beat("a pedal", self.onset)
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ParameterError(f"a pedal must last a positive, finite time, got {self.duration} beats")

    @property
    def end(self) -> float:
        return self.onset + self.duration


_Time = TypeVar("_Time", int, Fraction)


def pedal_marks(pedals: Iterable[Pedal], at: Callable[[float], _Time], least: _Time
                ) -> list[tuple[_Time, str]]:
    """The marks a notation program writes for ``pedals``: ``(at(beat), "start" | "change" |
    "stop")`` in order. A pedal beginning where (or before) the one before it ends is a ``change``
    there; each ``stop`` comes at least ``least`` after its start (``at`` quantises: a MIDI tick,
    a MusicXML division)."""
    out: list[tuple[_Time, str]] = []
    for p in sorted(pedals, key=lambda p: p.onset):
        on, off = at(p.onset), at(p.end)
        if out and out[-1][1] == "stop" and out[-1][0] >= on:
            out[-1] = (on, "change")
        else:
            out.append((on, "start"))
        out.append((max(off, on + least), "stop"))
    return out


@dataclass(slots=True)
class Track:
    """An instrument part (a piano's two staves are one track; its notes carry their staff).

    Parameters
    ----------
    name : str
        Unique within the score; names the stem file (``stems/<name>.wav``).
    program : int
        General MIDI program 0..127 (ignored for drums, which use the GM percussion kit).
    is_drum : bool
        Plays on MIDI channel 10 with the percussion kit.
    role : str
        One of :data:`ROLES`.
    notes : list of Note
    gain_db : float
        Mix level of the track's stem, in dB (MIDI CC7 on export).
    pan : float
        Stereo position, -1 (left) .. 1 (right) (MIDI CC10 on export).
    pedals : list of Pedal
        Where the score asks for the sustain pedal (MIDI CC64; MusicXML "Ped." ... "*" marks).
    """

    name: str
    program: int = 0
    is_drum: bool = False
    role: str = "other"
    notes: list[Note] = field(default_factory=list)
    gain_db: float = 0.0
    pan: float = 0.0
    pedals: list[Pedal] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ParameterError("a track needs a non-empty name")
        if not 0 <= self.program <= 127:
            raise ParameterError(f"track {self.name!r}: GM program must be 0..127, got {self.program}")
        if self.role not in ROLES:
            raise ParameterError(
                f"track {self.name!r}: unknown role {self.role!r}; valid: {', '.join(ROLES)}"
            )
        if not -1.0 <= self.pan <= 1.0:
            raise ParameterError(f"track {self.name!r}: pan must be -1..1, got {self.pan}")
        if not math.isfinite(self.gain_db):
            raise ParameterError(f"track {self.name!r}: gain_db must be finite, got {self.gain_db}")

    def sort(self) -> None:
        """Sort notes by onset, then pitch (and the pedals by onset)."""
        self.notes.sort(key=lambda n: (n.onset, n.pitch))
        self.pedals.sort(key=lambda p: p.onset)

    @property
    def end(self) -> float:
        """End of the last note, in beats (0 for an empty track)."""
        return max((n.end for n in self.notes), default=0.0)


@dataclass(frozen=True, slots=True)
class Tempo:
    """A tempo change at ``beat``, in quarter notes per minute."""

    beat: float
    bpm: float

    def __post_init__(self) -> None:
        if not 1.0 <= self.bpm <= 1000.0:
            raise ParameterError(f"tempo must be 1..1000 BPM, got {self.bpm}")
        _check_beat("a tempo change", self.beat)


@dataclass(frozen=True, slots=True)
class TimeSignature:
    """A meter change at ``beat`` (which should be a barline)."""

    beat: float
    numerator: int = 4
    denominator: int = 4

    def __post_init__(self) -> None:
        _check_beat("a time signature", self.beat)
        if not 1 <= self.numerator <= 64:
            raise ParameterError(f"time signature numerator must be 1..64, got {self.numerator}")
        if self.denominator not in (1, 2, 4, 8, 16, 32):
            raise ParameterError(
                f"time signature denominator must be a power of two 1..32, got {self.denominator}"
            )

    @property
    def bar_beats(self) -> float:
        """Length of a bar in quarter notes."""
        return self.numerator * 4.0 / self.denominator


@dataclass(frozen=True, slots=True)
class KeySignature:
    """A key change at ``beat``."""

    beat: float
    key: Key

    def __post_init__(self) -> None:
        _check_beat("a key signature", self.beat)


@dataclass(frozen=True, slots=True)
class ChordSymbol:
    """A chord symbol (``"Am7"``, ``"G/B"``) starting at ``beat``; it lasts until the next one."""

    beat: float
    symbol: str

    def __post_init__(self) -> None:
        _check_beat(f"chord {self.symbol!r}", self.beat)
        parse_chord(self.symbol)  # validates


@dataclass(frozen=True, slots=True)
class Section:
    """A named section (``"intro"``, ``"verse"``, ``"chorus"``) starting at ``beat``."""

    beat: float
    name: str

    def __post_init__(self) -> None:
        _check_beat(f"section {self.name!r}", self.beat)


@dataclass(frozen=True, slots=True)
class Direction:
    """Words written over the staff at ``beat``: a tempo word (``"rit."``, ``"a tempo"``), a
    character (``"dolce"``). MusicXML carries them (``<words>``), and yuefu's MIDI files as markers."""

    beat: float
    text: str

    def __post_init__(self) -> None:
        _check_beat(f"direction {self.text!r}", self.beat)


class TempoMap:
    """Converts beats to seconds and back through a piecewise-constant tempo.

    >>> tm = TempoMap([Tempo(0, 120), Tempo(4, 60)])
    >>> float(tm.to_seconds(6.0))
    4.0
    >>> float(tm.to_beats(4.0))
    6.0
    """

    def __init__(self, tempos: list[Tempo]):
        ts = sorted(tempos, key=lambda t: t.beat) or [Tempo(0.0, 120.0)]
        if ts[0].beat > 0:
            ts.insert(0, Tempo(0.0, ts[0].bpm))
        self._beats = np.array([t.beat for t in ts], dtype=np.float64)
        self._spb = np.array([60.0 / t.bpm for t in ts], dtype=np.float64)
        seg = np.diff(self._beats) * self._spb[:-1]
        self._secs = np.concatenate([[0.0], np.cumsum(seg)])

    def to_seconds(self, beats: float | np.ndarray) -> np.ndarray:
        """Seconds from the start at the given beat position(s)."""
        b = np.asarray(beats, dtype=np.float64)
        i = np.clip(np.searchsorted(self._beats, b, side="right") - 1, 0, None)
        return self._secs[i] + (b - self._beats[i]) * self._spb[i]

    def to_beats(self, seconds: float | np.ndarray) -> np.ndarray:
        """Beat position(s) at the given time(s) in seconds."""
        s = np.asarray(seconds, dtype=np.float64)
        i = np.clip(np.searchsorted(self._secs, s, side="right") - 1, 0, None)
        return self._beats[i] + (s - self._secs[i]) / self._spb[i]


@dataclass
class Score:
    """A piece: tracks of notes with a tempo map, meters, keys, chord symbols, sections and
    directions (words over the staff).

    All lists hold events in beats; :meth:`normalize` sorts them. ``title`` travels into
    MIDI (a ``yuefu:title=`` marker) and MusicXML (work title). Track names are unique.
    Meter: 4/4 until the first time signature, as in MIDI.
    """

    tracks: list[Track] = field(default_factory=list)
    tempos: list[Tempo] = field(default_factory=lambda: [Tempo(0.0, 120.0)])
    time_signatures: list[TimeSignature] = field(default_factory=lambda: [TimeSignature(0.0)])
    key_signatures: list[KeySignature] = field(default_factory=list)
    chords: list[ChordSymbol] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    title: str = ""
    directions: list[Direction] = field(default_factory=list)
    #: Beats where a fermata stands over a rest (a general pause: wait as long as you like); a
    #: fermata over a note is in its ``Note.articulations``. MusicXML carries them, and yuefu's
    #: MIDI as markers.
    fermatas: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        for b in self.fermatas:
            _check_beat("a fermata", b)
        names = [t.name for t in self.tracks]
        dup = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if dup is not None:
            raise ParameterError(f"the score has two tracks named {dup!r}; track names are unique")

    # -- construction -------------------------------------------------------------------------
    def add_track(self, track: Track) -> Track:
        """Append a track (its name must be new) and return it."""
        if any(t.name == track.name for t in self.tracks):
            raise ParameterError(f"the score already has a track named {track.name!r}")
        self.tracks.append(track)
        return track

    def track(self, name: str) -> Track:
        """The track with this name."""
        for t in self.tracks:
            if t.name == name:
                return t
        raise ParameterError(
            f"no track named {name!r}; tracks: {', '.join(t.name for t in self.tracks) or 'none'}"
        )

    def tracks_with_role(self, role: str) -> list[Track]:
        return [t for t in self.tracks if t.role == role]

    def normalize(self) -> Score:
        """Sort every event list in place and return ``self``."""
        for t in self.tracks:
            t.sort()
        self.tempos.sort(key=lambda e: e.beat)
        self.time_signatures.sort(key=lambda e: e.beat)
        self.key_signatures.sort(key=lambda e: e.beat)
        self.chords.sort(key=lambda e: e.beat)
        self.sections.sort(key=lambda e: e.beat)
        self.directions.sort(key=lambda e: e.beat)
        self.fermatas.sort()
        return self

    def copy(self) -> Score:
        return copy.deepcopy(self)

    # -- time ---------------------------------------------------------------------------------
    @property
    def tempo_map(self) -> TempoMap:
        return TempoMap(self.tempos)

    def seconds(self, note: Note) -> tuple[float, float]:
        """Onset and offset of a note in seconds."""
        tm = self.tempo_map
        on, off = tm.to_seconds(np.array([note.onset, note.end]))
        return float(on), float(off)

    @property
    def end_beat(self) -> float:
        """End of the last note, in beats."""
        return max((t.end for t in self.tracks), default=0.0)

    @property
    def duration_s(self) -> float:
        """End of the last note, in seconds."""
        return float(self.tempo_map.to_seconds(self.end_beat))

    @property
    def n_notes(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    def _meters(self) -> list[TimeSignature]:
        """Time signatures by beat, with the implicit 4/4 at beat 0 when none is there."""
        sigs = sorted(self.time_signatures, key=lambda s: s.beat)
        if not sigs or sigs[0].beat > 1e-9:
            sigs.insert(0, TimeSignature(0.0))
        return sigs

    def bar_lines(self) -> np.ndarray:
        """Beat positions of the barlines of every bar that starts before the end of the score.

        The first is 0; a score without notes has that one bar.
        """
        sigs = self._meters()
        end = self.end_beat
        bars: list[float] = []
        for i, sig in enumerate(sigs):
            stop = min(sigs[i + 1].beat if i + 1 < len(sigs) else math.inf, end)
            b = sig.beat
            while b < stop - 1e-9:
                bars.append(b)
                b += sig.bar_beats
        return np.array(bars or [0.0])

    def bar_of(self, beat: float) -> int:
        """0-based index of the bar that contains ``beat`` (also past the last note)."""
        sigs = self._meters()
        bar = 0
        for i, sig in enumerate(sigs):
            nxt = sigs[i + 1].beat if i + 1 < len(sigs) else math.inf
            if beat < nxt - 1e-9:
                return bar + max(0, math.floor((beat - sig.beat + 1e-9) / sig.bar_beats))
            bar += math.ceil((nxt - sig.beat - 1e-9) / sig.bar_beats)
        return bar  # not reached: the last meter runs to infinity

    # -- content ------------------------------------------------------------------------------
    def meter_at(self, beat: float) -> TimeSignature:
        """The time signature in force at ``beat`` (4/4 before the first one, as in MIDI)."""
        current = self._meters()[0]
        for ts in self._meters():
            if ts.beat <= beat + 1e-9:
                current = ts
        return current

    def key_at(self, beat: float = 0.0) -> Key | None:
        """The key signature in force at ``beat`` (None if the score has none)."""
        current = None
        for ks in sorted(self.key_signatures, key=lambda k: k.beat):
            if ks.beat <= beat + 1e-9:
                current = ks.key
        return current

    def estimate_key(self) -> Key:
        """Estimate the key from the pitched notes, weighted by duration."""
        notes = [n for t in self.tracks if not t.is_drum for n in t.notes]
        key, _ = estimate_key([n.pitch for n in notes], [n.duration for n in notes])
        return key

    def chord_at(self, beat: float) -> ChordSymbol | None:
        """The chord symbol in force at ``beat``."""
        current = None
        for c in sorted(self.chords, key=lambda c: c.beat):
            if c.beat <= beat + 1e-9:
                current = c
        return current

    def lyrics(self, track: str | None = None) -> list[tuple[Note, str]]:
        """(note, syllable) pairs of the vocal or melody track, or of the named track."""
        t = self.track(track) if track else self.lyric_track()
        if t is None:
            return []
        return [(n, n.lyric) for n in t.notes if n.lyric]

    def lyric_track(self) -> Track | None:
        """The first track that carries lyrics, preferring role vocal, then melody."""
        ordered = sorted(self.tracks, key=lambda t: {"vocal": 0, "melody": 1}.get(t.role, 2))
        for t in ordered:
            if any(n.lyric for n in t.notes):
                return t
        return None

    def iter_notes(self) -> Iterator[tuple[Track, Note]]:
        for t in self.tracks:
            for n in t.notes:
                yield t, n

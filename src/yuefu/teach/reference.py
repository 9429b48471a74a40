"""The score as the practice partner sees it: notes with bar and hand, grouped into chords.

A *cluster* is every score note that starts at the same moment (within ``chord_tolerance_beats``):
a chord, or a melody note with its accompaniment. The aligner follows the performance from cluster
to cluster and matches the pitches inside a cluster as a chord, in any order.

Hands come from the best source the score has, and :attr:`Reference.hands_from` says which:

* ``"staves"``: a part of several staves (a MusicXML piano part; its notes carry their staff):
  staff 1 is the right hand, staff 2 (and below) the left, wherever the notes lie;
* ``"track names"``: every pitched track is named for one hand (``RH``/``LH``, ``right``/``left``,
  ``treble``/``bass``, ``upper``/``lower``, ``右手``/``左手`` ...) and both hands are named;
* ``"tracks"``: two pitched tracks (two staves as a notation program writes a piano MIDI file, or
  two MIDI channels): the higher-sounding one is the right hand;
* ``"pitch (split at 60)"``: otherwise (one track, or more than two unnamed ones) the notes are
  split at ``split_pitch`` (middle C, 60, by default: notes at or above it are the right hand's).

In a score that mixes a part with staves and parts without, the latter are split at
``split_pitch`` (``"staves + pitch (split at 60)"``). Drum tracks are left out.

>>> from yuefu.core import Score, Track, Note
>>> s = Score()
>>> t = s.add_track(Track("piano"))
>>> t.notes += [Note(60, 0, 1), Note(64, 0, 1), Note(48, 0, 2), Note(62, 1, 1)]
>>> ref = build_reference(s)
>>> [c.pitches for c in ref.clusters]
[(48, 60, 64), (62,)]
>>> sorted({n.hand for n in ref.notes})
['left', 'right']
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError, ScoreLoadError
from yuefu.core.score import Note, Score, Track

__all__ = ["RefNote", "Cluster", "Reference", "build_reference", "hand_of_name", "restruck_within", "HANDS"]

#: Hand names, as they appear in reports and JSON.
HANDS = ("right", "left")


@dataclass(frozen=True, slots=True)
class RefNote:
    """One score note.

    Parameters
    ----------
    index : int
        Position in :attr:`Reference.notes` (sorted by onset, then pitch).
    pitch : int
        MIDI pitch.
    onset_beat, duration_beat : float
        In beats (quarter notes) from the start of the score.
    onset_s, duration_s : float
        In seconds through the score's own tempo map (the written tempo).
    velocity : int
        The score's velocity (a dynamics marking, where the score has one).
    track : str
        Name of the score track it comes from.
    hand : str
        ``"right"`` or ``"left"``.
    bar : int
        1-based bar number.
    cluster : int
        Index of its cluster in :attr:`Reference.clusters`.
    ornament : str or None
        The ornament sign written over it (``Note.ornament``: a MusicXML score's trill, mordent or
        turn), or None.
    grace : tuple of int
        The grace notes written before it (``Note.grace``), or ().
    articulations : tuple of str
        Its articulation marks (``Note.articulations``: staccato, staccatissimo, tenuto, accent,
        marcato, fermata, arpeggio), or ().
    """

    index: int
    pitch: int
    onset_beat: float
    duration_beat: float
    onset_s: float
    duration_s: float
    velocity: int
    track: str
    hand: str
    bar: int
    cluster: int
    ornament: str | None = None
    grace: tuple[int, ...] = ()
    articulations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cluster:
    """The notes that start together.

    ``pitches`` holds each pitch once (a unison of both hands is one key on a piano);
    ``members[i]`` are the indices of the score notes with ``pitches[i]``;
    ``seconds_per_beat`` is the written tempo there.
    """

    index: int
    beat: float
    onset_s: float
    bar: int
    pitches: tuple[int, ...]
    members: tuple[tuple[int, ...], ...]
    seconds_per_beat: float = 0.5

    @property
    def note_indices(self) -> tuple[int, ...]:
        return tuple(i for m in self.members for i in m)


@dataclass(frozen=True)
class Reference:
    """A score prepared for assessment: notes, clusters, bars and hands."""

    notes: tuple[RefNote, ...]
    clusters: tuple[Cluster, ...]
    n_bars: int
    first_bar: int
    hands_from: str
    beat_s: float
    title: str = ""
    split_pitch: int = 60
    #: Start beat of every bar of :attr:`bars` and the end of the last one (``n_bars + 1`` values).
    bar_starts: tuple[float, ...] = ()
    #: For a score whose measures are known (MusicXML; its repeats expanded or not), the written
    #: number of each bar of :attr:`bars` and the how-manieth time it is played: ``(number,
    #: pass)``, pass 1 the first time. Empty: the bars are numbered as they come.
    bar_numbers: tuple[tuple[int, int], ...] = ()
    #: The names of the score's tracks that are judged (:func:`piano_tracks`).
    parts: tuple[str, ...] = ()
    #: Spans ``(start beat, end beat)`` where the score frees the tempo (:func:`free_tempo_spans`:
    #: rit., rall., accel., rubato, ... until a tempo): their notes are not judged early or late,
    #: their bars do not count against a steady tempo.
    free_tempo: tuple[tuple[float, float], ...] = ()
    #: Where the score marks the sustain pedal, ``(start beat, end beat)`` in order (the judged
    #: part's :attr:`yuefu.core.Track.pedals` within the bars judged; a change: one span ending
    #: where the next begins). Empty: the score marks none.
    pedals: tuple[tuple[float, float], ...] = ()
    #: Beats of the fermatas over rests within the bars judged (:attr:`yuefu.core.Score.fermatas`):
    #: the wait there is no hesitation, and the tempo is fitted on either side.
    fermata_rests: tuple[float, ...] = ()

    #: How many clusters either side :meth:`hand_near` looks at for written notes.
    HAND_WINDOW = 4

    def in_free_tempo(self, beat: float) -> bool:
        """Whether ``beat`` lies where the score frees the tempo (:attr:`free_tempo`)."""
        return any(a - 1e-6 <= beat < b - 1e-6 for a, b in self.free_tempo)

    def free_tempo_bars(self) -> frozenset[int]:
        """The bars that begin, or mostly lie, where the score frees the tempo."""
        if not self.free_tempo:
            return frozenset()
        out = set()
        starts = self.bar_starts
        for i, bar in enumerate(self.bars):
            if i + 1 < len(starts):
                mid = 0.5 * (starts[i] + starts[i + 1])
                if self.in_free_tempo(starts[i]) or self.in_free_tempo(mid):
                    out.add(bar)
        return frozenset(out)

    def rolled_clusters(self) -> frozenset[int]:
        """The clusters with a note the score marks arpeggio (a rolled chord)."""
        return frozenset(n.cluster for n in self.notes if "arpeggio" in n.articulations)

    def fermata_clusters(self) -> frozenset[int]:
        """The clusters with a note under a fermata (``"fermata"`` in its articulations)."""
        return frozenset(n.cluster for n in self.notes if "fermata" in n.articulations)

    def bar_at(self, beat: float) -> int:
        """The bar (of :attr:`bars`) that ``beat`` lies in (the first or last one beyond them)."""
        i = bisect.bisect_right(self.bar_starts, beat + 1e-6) - 1 if self.bar_starts else 0
        return self.first_bar + max(0, min(self.n_bars - 1, i))

    def bar_name(self, bar: int) -> str:
        """How a student reads bar ``bar``: its written number, with "(2nd time)" (3rd, ...) when a
        repeat plays it again."""
        number, times = self._written(bar)
        if number == 0 and self.bar_numbers and times == 1:
            return "0 (the pickup)"
        return str(number) if times == 1 else f"{number} ({_ordinal(times)} time)"

    def bar_short(self, bar: int) -> str:
        """:meth:`bar_name` in a few characters, for a small label: a prime per repeat ("5′")."""
        number, times = self._written(bar)
        return f"{number}{'′' * (times - 1) if times <= 3 else f'×{times}'}"

    def bars_text(self, a: int, b: int) -> str:
        """"Bar 5" or "Bars 5–8", in written numbers ("Bars 1–4 (2nd time)" through a repeat)."""
        if a == b:
            return f"Bar {self.bar_name(a)}"
        (na, ta), (nb, tb) = self._written(a), self._written(b)
        if ta == tb and nb >= na:
            return f"Bars {na}–{nb}" + ("" if ta == 1 else f" ({_ordinal(ta)} time)")
        return f"Bars {self.bar_name(a)} to {self.bar_name(b)}"

    def _written(self, bar: int) -> tuple[int, int]:
        i = bar - self.first_bar
        if self.bar_numbers and 0 <= i < len(self.bar_numbers):
            return self.bar_numbers[i]
        return bar, 1

    @property
    def bars(self) -> range:
        """The bar numbers the reference spans (1-based, inclusive)."""
        return range(self.first_bar, self.first_bar + self.n_bars)

    @property
    def hands(self) -> tuple[str, ...]:
        present = {n.hand for n in self.notes}
        return tuple(h for h in HANDS if h in present)

    def hand_near(self, cluster: int, pitch: int) -> str:
        """The hand that most likely played ``pitch`` near ``cluster`` (an extra note's hand).

        With hands from a pitch split, the split decides. Otherwise the written note nearest in
        pitch among the cluster and :attr:`HAND_WINDOW` clusters either side gives its hand (one
        cluster away counts as half a semitone), so that a note struck below a right-hand run
        while the left hand rests goes to the right hand only when no left-hand note is near.

        Parameters
        ----------
        cluster : int
            Index into :attr:`clusters` (clipped to the score).
        pitch : int
            MIDI pitch of the played note.

        Returns
        -------
        str
            ``"right"`` or ``"left"``.
        """
        by_split = "right" if pitch >= self.split_pitch else "left"
        if self.hands_from.startswith("pitch") or not self.clusters:
            return by_split
        c = min(max(int(cluster), 0), len(self.clusters) - 1)
        lo, hi = max(0, c - self.HAND_WINDOW), min(len(self.clusters), c + self.HAND_WINDOW + 1)
        best = min(((abs(self.notes[i].pitch - pitch) + 0.5 * abs(j - c), self.notes[i].hand)
                    for j in range(lo, hi) for i in self.clusters[j].note_indices), default=None)
        return by_split if best is None else best[1]

    def strike_beats(self) -> dict[int, np.ndarray]:
        """The beats at which the score strikes each key: pitch -> sorted onset beats."""
        by_pitch: dict[int, list[float]] = {}
        for rn in self.notes:
            by_pitch.setdefault(rn.pitch, []).append(rn.onset_beat)
        return {p: np.unique(np.asarray(b, dtype=np.float64)) for p, b in by_pitch.items()}

    def chord_restruck(self, strike_beats: dict[int, np.ndarray], cluster: int, within_beats: float) -> bool:
        """Whether every key of ``cluster`` is struck again within ``within_beats`` (a trill's
        moment; see :func:`restruck_within`)."""
        cl = self.clusters[cluster]
        return all(restruck_within(strike_beats, self.notes[i].pitch, cl.beat, within_beats)
                   for i in cl.note_indices)


def restruck_within(strike_beats: dict[int, np.ndarray], pitch: int, beat: float,
                    within_beats: float) -> bool:
    """Whether the score strikes ``pitch`` again within ``within_beats`` of ``beat`` (either side).

    ``strike_beats`` is :meth:`Reference.strike_beats`. A trill, a tremolo, a fast repeated note:
    strikes closer than a transcriber tells apart.
    """
    b = strike_beats.get(pitch)
    if b is None or within_beats <= 0:
        return False
    d = np.abs(b - beat)
    return bool(np.any((d > 1e-6) & (d <= within_beats)))


#: Words that free the tempo from where they are written (a prefix of one of their words, any
#: case): ritardando, rallentando, ritenuto, allargando, accelerando, stringendo, smorzando,
#: morendo, calando, slentando, rubato, ad libitum, a piacere, colla voce / parte.
FREE_TEMPO_WORDS = ("rit", "rall", "allarg", "accel", "string", "smorz", "morend", "calando", "slent",
                    "rubato", "lib", "piacere", "colla")
#: Words that bring the written tempo back.
TEMPO_BACK_WORDS = ("a tempo", "tempo i", "tempo primo", "in tempo", "come prima", "tempo giusto")
#: A freed tempo that no word brings back lasts at most this many bars.
FREE_TEMPO_BARS = 4


def free_tempo_spans(score: Score) -> list[tuple[float, float]]:
    """Where the score's directions (``Score.directions``) free the tempo: from each word of
    :data:`FREE_TEMPO_WORDS` to the next word of :data:`TEMPO_BACK_WORDS`, the next metronome mark,
    or :data:`FREE_TEMPO_BARS` bars on, whichever comes first (beats)."""
    words = {d: re.findall(r"[^\W\d_]+", d.text.casefold()) for d in score.directions}
    back = {d for d, w in words.items() if any(b in " ".join(w) for b in TEMPO_BACK_WORDS)}
    ends = [d.beat for d in back] + [t.beat for t in score.tempos if t.beat > 0]
    spans: list[tuple[float, float]] = []
    for d in score.directions:
        if d in back or not any(w.startswith(FREE_TEMPO_WORDS) for w in words[d]):
            continue
        cap = d.beat + FREE_TEMPO_BARS * score.meter_at(d.beat).bar_beats
        end = min([b for b in ends if b > d.beat + 1e-6] + [cap, max(d.beat, float(score.end_beat))])
        if spans and d.beat <= spans[-1][1] + 1e-6:  # a rit. going on: one span
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((d.beat, end))
    return spans


def _pitched_tracks(score: Score) -> list[Track]:
    return [t for t in score.tracks if not t.is_drum and t.notes]


#: GM programs of keyboard instruments (pianos, electric pianos, harpsichord, clavinet).
PIANO_PROGRAMS = range(0, 8)


def piano_tracks(score: Score, part: str | None = None) -> list[Track]:
    """The tracks a pianist plays: the part named ``part`` (its track name, any case) where given;
    else, where the score has other instruments beside a keyboard part (a song's voice, a
    violin), the keyboard tracks only (GM programs 0-7 that are not a vocal line); else every
    pitched track.

    Raises
    ------
    ParameterError
        No part has the name ``part``.
    """
    tracks = _pitched_tracks(score)
    if part is not None:
        chosen = [t for t in tracks if t.name.casefold() == part.strip().casefold()]
        if not chosen:
            names = ", ".join(repr(t.name) for t in tracks) or "none"
            raise ParameterError(f"the score has no part named {part!r}; its parts with notes: {names}")
        return chosen
    keys = [t for t in tracks if t.program in PIANO_PROGRAMS and t.role != "vocal"]
    return keys if keys and len(keys) < len(tracks) else tracks


def _parse_bars(bars: tuple[int, int] | None, n_bars: int) -> tuple[int, int]:
    if bars is None:
        return 1, n_bars
    a, b = int(bars[0]), int(bars[1])
    if a < 1 or b < a:
        raise ParameterError(f"bars must be a range FIRST-LAST with 1 <= FIRST <= LAST, got {a}-{b}")
    if a > n_bars:
        raise ParameterError(f"bars {a}-{b}: the score has only {n_bars} bars")
    return a, min(b, n_bars)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def build_reference(score: Score, *, chord_tolerance_beats: float = 1 / 24, split_pitch: int = 60,
                    bars: tuple[int, int] | None = None,
                    measures: list[tuple[float, int]] | None = None, part: str | None = None) -> Reference:
    """Prepare a score for assessment.

    Parameters
    ----------
    score : Score
        MIDI or MusicXML score; drum tracks are ignored.
    chord_tolerance_beats : float
        Notes whose onsets lie closer than this (in beats) form one cluster.
    split_pitch : int
        Where the notes are split into hands when the score has no staves, no tracks named for
        the hands and not two tracks (notes >= it are the right hand's).
    bars : (int, int) or None
        Assess only these bars (1-based, inclusive; with ``measures``, their written numbers): a
        student practising a passage.
    measures : list of (float, int), optional
        Each measure's start beat and written number, where the file says them (a MusicXML
        score, :func:`yuefu.core.io.musicxml.read_musicxml_measures`; its repeats expanded,
        :func:`~yuefu.core.io.musicxml.read_musicxml_as_played`): the bars are its measures (a
        pickup measure shorter than its meter is a bar of its own) and are named by their
        numbers (:attr:`Reference.bar_numbers`). Without: bars follow the meter from beat 0.
    part : str, optional
        The part to judge, by its track name (:func:`piano_tracks`; default: the keyboard part of a
        score with other instruments, else every pitched track).

    Raises
    ------
    ScoreLoadError
        The score has no pitched notes (or none in ``bars``).
    """
    tracks = piano_tracks(score, part)
    if not tracks:
        raise ScoreLoadError("the score has no notes to compare with; give a score with a piano part")
    if not 0 < chord_tolerance_beats < 1:
        raise ParameterError(f"chord_tolerance_beats must be in (0, 1), got {chord_tolerance_beats}")
    tm = score.tempo_map
    hand_of, hands_from = _hand_source(tracks, split_pitch)
    raw = sorted(((n.onset, n.pitch, n.duration, n.velocity, t.name, hand_of(t, n), n.ornament, n.grace,
                   n.articulations)
                  for t in tracks for n in t.notes), key=lambda r: (r[0], r[1]))
    bar_of: Callable[[float], int] = score.bar_of  # 0-based
    if measures:
        m_beats = [b for b, _ in measures]

        def bar_of(beat: float) -> int:
            return max(0, bisect.bisect_right(m_beats, beat + 1e-6) - 1)

        first, last = _written_bars(bars, measures)
    else:
        first, last = _parse_bars(bars, score.bar_of(max(r[0] for r in raw)) + 1)
    raw = [r for r in raw if first <= bar_of(r[0]) + 1 <= last]
    if not raw:
        raise ScoreLoadError(f"the score has no notes in bars {first}-{last}")
    onsets = np.array([r[0] for r in raw])
    ends = np.array([r[0] + r[2] for r in raw])
    on_s = tm.to_seconds(onsets)
    dur_s = tm.to_seconds(ends) - on_s
    # group onsets into clusters: a new cluster when the gap to the cluster's first onset is large
    cluster_of = np.zeros(len(raw), dtype=np.int64)
    start = onsets[0]
    c = 0
    for i in range(1, len(raw)):
        if onsets[i] - start > chord_tolerance_beats:
            c += 1
            start = onsets[i]
        cluster_of[i] = c
    notes = [RefNote(i, int(r[1]), float(r[0]), float(r[2]), float(on_s[i]), float(dur_s[i]), int(r[3]),
                     r[4], r[5], bar_of(r[0]) + 1, int(cluster_of[i]), r[6], r[7], r[8])
             for i, r in enumerate(raw)]
    clusters = []
    first_of = [int(np.flatnonzero(cluster_of == ci)[0]) for ci in range(int(cluster_of[-1]) + 1)]
    cl_beats = np.array([onsets[i] for i in first_of])
    cl_spb = (tm.to_seconds(cl_beats + 1e-3) - tm.to_seconds(cl_beats)) / 1e-3
    for ci in range(int(cluster_of[-1]) + 1):
        idx = np.flatnonzero(cluster_of == ci)
        by_pitch: dict[int, list[int]] = {}
        for ni in idx.tolist():
            by_pitch.setdefault(notes[ni].pitch, []).append(ni)
        pitches = tuple(sorted(by_pitch))
        n0 = notes[int(idx[0])]
        clusters.append(Cluster(ci, n0.onset_beat, n0.onset_s, n0.bar, pitches,
                                tuple(tuple(by_pitch[p]) for p in pitches), float(cl_spb[ci])))
    beat_s = float(np.median(np.diff(tm.to_seconds(np.array([0.0, 1.0])))))
    starts = _bar_starts(score, first, last, measures)
    return Reference(tuple(notes), tuple(clusters), last - first + 1, first, hands_from, beat_s,
                     score.title, split_pitch, starts, _bar_numbers(starts[:-1], measures or []),
                     tuple(t.name for t in tracks), tuple(free_tempo_spans(score)),
                     _pedal_spans(tracks, starts[0], starts[-1]),
                     tuple(b for b in score.fermatas if starts[0] <= b < starts[-1]))


def _pedal_spans(tracks: list[Track], start: float, end: float) -> tuple[tuple[float, float], ...]:
    """The pedal marks of the judged tracks within ``[start, end)`` beats, all tracks together (a
    piano's two tracks may each carry some of them, or both the same): marks that overlap are
    one span; a change (one ending where the next begins) stays."""
    out: list[tuple[float, float]] = []
    for p in sorted((p for t in tracks for p in t.pedals), key=lambda p: (p.onset, p.end)):
        a, b = max(start, p.onset), min(end, p.end)
        if b <= a + 1e-6:
            continue
        if out and a < out[-1][1] - 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _bar_numbers(starts: tuple[float, ...], measures: list[tuple[float, int]]) -> tuple[tuple[int, int], ...]:
    """(written number, pass) of each bar starting at ``starts``: the last measure of ``measures``
    (start beat, number) that starts by then; empty without measures."""
    if not measures:
        return ()
    beats = [b for b, _ in measures]
    seen: dict[int, int] = {}
    passes = []
    for _, number in measures:
        seen[number] = seen.get(number, 0) + 1
        passes.append(seen[number])
    out = []
    for s in starts:
        i = max(0, bisect.bisect_right(beats, s + 1e-6) - 1)
        out.append((measures[i][1], passes[i]))
    return tuple(out)


def _written_bars(bars: tuple[int, int] | None, measures: list[tuple[float, int]]) -> tuple[int, int]:
    """The bars (1-based, in order) of the measures written ``bars[0]``..``bars[1]`` (all: None)."""
    if bars is None:
        return 1, len(measures)
    a, b = int(bars[0]), int(bars[1])
    numbers = [n for _, n in measures]
    if b < a:
        raise ParameterError(f"bars must be a range FIRST-LAST with FIRST <= LAST, got {a}-{b}")
    inside = [i for i, n in enumerate(numbers) if a <= n <= b]
    if not inside:
        raise ParameterError(f"bars {a}-{b}: the score's bars are numbered {min(numbers)}-{max(numbers)}")
    return inside[0] + 1, inside[-1] + 1


def _bar_starts(score: Score, first: int, last: int, measures: list[tuple[float, int]] | None = None
                ) -> tuple[float, ...]:
    """Start beats of bars ``first``..``last + 1`` (1-based): the measures' starts where given,
    else the score's barlines, meters included."""
    if measures:
        beats = [float(b) for b, _ in measures]
        if last < len(beats):
            end = beats[last]
        else:
            end = max(beats[-1] + score.meter_at(beats[-1]).bar_beats, float(score.end_beat))
        return tuple(beats[first - 1:last]) + (end,)
    lines = [float(b) for b in score.bar_lines()]
    meters = sorted(score.time_signatures, key=lambda m: m.beat)
    bar_len = meters[-1].bar_beats if meters else 4.0
    while len(lines) < last + 1:
        lines.append(lines[-1] + bar_len)
    return tuple(lines[first - 1:last + 1])


_RIGHT_WORDS = frozenset({"rh", "right", "treble", "upper", "rechts", "droite", "destra"})
_LEFT_WORDS = frozenset({"lh", "left", "bass", "lower", "links", "gauche", "sinistra"})


def hand_of_name(name: str) -> str | None:
    """The hand a track's name gives it, or None when it names neither (or both).

    >>> [hand_of_name(n) for n in ("Piano RH", "Klavier (L.H.)", "右手", "treble", "Piano", "")]
    ['right', 'left', 'right', 'right', None, None]
    """
    low = name.lower().replace(".", "")
    words = set(re.split(r"[^0-9a-z]+", low))
    right = bool(words & _RIGHT_WORDS) or "右手" in low
    left = bool(words & _LEFT_WORDS) or "左手" in low
    return "right" if right and not left else "left" if left and not right else None


def _hand_source(tracks: list[Track], split_pitch: int) -> tuple[Callable[[Track, Note], str], str]:
    """How the notes of ``tracks`` (pitched, with notes) get their hands, and its name."""
    split_name = f"pitch (split at {split_pitch})"

    def by_pitch(t: Track, n: Note) -> str:
        return "right" if n.pitch >= split_pitch else "left"

    with_staves = {t.name for t in tracks if any(n.staff is not None for n in t.notes)}
    if with_staves:
        def by_staff(t: Track, n: Note) -> str:
            if t.name not in with_staves:
                return by_pitch(t, n)
            # a note of a part with staves that has none (not from a reader): by the split
            return by_pitch(t, n) if n.staff is None else "right" if n.staff == 1 else "left"

        mixed = len(with_staves) < len(tracks)
        return by_staff, "staves" + (f" + {split_name}" if mixed else "")
    named = {t.name: hand_of_name(t.name) for t in tracks}
    if None not in named.values() and set(named.values()) == set(HANDS):
        return (lambda t, n: str(named[t.name])), "track names"
    if len(tracks) == 2:
        means = [float(np.mean([n.pitch for n in t.notes])) for t in tracks]
        right = tracks[int(np.argmax(means))].name
        return (lambda t, n: "right" if t.name == right else "left"), "tracks"
    return by_pitch, split_name

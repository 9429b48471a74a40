"""A played performance: note events in seconds, from MIDI, a transcription or a live stream.

:func:`load_performance` reads a MIDI file (a digital piano's recording) or an already
transcribed score (MusicXML), and audio (WAV, MP3, FLAC, OGG) through the piano transcriber
:func:`yuefu.listen.transcribe.transcribe_piano`, imported only when audio is given.

>>> p = Performance.from_notes([(60, 0.0, 0.4, 80), (64, 0.5, 0.9, 70)])
>>> len(p), float(p.onset_s[1])
(2, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError, ParameterError, ScoreLoadError
from yuefu.core.files import check_input
from yuefu.core.score import Score
from yuefu.teach.errors import PerformanceError

__all__ = ["UNISON_S", "TRANSCRIBERS", "Candidates", "Performance", "load_performance",
           "performance_from_score", "performance_from_transcription"]

#: Same-pitch notes of a score file starting closer than this (seconds) are one key press.
UNISON_S = 0.002


@dataclass(frozen=True, eq=False)
class Candidates:
    """What a transcriber heard beyond the notes it kept: the evidence for a score-informed judge.

    Parameters
    ----------
    pitch : np.ndarray [shape=(m,), int]
        MIDI pitch of every candidate note (onset peaks of the note model, accepted or not).
    onset_s, offset_s : np.ndarray [shape=(m,), float]
        Seconds from the start of the recording.
    velocity : np.ndarray [shape=(m,), int]
        Estimated MIDI velocity 1..127.
    probability : np.ndarray [shape=(m,), float]
        The note verifier's probability that the candidate is a struck key (0..1).
    threshold : float
        The transcriber's own acceptance threshold (its played notes are the candidates at or above).
    onset_post, note_post : np.ndarray [shape=(T, 88), float16] or None
        The note model's onset and key posteriors (row g at ``g * frame_s`` s, column k is pitch
        21 + k), when kept.
    frame_s : float
        Seconds per posterior frame.
    informed : bool
        Whether ``probability`` already knows the score (weighed again by
        :func:`yuefu.teach.rescore.rescore`, the score's prior included) rather than the
        transcriber's verifier's, which knows nothing of the piece.
    """

    pitch: np.ndarray
    onset_s: np.ndarray
    offset_s: np.ndarray
    velocity: np.ndarray
    probability: np.ndarray
    threshold: float = 0.5
    onset_post: np.ndarray | None = None
    note_post: np.ndarray | None = None
    frame_s: float = 256 / 22050
    informed: bool = False

    def __len__(self) -> int:
        return int(self.pitch.shape[0])


@dataclass(frozen=True)
class Performance:
    """Played notes, sorted by onset then pitch.

    Parameters
    ----------
    pitch : np.ndarray [shape=(n,), int]
        MIDI pitches.
    onset_s, offset_s : np.ndarray [shape=(n,), float]
        Key-down and key-up times in seconds from the start of the recording.
    velocity : np.ndarray [shape=(n,), int]
        MIDI velocities 1..127.
    source : str
        Where it came from (a file name, ``"stream"``), for messages.
    transcribed : bool
        Transcribed from audio (its notes may hold a transcription's artefacts: partials taken for
        notes, held notes split); the verdicts then allow for them (``VerdictConfig.audio``).
    candidates : Candidates or None
        For a transcription: every candidate note the transcriber weighed, with its probability
        (the played notes are those it accepted), so that :func:`yuefu.teach.assess` can ask again
        knowing the score.
    sounding_s : np.ndarray [shape=(n,), float] or None
        When each note stopped sounding: its key's release, or later where the sustain pedal held
        it (until the pedal came up or its key was struck again; :func:`with_pedal`). None: no
        pedal was recorded (the key releases are all there is).
    pedal_s : tuple of (float, float) or None
        The sustain pedal's ``(down_s, up_s)`` spans as recorded: () when it was never pressed
        (a MIDI file without controller 64), None when the performance cannot say (a recording,
        notes given without it). The score's pedal marks are judged against it
        (:mod:`yuefu.teach.pedal`).
    """

    pitch: np.ndarray
    onset_s: np.ndarray
    offset_s: np.ndarray
    velocity: np.ndarray
    source: str = ""
    transcribed: bool = False
    candidates: Candidates | None = field(default=None, compare=False, repr=False)
    sounding_s: np.ndarray | None = field(default=None, compare=False, repr=False)
    pedal_s: tuple[tuple[float, float], ...] | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return int(self.pitch.shape[0])

    def candidate_index(self) -> np.ndarray:
        """For each played note, the index of its candidate in :attr:`candidates` (the same pitch
        and onset; -1 where none, or without candidates)."""
        c = self.candidates
        if c is None:
            return np.full(len(self), -1, dtype=np.int64)
        key = {(int(p), round(float(t), 6)): i
               for i, (p, t) in enumerate(zip(c.pitch, c.onset_s, strict=True))}
        return np.array([key.get((int(p), round(float(t), 6)), -1)
                         for p, t in zip(self.pitch, self.onset_s, strict=True)], dtype=np.int64)

    @classmethod
    def from_notes(cls, notes: Iterable[tuple[int, float, float, int]], *,
                   source: str = "") -> Performance:
        """From ``(pitch, onset_s, offset_s, velocity)`` tuples, in any order (kept as given)."""
        rows = sorted(((int(p), float(a), float(b), int(v)) for p, a, b, v in notes),
                      key=lambda r: (r[1], r[0]))
        for p, a, b, v in rows:
            if not 0 <= p <= 127 or not np.isfinite(a) or not np.isfinite(b) or a < 0:
                raise ParameterError(f"{source or 'performance'}: invalid note (pitch {p}, onset {a} s)")
            del v
        arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
        off = np.maximum(arr[:, 2], arr[:, 1] + 1e-3)
        return cls(arr[:, 0].astype(np.int64), arr[:, 1].copy(), off,
                   np.clip(arr[:, 3], 1, 127).astype(np.int64), source)


def with_pedal(perf: Performance, pedals: Iterable[tuple[float, float]]) -> Performance:
    """``perf`` with :attr:`Performance.sounding_s` set from the sustain pedal's ``(down_s, up_s)``
    intervals: a key released while the pedal is down sounds on until the pedal comes up, or until
    the same key is struck again, whichever comes first.

    >>> p = Performance.from_notes([(60, 0.0, 0.2, 80), (62, 0.5, 0.6, 80), (60, 0.8, 1.0, 80)])
    >>> with_pedal(p, [(0.1, 1.5)]).sounding_s.round(2).tolist()
    [0.8, 1.5, 1.5]
    """
    iv = sorted((float(a), float(b)) for a, b in pedals if b > a)
    sound = perf.offset_s.copy()
    if not iv or not len(perf):
        return replace(perf, sounding_s=sound if iv else None, pedal_s=tuple(iv))
    downs = np.array([a for a, _ in iv])
    ups = np.array([b for _, b in iv])
    j = np.searchsorted(downs, perf.offset_s, side="right") - 1
    held = (j >= 0) & (perf.offset_s < ups[np.clip(j, 0, None)])
    sound = np.where(held, np.maximum(sound, ups[np.clip(j, 0, None)]), sound)
    # the key struck again cuts its sound
    for p in np.unique(perf.pitch):
        idx = np.flatnonzero(perf.pitch == p)
        if len(idx) > 1:
            nxt = perf.onset_s[idx[1:]]
            sound[idx[:-1]] = np.minimum(sound[idx[:-1]], np.maximum(nxt, perf.offset_s[idx[:-1]]))
    return replace(perf, sounding_s=sound, pedal_s=tuple(iv))


def midi_pedals(path: str | Path) -> list[tuple[float, float]]:
    """The sustain pedal's ``(down_s, up_s)`` intervals in a MIDI file, all tracks together
    (symusic reads them from controller 64); [] when it has none or cannot say."""
    import symusic

    try:
        sc = symusic.Score(str(path), ttype="second")
    except Exception:  # noqa: BLE001 -- the notes were read; without pedals the key releases stand
        return []
    return [(float(pd.time), float(pd.time + pd.duration)) for t in sc.tracks for pd in t.pedals]


def performance_from_score(score: Score, *, source: str = "") -> Performance:
    """The notes of every pitched track of ``score`` as a performance, timed by its tempo map.

    A key sounds once at a time: notes of the same pitch that start within :data:`UNISON_S`
    of each other (in different tracks or staves: a score whose two hands share a note) are one
    key press, with the latest release and the strongest velocity. A piano cannot play them
    twice, and a digital piano's MIDI never holds them.

    >>> from yuefu.core import Note, Score, Track
    >>> s = Score()
    >>> s.add_track(Track("rh")).notes.append(Note(62, 0.0, 1.0, 80))
    >>> s.add_track(Track("lh")).notes += [Note(62, 0.0, 2.0, 95), Note(50, 0.0, 2.0, 70)]
    >>> len(performance_from_score(s))
    2
    """
    tm = score.tempo_map
    rows: list[tuple[int, float, float, int]] = []
    for t in score.tracks:
        if t.is_drum or not t.notes:
            continue
        on = tm.to_seconds(np.array([n.onset for n in t.notes]))
        off = tm.to_seconds(np.array([n.end for n in t.notes]))
        rows += [(n.pitch, float(a), float(b), n.velocity) for n, a, b in zip(t.notes, on, off, strict=True)]
    rows.sort(key=lambda r: (r[1], r[0]))
    merged: list[tuple[int, float, float, int]] = []
    last: dict[int, int] = {}  # pitch -> index in merged of its latest key press
    for p, a, b, v in rows:
        i = last.get(p)
        if i is not None and a - merged[i][1] < UNISON_S:
            q = merged[i]
            merged[i] = (p, q[1], max(q[2], b), max(q[3], v))
            continue
        last[p] = len(merged)
        merged.append((p, a, b, v))
    return Performance.from_notes(merged, source=source or score.title)


def performance_from_transcription(tr: Any, *, source: str = "") -> Performance:
    """A transcribed performance: the transcriber's accepted notes, with every candidate kept.

    Parameters
    ----------
    tr : yuefu.listen.transcribe.Transcription
        What :func:`yuefu.listen.transcribe.transcribe` returned.
    source : str
        Where it came from, for messages.
    """
    rows = tr.rows()
    cands = Candidates(rows[:, 0].astype(np.int64), rows[:, 1].copy(), rows[:, 2].copy(),
                       rows[:, 3].astype(np.int64), rows[:, 4].copy(), float(tr.threshold),
                       tr.onset, tr.note, float(tr.frame_s))
    acc = rows[rows[:, 4] >= tr.threshold]
    perf = Performance.from_notes([(int(r[0]), float(r[1]), float(r[2]), int(r[3])) for r in acc],
                                  source=source)
    return replace(perf, transcribed=True, candidates=cands)


#: The piano transcribers a recording can be read with (:func:`load_performance`).
TRANSCRIBERS = ("basic-pitch", "transkun")


def load_performance(path: str | Path, *, transcriber: str = "basic-pitch", **transcribe_kwargs: Any
                     ) -> Performance:
    """Read a performance: MIDI or MusicXML as played notes, audio through a piano transcriber.

    Parameters
    ----------
    path : str or Path
        ``.mid``/``.midi`` (a digital piano's recording), ``.musicxml`` (already transcribed),
        or ``.wav``/``.mp3``/``.flac``/``.ogg`` (a recording, transcribed to notes).
    transcriber : {"basic-pitch", "transkun"}
        For audio. ``"basic-pitch"`` (fast, about 30x real time on one core): basic-pitch's
        network with yuefu's piano decoder (:func:`yuefu.listen.transcribe.transcribe`); it keeps
        every candidate note and the model's posteriors (:class:`Candidates`) for the
        score-informed judgement of :func:`yuefu.teach.assess`. ``"transkun"`` (accurate, about
        1.2x real time): a piano model trained on real pianos
        (:func:`yuefu.listen.transcribe.transkun.transcribe_transkun`); its notes are taken as
        they are.
    **transcribe_kwargs
        Passed to the transcriber for audio (basic-pitch: ``settings``, ``threads``,
        ``progress``; transkun: ``threads``, ``progress``).

    Raises
    ------
    ScoreLoadError
        An unknown file type, or a MIDI/MusicXML file that cannot be read.
    MissingDependencyError
        Audio was given and the transcriber is not available in this installation.
    ParameterError
        An unknown ``transcriber``.
    PerformanceError
        The performance holds no notes (silence).
    """
    if transcriber not in TRANSCRIBERS:
        raise ParameterError(f"unknown transcriber {transcriber!r}; choose one of {', '.join(TRANSCRIBERS)}")
    from yuefu.core.io import AUDIO_READ_EXTS, SCORE_EXTS, is_audio_path, is_score_path, load_score

    p = check_input(path, what="performance file", error=ScoreLoadError)
    if is_score_path(p):
        score = load_score(p)
        perf = performance_from_score(score, source=str(p))
        if p.suffix.lower() in (".mid", ".midi"):
            # a digital piano records the sustain pedal: a note it holds is not cut short, and
            # the score's pedal marks are judged against it (none recorded: never pressed)
            perf = with_pedal(perf, midi_pedals(p))
    elif is_audio_path(p):
        try:
            from yuefu.listen.transcribe import check_heard, transcribe
        except ImportError:
            raise MissingDependencyError(
                f"{p}: assessing an audio recording needs the piano transcriber "
                "(yuefu.listen.transcribe), which this installation lacks; give the performance "
                "as MIDI from a digital piano instead") from None
        if transcriber == "transkun":
            from yuefu.listen.transcribe import check_level
            from yuefu.listen.transcribe.transkun import transcribe_transkun

            tk = transcribe_transkun(p, **transcribe_kwargs)
            check_level(tk.peak, len(tk.notes), p)
            perf = replace(Performance.from_notes(tk.notes, source=str(p)), transcribed=True)
        else:
            tr = transcribe(p, **transcribe_kwargs)
            check_heard(tr, p)
            perf = performance_from_transcription(tr, source=str(p))
    else:
        raise ScoreLoadError(
            f"{p}: unknown performance file type {p.suffix or '(no extension)'!r}; give MIDI "
            f"({', '.join(SCORE_EXTS)}) or audio ({', '.join(AUDIO_READ_EXTS)})")
    if len(perf) == 0:
        raise PerformanceError(f"{p}: the performance holds no notes (silence?); "
                               "record the piece again and check that the piano was heard")
    return perf

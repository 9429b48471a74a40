"""``transcribe_piano``: a piano recording (WAV, MP3, ... or :class:`Audio`) -> a :class:`Score`.

>>> from yuefu.listen.transcribe import transcribe_piano
>>> score = transcribe_piano("etude.mp3")                       # doctest: +SKIP
>>> [(n.pitch, n.onset, n.velocity) for n in score.track("piano").notes][:2]  # doctest: +SKIP
[(60, 0.0, 72), (64, 1.0, 70)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError, YuefuError
from yuefu.core.score import Note, Score, Tempo, Track
from yuefu.listen.transcribe.decode import (
    VERIFIER_WEIGHTS,
    DecodeSettings,
    RawNote,
    candidates,
    decode_segment,
)
from yuefu.listen.transcribe.frontend import frames
from yuefu.listen.transcribe.model import HOP_SAMPLES, MODEL_SR, get_model

__all__ = [
    "TEMPO_BPM",
    "MIN_DURATION_S",
    "NoNotesError",
    "TranscribeSettings",
    "BASIC_PITCH_DEFAULTS",
    "MAX_NOTE_S",
    "Transcription",
    "check_heard",
    "transcribe",
    "transcribe_notes",
    "transcribe_piano",
    "velocity_from_energy",
]

#: The tempo of the returned score: beats are simply 2 x seconds (no beat tracking).
TEMPO_BPM = 120.0
#: Shorter input is refused: no piano note is transcribed reliably from less.
MIN_DURATION_S = 0.5
#: Below this peak level (dBFS) a recording is called silent.
SILENCE_DBFS = -60.0

_FRAME_S = HOP_SAMPLES / MODEL_SR
#: Frames to subtract from the refined onset peak. The median onset error of matched notes is
#: -1.2 ms (8,963 notes, tuning split, clean; benchmarks/transcribe.py), a tenth of a frame, so
#: no correction is applied.
ONSET_LAG_FRAMES = 0.0
# velocity = VEL_OFFSET + VEL_PER_DB * (key energy in dB full scale): least-squares lines fitted
# by benchmarks/transcribe.py on the tuning split (POP909, clean) were 131.6 + 1.82 dB (FluidR3
# Acoustic Grand) and 135.1 + 2.69 dB (Electric Piano 1); this is the line between them
VEL_OFFSET = 133.0
VEL_PER_DB = 2.2


class NoNotesError(YuefuError, ValueError):
    """The recording holds no piano note that could be heard (silence, noise, or not a piano)."""


@dataclass(frozen=True)
class TranscribeSettings:
    """How notes are picked from the model's posteriorgrams (defaults: tuned on rendered piano).

    Parameters
    ----------
    onset_threshold : float
        A key's onset posterior must peak at least this high (0..1) to start a note.
    frame_threshold : float
        A note lasts while its key's note posterior stays at or above this (0..1).
    min_note_s : float
        Shorter notes are dropped (seconds).
    energy_tol_s : float
        A note ends once its posterior has been below ``frame_threshold`` this long (seconds).
    infer_onsets : bool
        Also start notes where the note posterior jumps (basic-pitch's default; off for piano).
    melodia : bool
        Also make notes from sustained energy without an onset (basic-pitch's "melodia trick";
        off for piano).
    merge_s : float
        Two onsets of one key closer than this are one note (0: never merge).
    verify_threshold : float
        Keep a candidate note only if the note verifier (a logistic model of its onset peak,
        posterior, length, loudness against simultaneous notes and its octave/twelfth
        relations to them; :func:`yuefu.listen.transcribe.decode.verify`) gives it at least
        this probability of being a struck key (0: keep every candidate).
    min_pitch, max_pitch : int
        MIDI pitch range kept (the piano: 21 = A0 .. 108 = C8).
    refine_onsets : bool
        Place onsets between frames (parabola through the onset peak).
    velocity_from : str
        ``"energy"``: from the key's harmonic energy at the onset (louder playing, higher
        velocity); ``"model"``: basic-pitch's 127 x mean note posterior.
    """

    onset_threshold: float = 0.3
    frame_threshold: float = 0.3
    min_note_s: float = 0.0
    energy_tol_s: float = 0.08
    infer_onsets: bool = False
    melodia: bool = False
    merge_s: float = 0.08
    verify_threshold: float = 0.5
    min_pitch: int = 21
    max_pitch: int = 108
    refine_onsets: bool = True
    velocity_from: str = "energy"

    def __post_init__(self) -> None:
        for name in ("onset_threshold", "frame_threshold"):
            v = getattr(self, name)
            if not 0.0 < v < 1.0:
                raise ParameterError(f"TranscribeSettings.{name} must be in (0, 1), got {v}")
        for name in ("min_note_s", "energy_tol_s", "merge_s"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ParameterError(f"TranscribeSettings.{name} must be >= 0, got {v}")
        if not 21 <= self.min_pitch <= self.max_pitch <= 108:
            raise ParameterError(
                f"TranscribeSettings pitch range must lie in 21..108 (A0..C8), got "
                f"{self.min_pitch}..{self.max_pitch}"
            )
        if not 0.0 <= self.verify_threshold < 1.0:
            raise ParameterError(
                f"TranscribeSettings.verify_threshold must be in [0, 1), got {self.verify_threshold}"
            )
        if self.velocity_from not in ("energy", "model"):
            raise ParameterError(
                f"TranscribeSettings.velocity_from must be 'energy' or 'model', got {self.velocity_from!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscribeSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(
                f"unknown transcription setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
            )
        return cls(**data)

    def decode_settings(self) -> DecodeSettings:
        """The same settings in frames, for :mod:`.decode`."""
        return DecodeSettings(
            onset_threshold=self.onset_threshold,
            frame_threshold=self.frame_threshold,
            min_note_frames=max(1, int(round(self.min_note_s / _FRAME_S))),
            energy_tol_frames=max(1, int(round(self.energy_tol_s / _FRAME_S))),
            infer_onsets=self.infer_onsets,
            melodia=self.melodia,
            merge_frames=self.merge_s / _FRAME_S,
            verify_threshold=self.verify_threshold,
            verifier_weights=VERIFIER_WEIGHTS,
            min_pitch=self.min_pitch,
            max_pitch=self.max_pitch,
            refine_onsets=self.refine_onsets,
        )


#: basic-pitch 0.4.0's own defaults (onset 0.5, frame 0.3, 127.7 ms minimum, onsets inferred
#: from frame jumps, melodia trick on), for comparison; :class:`TranscribeSettings` () is tuned.
BASIC_PITCH_DEFAULTS = TranscribeSettings(
    onset_threshold=0.5, frame_threshold=0.3, min_note_s=0.1277, energy_tol_s=11 * _FRAME_S,
    infer_onsets=True, melodia=True, merge_s=0.0, refine_onsets=False, velocity_from="model",
    verify_threshold=0.0,
)


def velocity_from_energy(energy: float | np.ndarray) -> np.ndarray:
    """MIDI velocity (1..127) from a key's harmonic power (full-scale sine = 1)."""
    db = 10.0 * np.log10(np.asarray(energy, dtype=np.float64) + 1e-12)
    return np.clip(np.round(VEL_OFFSET + VEL_PER_DB * db), 1, 127).astype(int)


# segments of decoding: onsets of SEGMENT frames at a time, with LOOKAHEAD frames after them in
# memory so that notes can end there (a note longer than LOOKAHEAD is cut at it)
_SEGMENT_FRAMES = int(round(30.0 / _FRAME_S))
_LOOKAHEAD_FRAMES = int(round(10.0 / _FRAME_S))
_BACK_FRAMES = 4
#: The longest note the chunked decoder can return (seconds).
MAX_NOTE_S = _LOOKAHEAD_FRAMES * _FRAME_S


def _source_duration(source: str | Path | Audio) -> tuple[float, str]:
    if isinstance(source, Audio):
        if not source.is_finite():
            raise ParameterError("the audio to transcribe contains NaN/Inf samples")
        return source.duration_s, "the audio"
    if isinstance(source, str | Path):
        from yuefu.core.io.audio import audio_info

        return audio_info(source).duration_s, str(source)
    raise ParameterError(
        f"transcribe_piano needs a path to an audio file or a yuefu.core.Audio, got {type(source).__name__}"
    )


@dataclass(frozen=True)
class Transcription:
    """A transcription with what a score-informed judge needs: the rejected candidates too.

    Attributes
    ----------
    candidates : list of RawNote
        Every candidate note the decoder found (onset peaks above ``onset_threshold``, re-triggers
        merged), sorted by onset then pitch; times in frames (``frame_s`` seconds each).
    probability : np.ndarray [shape=(len(candidates),)]
        The note verifier's probability that each candidate is a struck key (0..1).
    threshold : float
        ``TranscribeSettings.verify_threshold``: the candidates at or above it are :attr:`notes`.
    onset, note : np.ndarray [shape=(T, 88), dtype=float16] or None
        The model's onset and key posteriors per frame (row g at ``g * frame_s`` seconds; column
        k is MIDI pitch 21 + k), when kept (``keep_posteriors=True``).
    frame_s : float
        Seconds per frame (256 / 22,050).
    stats : dict
        ``sr``, ``n_samples`` (at 22,050 Hz) and ``peak`` of the source.
    velocity_from : str
        ``TranscribeSettings.velocity_from``: how :meth:`rows` estimates velocities.
    """

    candidates: list[RawNote]
    probability: np.ndarray
    threshold: float
    onset: np.ndarray | None = None
    note: np.ndarray | None = None
    frame_s: float = _FRAME_S
    stats: dict[str, float] | None = None
    velocity_from: str = "energy"

    @property
    def notes(self) -> list[RawNote]:
        """The accepted notes (what :func:`transcribe_notes` returns)."""
        return [n for n, q in zip(self.candidates, self.probability, strict=True) if q >= self.threshold]

    def rows(self, *, accepted_only: bool = False) -> np.ndarray:
        """Candidates as seconds: ``(pitch, onset_s, offset_s, velocity, probability)`` rows.

        Returns
        -------
        np.ndarray [shape=(n, 5), dtype=float64]
            Times as :func:`transcribe_piano` gives them; velocity from the key energy.
        """
        keep = self.probability >= self.threshold if accepted_only else np.ones(len(self.candidates), bool)
        raw = [n for n, k in zip(self.candidates, keep, strict=True) if k]
        if not raw:
            return np.zeros((0, 5))
        end_s = (self.stats or {}).get("n_samples", 0.0) / MODEL_SR
        if self.velocity_from == "energy":
            vel = velocity_from_energy(np.array([n.energy for n in raw]))
        else:
            vel = np.clip(np.round(127 * np.array([n.amplitude for n in raw])), 1, 127).astype(int)
        on = np.maximum(0.0, (np.array([n.onset for n in raw]) - ONSET_LAG_FRAMES) * self.frame_s)
        off = np.array([n.end for n in raw]) * self.frame_s
        off = np.minimum(np.maximum(off, on + self.frame_s), np.maximum(end_s, on + self.frame_s))
        return np.stack([[n.pitch for n in raw], on, off, vel, self.probability[keep]], axis=1).astype(float)


def transcribe(
    source: str | Path | Audio,
    *,
    settings: TranscribeSettings | None = None,
    threads: int = 1,
    progress: Callable[[float, str], None] | None = None,
    keep_posteriors: bool = True,
) -> Transcription:
    """Transcribe and keep the evidence: every candidate note, its probability, the posteriors.

    The accepted notes (:attr:`Transcription.notes`) are those of :func:`transcribe_notes`; the
    rest lets a judge that knows the score ask again (``yuefu.teach``: a written note whose
    candidate fell just short, a partial the verifier let through). Kept posteriors take
    2 x 88 x 2 bytes per frame (about 30 KB a second, 18 MB for 10 minutes).

    Raises
    ------
    ParameterError
        As :func:`transcribe_piano` (a bad source or setting, too short).
    """
    cfg = settings or TranscribeSettings()
    stats: dict[str, float] = {}
    kept: dict[str, list[np.ndarray]] | None = {"onset": [], "note": []} if keep_posteriors else None
    raw = _decode(source, cfg, threads=threads, progress=progress, stats=stats, kept=kept)
    cands, prob = candidates(raw, cfg.decode_settings())
    post: dict[str, np.ndarray | None] = {"onset": None, "note": None}
    if kept is not None:
        n_frames = int(stats.get("n_samples", 0)) // HOP_SAMPLES + 1
        for k, v in kept.items():
            post[k] = (np.concatenate(v) if v else np.zeros((0, 88), np.float16))[:n_frames]
    return Transcription(cands, prob, cfg.verify_threshold, post["onset"], post["note"], _FRAME_S, stats,
                         cfg.velocity_from)


def transcribe_notes(
    source: str | Path | Audio,
    *,
    settings: TranscribeSettings | None = None,
    threads: int = 1,
    progress: Callable[[float, str], None] | None = None,
    stats: dict[str, float] | None = None,
) -> list[RawNote]:
    """The decoded notes in frames (what :func:`transcribe_piano` turns into a Score).

    Reads the source in chunks: the model sees 2-s windows, notes are decoded 30 s at a time,
    so memory does not grow with the length of the recording (only the note list does).
    """
    cfg = settings or TranscribeSettings()
    cands, prob = candidates(_decode(source, cfg, threads=threads, progress=progress, stats=stats),
                             cfg.decode_settings())
    return [n for n, q in zip(cands, prob, strict=True) if q >= cfg.verify_threshold]


def _decode(
    source: str | Path | Audio,
    cfg: TranscribeSettings,
    *,
    threads: int,
    progress: Callable[[float, str], None] | None,
    stats: dict[str, float] | None,
    kept: dict[str, list[np.ndarray]] | None = None,
) -> list[RawNote]:
    """Every candidate note (unsorted, before merging and verifying), decoded in chunks."""
    dec = cfg.decode_settings()
    duration_s, what = _source_duration(source)
    if duration_s < MIN_DURATION_S:
        raise ParameterError(
            f"{what} is {duration_s:.2f} s long; piano transcription needs at least "
            f"{MIN_DURATION_S} s of audio"
        )
    model = get_model(threads)
    st: dict[str, float] = stats if stats is not None else {}

    def tick(done_s: float) -> None:
        if progress is not None:
            progress(min(1.0, done_s / max(duration_s, 1e-9)), "transcribing")

    bufs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "energy": [], "fund": []}
    buf_start = 0
    buf_len = 0
    done = 0
    notes: list[RawNote] = []

    def decode(stop: int, final: bool) -> None:
        nonlocal buf_start, buf_len, done
        arrs = {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in bufs.items()}
        hi = buf_start + buf_len if final else done + _SEGMENT_FRAMES
        notes.extend(decode_segment(arrs["note"], arrs["onset"], arrs["energy"], arrs["fund"], dec,
                                    first=buf_start, onset_lo=done, onset_hi=hi))
        done = hi
        cut = max(0, done - _BACK_FRAMES - buf_start)
        for k in bufs:
            bufs[k] = [arrs[k][cut:]]
        buf_start += cut
        buf_len -= cut

    for blk in frames(source, model, progress=tick, stats=st):
        for k in bufs:
            bufs[k].append(getattr(blk, k))
        if kept is not None:
            for k in kept:
                kept[k].append(getattr(blk, k).astype(np.float16))
        buf_len += len(blk.note)
        while buf_start + buf_len >= done + _SEGMENT_FRAMES + _LOOKAHEAD_FRAMES:
            decode(done + _SEGMENT_FRAMES, final=False)
    n_frames = int(st.get("n_samples", 0)) // HOP_SAMPLES + 1
    if buf_len:
        # frames past the end of the audio (the last window's zero padding) are dropped
        extra = max(0, buf_start + buf_len - n_frames)
        if extra:
            for k in bufs:
                arr = np.concatenate(bufs[k])
                bufs[k] = [arr[: len(arr) - extra]]
            buf_len -= extra
        if buf_len > 0:
            decode(buf_start + buf_len, final=True)
    return notes


def check_heard(tr: Transcription, source: str | Path | Audio) -> list[RawNote]:
    """The accepted notes of ``tr``, or :class:`NoNotesError` for a silent or note-less recording."""
    check_level(float((tr.stats or {}).get("peak", 0.0)), len(tr.notes), source)
    return tr.notes


def check_level(peak: float, n_notes: int, source: str | Path | Audio) -> None:
    """:class:`NoNotesError` when a recording peaking at ``peak`` (full scale 1) is silent, or when
    a transcriber heard no note (``n_notes`` 0) in it: the one message of every transcriber."""
    what = str(source) if not isinstance(source, Audio) else "the audio"
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_db < SILENCE_DBFS:
        raise NoNotesError(
            f"{what}: no notes heard; the recording is silent (peak {peak_db:.0f} dBFS). "
            "Check that the microphone is on and the input level is up"
        )
    if not n_notes:
        raise NoNotesError(
            f"{what}: no notes heard; there is sound (peak {peak_db:.0f} dBFS) but no piano note "
            "could be found in it. Record the piano closer, with less background noise"
        )


def transcribe_piano(
    source: str | Path | Audio,
    *,
    settings: TranscribeSettings | None = None,
    threads: int = 1,
    progress: Callable[[float, str], None] | None = None,
) -> Score:
    """Transcribe a piano recording into a score.

    The recording (any sample rate, mono or stereo: channels are averaged) is resampled to the
    model's 22,050 Hz and read in chunks, so an hour-long file takes no more memory than a
    minute. The note model is basic-pitch's (Spotify, ICASSP 2022) run by onnxruntime; the
    note decoding and the piano post-processing are yuefu's, tuned on rendered piano
    (``benchmarks/transcribe.py``; model card ``yuefu/models/transcribe_basic_pitch.md``).

    Parameters
    ----------
    source : str, Path or Audio
        An audio file (WAV, FLAC, OGG, AIFF, MP3, M4A) or samples.
    settings : TranscribeSettings, optional
        Decoding thresholds and post-processing; the defaults are the tuned ones.
    threads : int
        onnxruntime threads (1 = one core).
    progress : callable, optional
        ``progress(fraction, message)`` as the audio is read.

    Returns
    -------
    Score
        One track named ``"piano"`` (GM program 0, role ``"other"``) of notes sorted by onset,
        with a constant tempo of 120 BPM: **beats = 2 x seconds** (``score.seconds(note)``
        gives the times back). Each note has its MIDI pitch (21..108), onset and duration, and a
        velocity estimated from the energy of the key's harmonics at the onset (with
        ``velocity_from="model"``: from the model's posterior); it follows the recording's
        level, so velocities compare within a recording, not across microphones. The title is
        the file's stem.

    Raises
    ------
    ParameterError
        ``source`` is neither a path nor an Audio, holds NaN/Inf, is shorter than
        :data:`MIN_DURATION_S`, or a setting is out of range.
    AudioLoadError
        The file is missing, empty, not audio or corrupt.
    NoNotesError
        No notes heard: the recording is silent (peak below -60 dBFS) or no piano note
        could be found in it.
    MissingDependencyError, ModelLoadError
        onnxruntime or basic-pitch's model is not installed, or the model file is altered.

    Examples
    --------
    >>> score = transcribe_piano("scale.wav")                       # doctest: +SKIP
    >>> [n.pitch for n in score.track("piano").notes]               # doctest: +SKIP
    [60, 62, 64, 65, 67, 69, 71, 72]
    """
    cfg = settings or TranscribeSettings()
    tr = transcribe(source, settings=cfg, threads=threads, progress=progress, keep_posteriors=False)
    raw = check_heard(tr, source)
    stats = tr.stats or {}
    if cfg.velocity_from == "energy":
        vels = velocity_from_energy(np.array([n.energy for n in raw]))
    else:
        vels = np.clip(np.round(127 * np.array([n.amplitude for n in raw])), 1, 127).astype(int)
    track = Track("piano", program=0, role="other")
    end_s = stats.get("n_samples", 0.0) / MODEL_SR
    spb = 60.0 / TEMPO_BPM
    for n, v in zip(raw, vels, strict=True):
        on_s = max(0.0, (n.onset - ONSET_LAG_FRAMES) * _FRAME_S)
        off_s = min(max(n.end * _FRAME_S, on_s + _FRAME_S), max(end_s, on_s + _FRAME_S))
        track.notes.append(Note(n.pitch, on_s / spb, (off_s - on_s) / spb, velocity=int(v)))
    title = Path(source).stem if isinstance(source, str | Path) else ""
    score = Score(tracks=[track], tempos=[Tempo(0.0, TEMPO_BPM)], title=title)
    return score.normalize()

"""File IO for scores (MIDI, MusicXML), audio (WAV, FLAC, MP3, OGG) and lyrics (LRC).

:func:`load_score` / :func:`save_score` and :func:`load_audio` / :func:`save_audio` choose the
format by the file's extension. Writers are atomic and refuse to overwrite unless ``force``.
"""

from __future__ import annotations

from pathlib import Path

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError, ScoreLoadError
from yuefu.core.io.audio import AUDIO_READ_EXTS, AUDIO_WRITE_EXTS, read_audio, write_audio
from yuefu.core.io.lrc import LrcLine, read_lrc, score_to_lrc, write_lrc
from yuefu.core.io.midi import read_midi, write_midi
from yuefu.core.io.musicxml import read_musicxml, write_musicxml
from yuefu.core.score import Score

__all__ = [
    "SCORE_EXTS",
    "AUDIO_READ_EXTS",
    "AUDIO_WRITE_EXTS",
    "load_score",
    "save_score",
    "load_audio",
    "save_audio",
    "read_midi",
    "write_midi",
    "read_musicxml",
    "write_musicxml",
    "read_audio",
    "write_audio",
    "LrcLine",
    "read_lrc",
    "write_lrc",
    "score_to_lrc",
    "is_score_path",
    "is_audio_path",
]

_MIDI_EXTS = (".mid", ".midi", ".smf")
_XML_EXTS = (".musicxml", ".xml", ".mxl")
SCORE_EXTS = _MIDI_EXTS + _XML_EXTS


def is_score_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SCORE_EXTS


def is_audio_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_READ_EXTS


def load_score(path: str | Path) -> Score:
    """Read a MIDI or MusicXML file (by extension) into a :class:`Score`."""
    ext = Path(path).suffix.lower()
    if ext in _MIDI_EXTS:
        return read_midi(path)
    if ext in _XML_EXTS:
        return read_musicxml(path)
    raise ScoreLoadError(
        f"{path}: unsupported score format {ext or '(no extension)'!r}; "
        f"use one of {', '.join(SCORE_EXTS)}"
    )


def save_score(score: Score, path: str | Path, *, force: bool = False) -> Path:
    """Write a score as MIDI or MusicXML (by extension), atomically."""
    ext = Path(path).suffix.lower()
    if ext in _MIDI_EXTS:
        return write_midi(score, path, force=force)
    if ext in (".musicxml", ".xml"):
        return write_musicxml(score, path, force=force)
    raise ParameterError(
        f"{path}: cannot write scores as {ext or '(no extension)'!r}; "
        "use .mid or .musicxml"
    )


def load_audio(path: str | Path) -> Audio:
    """Read an audio file at its own sample rate (never resampled)."""
    return read_audio(path)


def save_audio(audio: Audio, path: str | Path, *, force: bool = False, **kwargs: object) -> Path:
    """Write audio as WAV, FLAC, OGG or MP3 (by extension), atomically."""
    return write_audio(audio, path, force=force, **kwargs)  # type: ignore[arg-type]

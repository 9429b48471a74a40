"""Piano transcription (issue 7, the practice partner): a recording in, a :class:`Score` out.

>>> from yuefu.listen.transcribe import transcribe_piano
>>> score = transcribe_piano("my_playing.mp3")                  # doctest: +SKIP
>>> piano = score.track("piano")                                # doctest: +SKIP

The score's tempo is a constant 120 BPM, so beats = 2 x seconds. The note model is
basic-pitch's ONNX network (installed with ``pip install --no-deps basic-pitch==0.4.0`` beside
``onnxruntime``), loaded only when a transcription runs; importing this package is cheap and
silent.
"""

from __future__ import annotations

from yuefu.listen.transcribe.model import INSTALL_HINT, model_file
from yuefu.listen.transcribe.piano import (
    BASIC_PITCH_DEFAULTS,
    MAX_NOTE_S,
    MIN_DURATION_S,
    TEMPO_BPM,
    NoNotesError,
    TranscribeSettings,
    Transcription,
    check_heard,
    check_level,
    transcribe,
    transcribe_notes,
    transcribe_piano,
)

__all__ = [
    "BASIC_PITCH_DEFAULTS",
    "INSTALL_HINT",
    "MAX_NOTE_S",
    "MIN_DURATION_S",
    "NoNotesError",
    "TEMPO_BPM",
    "TranscribeSettings",
    "Transcription",
    "check_heard",
    "check_level",
    "model_file",
    "transcribe",
    "transcribe_notes",
    "transcribe_piano",
]

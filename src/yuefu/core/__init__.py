"""yuefu.core: the shared vocabulary (Score, Audio, SongSpec), music theory, file IO, errors.

It depends on nothing else in yuefu; every capability builds on it.
"""

from yuefu.core.audio import Audio
from yuefu.core.errors import (
    AudioLoadError,
    MissingDependencyError,
    ModelLoadError,
    OutputExistsError,
    ParameterError,
    PipelineError,
    ScoreLoadError,
    YuefuError,
)
from yuefu.core.score import (
    ROLES,
    ChordSymbol,
    Direction,
    KeySignature,
    Note,
    Pedal,
    Score,
    Section,
    Tempo,
    TempoMap,
    TimeSignature,
    Track,
)
from yuefu.core.spec import EMOTIONS, LANGUAGES, STYLES, VOICES, SongSpec
from yuefu.core.theory import Chord, Key, estimate_key, name_to_pitch, parse_chord, pitch_to_name

__all__ = [
    "Audio",
    "AudioLoadError",
    "Chord",
    "ChordSymbol",
    "EMOTIONS",
    "Key",
    "KeySignature",
    "LANGUAGES",
    "MissingDependencyError",
    "ModelLoadError",
    "Note",
    "OutputExistsError",
    "Pedal",
    "ParameterError",
    "PipelineError",
    "ROLES",
    "STYLES",
    "Score",
    "ScoreLoadError",
    "Direction",
    "Section",
    "SongSpec",
    "Tempo",
    "TempoMap",
    "TimeSignature",
    "Track",
    "VOICES",
    "YuefuError",
    "estimate_key",
    "name_to_pitch",
    "parse_chord",
    "pitch_to_name",
]

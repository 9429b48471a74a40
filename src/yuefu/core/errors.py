"""One exception hierarchy for every yuefu error a user can cause.

Every message names the file or field, what was expected and what to do, so the CLI and the
REST API can show it as one line without a traceback.
"""

from __future__ import annotations

__all__ = [
    "YuefuError",
    "ParameterError",
    "AudioLoadError",
    "ScoreLoadError",
    "ModelLoadError",
    "MissingDependencyError",
    "OutputExistsError",
    "PipelineError",
]


class YuefuError(Exception):
    """Base class of every error caused by input, configuration or the environment."""


class ParameterError(YuefuError, ValueError):
    """A parameter is out of range, of the wrong type or unknown."""


class AudioLoadError(YuefuError):
    """An audio file cannot be read: missing, empty, corrupt, unsupported or not finite."""


class ScoreLoadError(YuefuError):
    """A score file (MIDI, MusicXML, LRC) cannot be read."""


class ModelLoadError(YuefuError):
    """Shipped model weights are missing, corrupt or do not match their registry entry."""


class MissingDependencyError(YuefuError, ImportError):
    """A system program or optional Python package that a feature needs is not installed."""


class OutputExistsError(YuefuError, FileExistsError):
    """An output file exists and ``force`` was not given."""


class PipelineError(YuefuError):
    """A pipeline file is invalid, or a stage cannot run (missing input, unknown stage)."""

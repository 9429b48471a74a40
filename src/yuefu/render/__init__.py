"""yuefu.render: Score -> stems (FluidSynth) -> mix -> master (loudness, true peak).

The names load lazily, so ``import yuefu.render`` costs nothing until one is used.

>>> from yuefu.core.score import Note, Score, Track
>>> from yuefu.render import render_score
>>> s = Score()
>>> s.add_track(Track("flute", program=73, role="melody")).notes.append(Note(69, 0.0, 4.0))
>>> res = render_score(s, "song.wav")                   # doctest: +SKIP
>>> round(res.loudness.integrated_lufs)                 # doctest: +SKIP
-14
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yuefu.render.fluidsynth import (
        DEFAULT_SOUNDFONTS,
        FLUIDSYNTH_INSTALL,
        find_soundfont,
        render_stems,
        stem_filename,
    )
    from yuefu.render.loudness import LoudnessMeter, LoudnessReport, measure_file, measure_loudness
    from yuefu.render.master import TARGETS, MasterSettings, master, master_file
    from yuefu.render.mix import (
        ROLE_MIX,
        BusSettings,
        MixSettings,
        RenderResult,
        default_mix_settings,
        mix_stems,
        placement_matrix,
        render_score,
    )

_EXPORTS = {
    "DEFAULT_SOUNDFONTS": "fluidsynth",
    "FLUIDSYNTH_INSTALL": "fluidsynth",
    "find_soundfont": "fluidsynth",
    "render_stems": "fluidsynth",
    "stem_filename": "fluidsynth",
    "ROLE_MIX": "mix",
    "BusSettings": "mix",
    "MixSettings": "mix",
    "RenderResult": "mix",
    "default_mix_settings": "mix",
    "mix_stems": "mix",
    "placement_matrix": "mix",
    "render_score": "mix",
    "LoudnessMeter": "loudness",
    "LoudnessReport": "loudness",
    "measure_file": "loudness",
    "measure_loudness": "loudness",
    "TARGETS": "master",
    "MasterSettings": "master",
    "master": "master",
    "master_file": "master",
}

__all__ = [
    "BusSettings",
    "DEFAULT_SOUNDFONTS",
    "FLUIDSYNTH_INSTALL",
    "LoudnessMeter",
    "LoudnessReport",
    "MasterSettings",
    "MixSettings",
    "ROLE_MIX",
    "RenderResult",
    "TARGETS",
    "default_mix_settings",
    "find_soundfont",
    "master",
    "master_file",
    "measure_file",
    "measure_loudness",
    "mix_stems",
    "placement_matrix",
    "render_score",
    "render_stems",
    "stem_filename",
]
assert set(__all__) == set(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'yuefu.render' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yuefu.render.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Fixtures for the identification tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from identify_helpers import SR, synth_song


@pytest.fixture(scope="session")
def songs_dir(tmp_path_factory) -> Path:
    """Six synthetic songs as FLAC files (song0..song5) and one never added (outside.flac)."""
    d = tmp_path_factory.mktemp("songs")
    lib = d / "library"
    lib.mkdir()
    for k in range(6):
        sf.write(str(lib / f"song{k}.flac"), synth_song(100 + k), SR)
    sf.write(str(d / "outside.flac"), synth_song(999), SR)
    return d

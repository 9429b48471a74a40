"""Every loader refuses every broken input in tests/data/corrupt with one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuefu.core.errors import AudioLoadError, ScoreLoadError, YuefuError
from yuefu.core.io import load_audio, load_score, read_lrc

CORRUPT = Path(__file__).resolve().parents[1] / "data" / "corrupt"
FILES = sorted(p for p in CORRUPT.iterdir() if p.is_file())


def _loader(path: Path):
    ext = path.suffix.lower()
    if ext in (".mid", ".musicxml", ".xml"):
        return load_score, ScoreLoadError
    if ext == ".lrc":
        return read_lrc, ScoreLoadError
    return load_audio, AudioLoadError


def test_the_corrupt_folder_is_there():
    names = {p.name for p in FILES}
    # the cases the foundation issue names, at least
    assert {"truncated.mid", "empty.wav", "nan.wav", "broken.musicxml", "text.mid"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_loader_refuses_with_clear_error(path):
    load, expected = _loader(path)
    with pytest.raises(expected) as exc:
        load(path)
    msg = str(exc.value)
    assert path.name in msg, f"the message should name the file: {msg!r}"
    assert "\n" not in msg.strip(), f"one line, please: {msg!r}"
    assert len(msg) < 400
    assert "Traceback" not in msg


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cli_info_exits_2_with_one_line(path, capsys):
    from yuefu.cli import main

    if path.suffix == ".lrc":
        pytest.skip("info does not read LRC files")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: ") and "\n" not in err, err
    assert path.name in err


@pytest.mark.parametrize("name", ["nan.wav", "empty.wav", "truncated_header.wav", "text.mp3"])
def test_cli_loudness_refuses_broken_audio(name, capsys):
    from yuefu.cli import main

    assert main(["loudness", str(CORRUPT / name)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: ") and "\n" not in err and name in err, err


def test_every_error_is_a_yuefu_error():
    assert issubclass(AudioLoadError, YuefuError) and issubclass(ScoreLoadError, YuefuError)

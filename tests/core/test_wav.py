"""The float WAV writer (yuefu.core.io.wav): what it writes is what every reader reads."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from yuefu.core.errors import ParameterError
from yuefu.core.io import wav
from yuefu.core.io.audio import read_audio
from yuefu.core.io.wav import FloatWavWriter


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_blocks_read_back_exactly(tmp_path: Path, rng: np.random.Generator, channels: int) -> None:
    x = rng.standard_normal((channels, 10_000)).astype(np.float32)
    p = tmp_path / "x.wav"
    with FloatWavWriter(p, sr=48000, channels=channels) as w:
        for a in range(0, 10_000, 3_333):  # uneven blocks
            w.write(x[:, a:a + 3_333])
        w.write(np.zeros((channels, 0), dtype=np.float32))
    info = sf.info(str(p))
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (48000, channels,
                                                                           10_000, "FLOAT")
    y, _ = sf.read(str(p), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(y.T, x)  # bit-exact
    assert p.stat().st_size == wav._HEADER_BYTES + 4 * channels * 10_000


def test_header_fields(tmp_path: Path) -> None:
    p = tmp_path / "x.wav"
    with FloatWavWriter(p, sr=44100, channels=2) as w:
        w.write(np.zeros((2, 100), dtype=np.float32))
    b = p.read_bytes()
    assert b[:4] == b"RIFF" and struct.unpack("<I", b[4:8])[0] == len(b) - 8 and b[8:12] == b"WAVE"
    i = b.index(b"fmt ")
    fmt_tag, ch, sr, byte_rate, align, bits = struct.unpack("<HHIIHH", b[i + 8:i + 24])
    assert (fmt_tag, ch, sr, byte_rate, align, bits) == (3, 2, 44100, 44100 * 8, 8, 32)
    i = b.index(b"fact")
    assert struct.unpack("<I", b[i + 8:i + 12])[0] == 100
    i = b.index(b"data")
    assert struct.unpack("<I", b[i + 4:i + 8])[0] == 800 == len(b) - (i + 8)


def test_ffmpeg_reads_it(tmp_path: Path) -> None:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    p = tmp_path / "x.wav"
    with FloatWavWriter(p, sr=22050, channels=2) as w:
        w.write(np.full((2, 22050), 0.25, dtype=np.float32))
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "stream=codec_name,sample_rate,channels,duration", "-of", "csv=p=0",
                          str(p)], capture_output=True, text=True, check=True).stdout
    assert out.strip().split(",")[:3] == ["pcm_f32le", "22050", "2"]


def test_past_4_gib_it_becomes_rf64(tmp_path: Path, rng: np.random.Generator,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The RF64 switch, with the 4 GiB limit lowered so that the test stays small."""
    monkeypatch.setattr(wav, "_RIFF_MAX", 4096)
    x = rng.standard_normal((2, 5000)).astype(np.float32)
    p = tmp_path / "big.wav"
    with FloatWavWriter(p, sr=44100, channels=2) as w:
        w.write(x)
    b = p.read_bytes()
    assert b[:4] == b"RF64" and b[12:16] == b"ds64"
    riff, data, frames = struct.unpack("<QQQ", b[20:44])
    assert (riff, data, frames) == (len(b) - 8, 40_000, 5000)
    info = sf.info(str(p))
    assert info.frames == 5000 and info.format == "RF64"
    np.testing.assert_array_equal(read_audio(p).samples, x)


def test_small_stays_riff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wav, "_RIFF_MAX", 4096)
    p = tmp_path / "small.wav"
    with FloatWavWriter(p, sr=44100, channels=1) as w:
        w.write(np.zeros(100, dtype=np.float32))
    assert p.read_bytes()[:4] == b"RIFF" and sf.info(str(p)).frames == 100


def test_bad_blocks_and_closed_writer(tmp_path: Path) -> None:
    with FloatWavWriter(tmp_path / "x.wav", sr=44100, channels=2) as w:
        with pytest.raises(ParameterError, match=r"\(2, n\)"):
            w.write(np.zeros((3, 10), dtype=np.float32))
        with pytest.raises(ParameterError):
            w.write(np.zeros(10, dtype=np.float32))
    with pytest.raises(ValueError, match="closed"):
        w.write(np.zeros((2, 10), dtype=np.float32))
    with pytest.raises(ParameterError, match="channels"):
        FloatWavWriter(tmp_path / "y.wav", sr=44100, channels=0)


def test_abort_leaves_the_header_unpatched(tmp_path: Path) -> None:
    """An aborted file is the caller's to delete (atomic_output does); it is never mistaken for
    a complete one: its sizes still say 0 frames."""
    p = tmp_path / "x.wav"
    with pytest.raises(RuntimeError), FloatWavWriter(p, sr=44100, channels=2) as w:
        w.write(np.ones((2, 1000), dtype=np.float32))
        raise RuntimeError("stop")
    assert sf.info(str(p)).frames == 0

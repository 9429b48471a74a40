"""Audio file IO: round trips at the file's own rate, streaming, clear errors, atomic writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from yuefu.core.audio import Audio
from yuefu.core.errors import (
    AudioLoadError,
    MissingDependencyError,
    OutputExistsError,
    ParameterError,
)
from yuefu.core.io import audio as aio
from yuefu.core.io.audio import (
    AUDIO_READ_EXTS,
    AUDIO_WRITE_EXTS,
    audio_info,
    iter_audio_blocks,
    open_audio_writer,
    read_audio,
    write_audio,
)

HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAS_FFMPEG, reason="ffmpeg is not installed")


def _tone(sr: int = 44100, dur_s: float = 1.0, channels: int = 2) -> Audio:
    t = np.arange(int(sr * dur_s)) / sr
    rows = [0.5 * np.sin(2 * np.pi * (440 + 110 * c) * t) for c in range(channels)]
    return Audio(np.stack(rows).astype(np.float32), sr)


def _no_temp_files(folder: Path) -> bool:
    return not any(".part" in p.name for p in folder.iterdir())


def test_extension_lists():
    assert {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a"} <= set(AUDIO_READ_EXTS)
    assert set(AUDIO_WRITE_EXTS) == {".wav", ".flac", ".ogg", ".mp3"}


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_lossless_round_trip_is_24_bit_by_default(tmp_path, ext):
    a = _tone()
    p = write_audio(a, tmp_path / f"x{ext}")
    assert sf.info(str(p)).subtype == "PCM_24"
    b = read_audio(p)
    assert b.sr == a.sr and b.samples.shape == a.samples.shape and b.samples.dtype == np.float32
    assert np.max(np.abs(b.samples - a.samples)) < 2.0 ** -22  # 24-bit quantisation


def test_float_wav_keeps_samples_beyond_full_scale(tmp_path):
    a = Audio(np.array([[0.5, 1.5, -2.0, 0.25]], dtype=np.float32), 8000)
    b = read_audio(write_audio(a, tmp_path / "f.wav", subtype="FLOAT"))
    np.testing.assert_array_equal(b.samples, a.samples)


def test_pcm_clips_beyond_full_scale(tmp_path, caplog):
    a = Audio(np.array([[0.5, 1.5, -2.0, 0.25]], dtype=np.float32), 8000)
    with caplog.at_level("WARNING"):
        b = read_audio(write_audio(a, tmp_path / "c.wav"))
    assert np.max(np.abs(b.samples)) <= 1.0
    assert "clipped" in caplog.text


@pytest.mark.parametrize("sr", [22050, 32000, 48000, 96000])
def test_reader_never_resamples(tmp_path, sr):
    a = _tone(sr=sr, dur_s=0.25, channels=1)
    b = read_audio(write_audio(a, tmp_path / "m.flac"))
    assert b.sr == sr and b.channels == 1 and b.n_samples == a.n_samples


def test_ogg_round_trip(tmp_path):
    a = _tone()
    b = read_audio(write_audio(a, tmp_path / "x.ogg"))
    assert b.sr == a.sr and b.channels == 2
    assert abs(b.n_samples - a.n_samples) < 2048
    n = min(a.n_samples, b.n_samples)
    corr = np.corrcoef(a.samples[0, :n], b.samples[0, :n])[0, 1]
    assert corr > 0.99, corr


@needs_ffmpeg
def test_mp3_round_trip_keeps_rate_and_channels(tmp_path):
    a = _tone(sr=48000)
    p = write_audio(a, tmp_path / "x.mp3", bitrate_kbps=256)
    info = audio_info(p)
    assert (info.sr, info.channels, info.format) == (48000, 2, "mp3")
    exact = audio_info(p, check_samples=True)
    b = read_audio(p)
    assert b.sr == 48000 and b.channels == 2 and b.samples.dtype == np.float32
    assert abs(b.n_samples - a.n_samples) < 2400  # encoder padding, at most a few frames
    assert exact.frames == b.n_samples
    # same level (no resampling or gain surprises)
    assert abs(np.sqrt(np.mean(b.samples**2)) - np.sqrt(np.mean(a.samples**2))) < 0.01


@needs_ffmpeg
def test_m4a_is_read_through_ffmpeg(tmp_path):
    wav = write_audio(_tone(sr=44100), tmp_path / "x.wav")
    m4a = tmp_path / "x.m4a"
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)],
                       capture_output=True, check=False)
    if r.returncode != 0:
        pytest.skip("this ffmpeg cannot encode AAC")
    b = read_audio(m4a)
    assert b.sr == 44100 and b.channels == 2 and abs(b.n_samples - 44100) < 4096


def test_audio_info_reads_the_header_only(tmp_path):
    p = write_audio(_tone(sr=32000, dur_s=1.5), tmp_path / "x.wav")
    info = audio_info(p)
    assert (info.sr, info.channels, info.frames, info.format) == (32000, 2, 48000, "wav")
    assert info.duration_s == pytest.approx(1.5)
    assert info.to_dict() == {"sr": 32000, "channels": 2, "frames": 48000, "duration_s": 1.5,
                              "format": "wav"}


@pytest.mark.parametrize("ext", [".wav", ".flac", pytest.param(".mp3", marks=needs_ffmpeg)])
def test_iter_audio_blocks_concatenates_to_read_audio(tmp_path, ext):
    p = write_audio(_tone(sr=44100, dur_s=2.3), tmp_path / f"x{ext}")
    whole = read_audio(p).samples
    blocks = list(iter_audio_blocks(p, block_s=0.5))
    assert all(b.dtype == np.float32 and b.shape[0] == 2 for b in blocks)
    assert all(b.shape[1] == 22050 for b in blocks[:-1])
    np.testing.assert_array_equal(np.concatenate(blocks, axis=1), whole)


def test_iter_audio_blocks_rejects_bad_block_length(tmp_path):
    p = write_audio(_tone(), tmp_path / "x.wav")
    with pytest.raises(ParameterError, match="block_s"):
        next(iter_audio_blocks(p, block_s=0))


# ---- errors ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(AudioLoadError, match="no such audio file") as e:
        read_audio(tmp_path / "nope.wav")
    assert "nope.wav" in str(e.value)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.flac"
    p.write_bytes(b"")
    for fn in (read_audio, audio_info, lambda q: next(iter_audio_blocks(q))):
        with pytest.raises(AudioLoadError, match="the file is empty"):
            fn(p)


def test_folder_is_not_audio(tmp_path):
    with pytest.raises(AudioLoadError, match="is a folder"):
        read_audio(tmp_path)


def test_unsupported_extension(tmp_path):
    p = tmp_path / "x.xyz"
    p.write_bytes(b"1234")
    with pytest.raises(AudioLoadError, match="unsupported audio format") as e:
        read_audio(p)
    assert ".wav" in str(e.value)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".aiff",
                                 pytest.param(".mp3", marks=needs_ffmpeg),
                                 pytest.param(".m4a", marks=needs_ffmpeg)])
def test_not_audio_names_file_and_formats(tmp_path, rng, ext):
    p = tmp_path / f"garbage{ext}"
    p.write_bytes(b"this is not audio at all\n" + rng.integers(0, 256, 3000, np.uint8).tobytes())
    with pytest.raises(AudioLoadError) as e:
        read_audio(p)
    msg = str(e.value)
    assert p.name in msg and "accepted formats" in msg and "\n" not in msg, msg


def test_truncated_wav(tmp_path):
    p = write_audio(_tone(), tmp_path / "t.wav")
    p.write_bytes(p.read_bytes()[:30])
    with pytest.raises(AudioLoadError, match="t.wav"):
        read_audio(p)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_samples(tmp_path, bad):
    x = np.zeros((2, 1000), np.float32)
    x[1, 500] = bad
    p = tmp_path / "nan.wav"
    sf.write(str(p), x.T, 8000, subtype="FLOAT")
    with pytest.raises(AudioLoadError, match="contains NaN/Inf samples"):
        read_audio(p)
    with pytest.raises(AudioLoadError, match="contains NaN/Inf samples"):
        list(iter_audio_blocks(p))
    assert audio_info(p).frames == 1000  # the header alone is fine
    with pytest.raises(AudioLoadError, match="contains NaN/Inf samples"):
        audio_info(p, check_samples=True)


def test_missing_ffmpeg_names_the_install_command(tmp_path, monkeypatch):
    p = tmp_path / "x.mp3"
    p.write_bytes(b"ID3" + bytes(500))
    monkeypatch.setattr(aio.shutil, "which", lambda name: None)
    with pytest.raises(MissingDependencyError, match="apt-get install ffmpeg"):
        read_audio(p)
    with pytest.raises(MissingDependencyError, match="apt-get install ffmpeg"):
        write_audio(_tone(), tmp_path / "out.mp3")
    assert not (tmp_path / "out.mp3").exists() and _no_temp_files(tmp_path)


# ---- writing ---------------------------------------------------------------------------------


def test_refuses_to_overwrite_without_force(tmp_path):
    p = write_audio(_tone(), tmp_path / "x.wav")
    before = p.read_bytes()
    with pytest.raises(OutputExistsError):
        write_audio(_tone(dur_s=0.5), p)
    assert p.read_bytes() == before
    write_audio(_tone(dur_s=0.5), p, force=True)
    assert audio_info(p).frames == 22050


@pytest.mark.parametrize(
    "kwargs, path, match",
    [
        ({}, "x.aiff", "cannot write audio"),
        ({}, "x", "cannot write audio"),
        ({"subtype": "VORBIS"}, "x.wav", "subtype"),
        ({"subtype": "FLOAT"}, "x.flac", "subtype"),
        ({"bitrate_kbps": 8}, "x.mp3", "bitrate_kbps"),
        ({"subtype": "PCM_16"}, "x.mp3", "subtype"),
    ],
)
def test_write_parameter_errors(tmp_path, kwargs, path, match):
    with pytest.raises(ParameterError, match=match):
        write_audio(_tone(), tmp_path / path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_mp3_refuses_rates_it_cannot_hold(tmp_path):
    with pytest.raises(ParameterError, match="resample explicitly"):
        write_audio(_tone(sr=96000, dur_s=0.1), tmp_path / "x.mp3")


def test_write_refuses_nan(tmp_path):
    x = np.zeros((1, 100), np.float32)
    x[0, 3] = np.nan
    with pytest.raises(ParameterError, match="NaN/Inf"):
        write_audio(Audio(x, 8000), tmp_path / "x.wav")
    assert list(tmp_path.iterdir()) == []


def test_streaming_writer_is_atomic(tmp_path):
    dest = tmp_path / "long.flac"
    with pytest.raises(RuntimeError, match="boom"), \
            open_audio_writer(dest, sr=8000, channels=2) as w:
        w.write(np.zeros((2, 8000), np.float32))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with open_audio_writer(dest, sr=8000, channels=2) as w:
        for _ in range(3):
            w.write(np.full((2, 8000), 0.25, np.float32))
    assert audio_info(dest).frames == 24000 and _no_temp_files(tmp_path)


def test_streaming_writer_checks_block_shape(tmp_path):
    with pytest.raises(ParameterError, match=r"\(2, n\)"), \
            open_audio_writer(tmp_path / "x.wav", sr=8000, channels=2) as w:
        w.write(np.zeros((1, 100), np.float32))
    assert list(tmp_path.iterdir()) == []


@needs_ffmpeg
def test_streaming_mp3_writer(tmp_path):
    dest = tmp_path / "s.mp3"
    with open_audio_writer(dest, sr=44100, channels=1, bitrate_kbps=128) as w:
        for _ in range(4):
            w.write(_tone(channels=1, dur_s=0.5).samples)
    b = read_audio(dest)
    assert b.sr == 44100 and b.channels == 1 and abs(b.n_samples - 88200) < 2400


def test_package_level_load_and_save(tmp_path):
    from yuefu.core.io import load_audio, save_audio

    p = save_audio(_tone(), tmp_path / "x.flac")
    assert load_audio(p).sr == 44100

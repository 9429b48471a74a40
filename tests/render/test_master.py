"""Mastering lands at the loudness target under the true-peak ceiling, streaming or in memory."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from yuefu.core.audio import Audio
from yuefu.core.errors import OutputExistsError, ParameterError
from yuefu.core.io.audio import AudioFileWriter, read_audio
from yuefu.render.loudness import measure_loudness
from yuefu.render.master import (
    TARGETS,
    MasterSettings,
    _release,
    master,
    master_file,
    plan_gain,
)

SR = 44100
master_mod = sys.modules["yuefu.render.master"]  # the package exports the function `master`


def _noise(rng: np.random.Generator, dur_s: float = 20.0, sr: int = SR) -> Audio:
    return Audio((0.05 * rng.standard_normal((2, int(dur_s * sr)))).astype(np.float32), sr)


def _drums(rng: np.random.Generator, dur_s: float = 20.0, sr: int = SR) -> Audio:
    """Kick, snare and hats at 120 bpm over a quiet pad: crest factor ~20 dB."""
    n = int(dur_s * sr)
    t = np.arange(n) / sr
    beat = 0.5
    tb = t % beat
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-tb * 40)) * tb) * np.exp(-tb * 12)
    ts = (t + beat / 2) % (2 * beat)
    snare = rng.standard_normal(n) * np.exp(-ts * 25) * 0.5
    th = t % (beat / 2)
    hats = np.diff(rng.standard_normal(n + 1)) * np.exp(-th * 80) * 0.08
    pad = 0.02 * np.sin(2 * np.pi * 220 * t)
    left = 0.9 * kick + snare + hats + pad
    right = 0.9 * kick + 0.8 * snare + 1.2 * hats + pad
    return Audio(np.stack([left, right]).astype(np.float32) * 0.5, sr)


def _tp8_dbtp(x: np.ndarray) -> float:
    """An independent true-peak check: 8x polyphase resampling (scipy)."""
    y = resample_poly(np.asarray(x, np.float64), 8, 1, axis=1)
    return 20 * math.log10(float(np.max(np.abs(y))))


def _crest_db(a: Audio) -> float:
    x = a.samples
    return 20 * math.log10(np.max(np.abs(x)) / np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize("signal", ["noise", "drums"])
@pytest.mark.parametrize("target", [-14.0, -16.0, -23.0])
def test_lands_at_target_under_the_ceiling(rng, signal, target):
    a = _noise(rng) if signal == "noise" else _drums(rng)
    if signal == "drums":
        assert _crest_db(a) > 15.0  # a high-crest input: the limiter has work to do
    out, rep = master(a, settings=MasterSettings(target_lufs=target, ceiling_dbtp=-1.0))
    assert out.samples.shape == a.samples.shape and out.sr == a.sr
    assert rep.integrated_lufs == pytest.approx(target, abs=0.2)
    assert rep.true_peak_dbtp <= -1.0  # our BS.1770 meter, 4x oversampled
    assert _tp8_dbtp(out.samples) <= -1.0  # independent 8x check
    assert np.max(np.abs(out.samples)) < 1.0
    # the report is honest: it is what the meter reads on the output
    again = measure_loudness(out)
    assert again.integrated_lufs == pytest.approx(rep.integrated_lufs, abs=1e-6)
    assert again.true_peak_dbtp == pytest.approx(rep.true_peak_dbtp, abs=1e-6)


@pytest.mark.parametrize("sr, channels", [(48000, 2), (44100, 1), (22050, 2)])
def test_other_rates_and_mono(rng, sr, channels):
    a = Audio(_drums(rng, 12.0, sr).samples[:channels], sr)
    out, rep = master(a, settings=MasterSettings(target_lufs=-16.0, ceiling_dbtp=-2.0))
    assert out.sr == sr and out.channels == channels
    assert rep.integrated_lufs == pytest.approx(-16.0, abs=0.2)
    assert rep.true_peak_dbtp <= -2.0 and _tp8_dbtp(out.samples) <= -2.0


def test_unreachable_target_is_done_and_reported_honestly(rng, caplog):
    a = _drums(rng, 12.0)
    with caplog.at_level("WARNING"):
        out, rep = master(a, settings=MasterSettings(target_lufs=-5.0))
    assert "limiting" in caplog.text
    assert rep.true_peak_dbtp <= -1.0 and _tp8_dbtp(out.samples) <= -1.0
    assert np.max(np.abs(out.samples)) < 1.0
    again = measure_loudness(out)
    assert again.integrated_lufs == pytest.approx(rep.integrated_lufs, abs=1e-6)
    if abs(rep.integrated_lufs + 5.0) > 0.5:
        assert "from the -5.0 LUFS target" in caplog.text


def test_quiet_input_is_raised(rng):
    a = Audio(_drums(rng, 10.0).samples * 0.01, SR)  # about -50 LUFS
    out, rep = master(a, settings=MasterSettings.preset("streaming"))
    assert rep.integrated_lufs == pytest.approx(-14.0, abs=0.2)
    assert rep.true_peak_dbtp <= -1.0


def test_silence_raises():
    a = Audio(np.zeros((2, 5 * SR), np.float32), SR)
    with pytest.raises(ParameterError, match="silent; nothing to master"):
        master(a)


def test_too_short_raises():
    a = Audio(np.full((2, 1000), 0.1, np.float32), SR)
    with pytest.raises(ParameterError, match="nothing to master"):
        master(a)


# ---- settings ------------------------------------------------------------------------------------


def test_settings_defaults_and_presets():
    s = MasterSettings()
    assert (s.target_lufs, s.ceiling_dbtp, s.lookahead_ms, s.release_ms) == (-14, -1, 5, 80)
    assert TARGETS == {"streaming": -14.0, "podcast": -16.0, "broadcast": -23.0}
    assert MasterSettings.preset("broadcast").target_lufs == -23.0
    assert MasterSettings.preset("podcast", ceiling_dbtp=-2.0).ceiling_dbtp == -2.0
    with pytest.raises(ParameterError, match="streaming"):
        MasterSettings.preset("loud")


@pytest.mark.parametrize("kwargs", [
    {"target_lufs": -41.0}, {"target_lufs": -4.0}, {"ceiling_dbtp": 0.5},
    {"ceiling_dbtp": -7.0}, {"lookahead_ms": 0.0}, {"release_ms": 0.0},
    {"target_lufs": float("nan")}, {"target_lufs": "loud"},
])
def test_settings_validation(kwargs):
    with pytest.raises(ParameterError):
        MasterSettings(**kwargs)


# ---- the gain plan -------------------------------------------------------------------------------


def test_release_recursion_is_vectorised_correctly(rng):
    red = np.maximum(0, rng.standard_normal(3000) * 4)
    red[rng.random(3000) < 0.7] = 0.0
    beta = math.exp(-0.02)
    want = np.empty_like(red)
    prev = 0.0
    for i, r in enumerate(red):
        prev = max(r, beta * prev)
        want[i] = prev
    np.testing.assert_allclose(_release(red, math.log(beta)), want, rtol=1e-9, atol=1e-12)


def test_planned_gain_never_exceeds_the_required_gain(rng):
    n = 20000
    hop = 63
    tp = np.abs(rng.standard_normal(n)) * 0.05
    tp[rng.integers(0, n, 200)] = rng.uniform(0.3, 1.0, 200)  # sparse loud peaks
    energy = (tp * 0.3) ** 2 * hop
    s = MasterSettings(target_lufs=-25.0, ceiling_dbtp=-1.0)  # ~15 dB of limiting
    g, info = plan_gain(energy, tp, hop=hop, sr=SR, n_samples=n * hop, settings=s)
    ceiling = 10 ** (-1.0 / 20)
    peak_after = g * tp
    assert np.max(peak_after) <= ceiling * (1 + 1e-9)
    # neighbours too: interpolating the gain to samples never overshoots at a peak
    assert np.max(g[1:] * tp[:-1]) <= ceiling * (1 + 1e-9)
    assert np.max(g[:-1] * tp[1:]) <= ceiling * (1 + 1e-9)
    assert info["max_limiting_db"] > 10
    assert info["predicted_lufs"] == pytest.approx(-25.0, abs=0.01)


# ---- files ---------------------------------------------------------------------------------------


def _write_float(path: Path, a: Audio) -> Path:
    sf.write(str(path), a.samples.T, a.sr, subtype="FLOAT")
    return path


def test_streaming_file_and_memory_agree(tmp_path, rng):
    a = _drums(rng, 25.0)  # more than two 10 s blocks
    src = _write_float(tmp_path / "premix.wav", a)
    settings = MasterSettings(target_lufs=-16.0)
    rep_file = master_file(src, tmp_path / "out.wav", settings=settings, subtype="FLOAT")
    out_mem, rep_mem = master(a, settings=settings)
    out_file = read_audio(tmp_path / "out.wav")
    np.testing.assert_allclose(out_file.samples, out_mem.samples, atol=1e-6)
    assert rep_file == rep_mem
    # the default output is 24-bit PCM, within quantisation of the float result
    rep24 = master_file(src, tmp_path / "out24.flac", settings=settings)
    x24 = read_audio(tmp_path / "out24.flac").samples
    assert np.max(np.abs(x24 - out_mem.samples)) < 2.0 ** -22
    assert rep24.integrated_lufs == pytest.approx(-16.0, abs=0.2)
    assert rep24.true_peak_dbtp <= -1.0 and _tp8_dbtp(x24) <= -1.0


def test_master_file_reports_progress(tmp_path, rng):
    src = _write_float(tmp_path / "in.wav", _noise(rng, 22.0))
    seen: list[tuple[float, str]] = []
    master_file(src, tmp_path / "out.wav", progress=lambda f, m="": seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions) and fractions == sorted(fractions)


def test_master_file_refuses_to_overwrite(tmp_path, rng):
    src = _write_float(tmp_path / "in.wav", _noise(rng, 5.0))
    dest = tmp_path / "out.wav"
    dest.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        master_file(src, dest)
    assert dest.read_bytes() == b"keep me"
    master_file(src, dest, force=True)
    assert read_audio(dest).n_samples == 5 * SR


def test_nothing_half_written_when_writing_fails(tmp_path, rng, monkeypatch):
    src = _write_float(tmp_path / "in.wav", _noise(rng, 25.0))
    dest = tmp_path / "out.wav"
    dest.write_bytes(b"old master")
    calls = {"n": 0}
    real_write = AudioFileWriter.write

    def failing_write(self, block):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_write(self, block)

    monkeypatch.setattr(AudioFileWriter, "write", failing_write)
    with pytest.raises(OSError, match="disk full"):
        master_file(src, dest, force=True)
    assert dest.read_bytes() == b"old master"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "out.wav"]


def test_unwritable_destination(tmp_path, rng):
    src = _write_float(tmp_path / "in.wav", _noise(rng, 3.0))
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OSError):
        master_file(src, blocker / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav", "not_a_folder"]


def test_bad_output_format_is_refused_before_any_work(tmp_path, rng, monkeypatch):
    src = _write_float(tmp_path / "in.wav", _noise(rng, 3.0))
    monkeypatch.setattr(master_mod, "_master_blocks",
                        lambda *a, **k: pytest.fail("should not start"))
    with pytest.raises(ParameterError, match="cannot write audio"):
        master_file(src, tmp_path / "out.aiff")


def test_silent_file_raises_and_writes_nothing(tmp_path):
    src = _write_float(tmp_path / "quiet.wav", Audio(np.zeros((2, 3 * SR), np.float32), SR))
    with pytest.raises(ParameterError, match="quiet.wav is silent"):
        master_file(src, tmp_path / "out.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiet.wav"]


def test_lossy_output_is_measured_after_decoding(tmp_path, rng):
    import shutil

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    src = _write_float(tmp_path / "in.wav", _drums(rng, 8.0))
    rep = master_file(src, tmp_path / "out.mp3", settings=MasterSettings(ceiling_dbtp=-2.0))
    decoded = read_audio(tmp_path / "out.mp3")
    assert rep.integrated_lufs == pytest.approx(measure_loudness(decoded).integrated_lufs,
                                                abs=1e-6)
    assert rep.integrated_lufs == pytest.approx(-14.0, abs=0.5)

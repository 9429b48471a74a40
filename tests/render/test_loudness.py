"""The streaming BS.1770-4 / EBU R 128 meter against pyloudnorm and the EBU test cases."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError
from yuefu.render.loudness import (
    LoudnessMeter,
    LoudnessReport,
    auto_hop,
    integrated_from_energy,
    measure_file,
    measure_loudness,
    windowed_loudness,
)


def _sine(freq_hz: float, amp: float, dur_s: float, sr: int, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(dur_s * sr))) / sr
    return amp * np.sin(2 * np.pi * freq_hz * t + phase)


def _stereo(x: np.ndarray, sr: int) -> Audio:
    return Audio(np.stack([x, x]).astype(np.float32), sr)


def _music_like(rng: np.random.Generator, sr: int, dur_s: float) -> np.ndarray:
    """Chords with note envelopes, a bass line and noisy drum hits: a dynamic, music-ish mix."""
    n = int(dur_s * sr)
    t = np.arange(n) / sr
    x = np.zeros((2, n))
    beat = 0.5
    for i, f0 in enumerate([110.0, 146.8, 130.8, 164.8] * int(dur_s / 2 + 1)):
        s, e = int(i * 2 * sr), min(n, int((i + 1) * 2 * sr))
        if s >= n:
            break
        tt = t[s:e] - t[s]
        env = np.exp(-tt * 1.5)
        chord = sum(np.sin(2 * np.pi * f0 * r * tt) for r in (2, 2.52, 3, 4)) * 0.08 * env
        bass = 0.25 * np.sin(2 * np.pi * f0 / 2 * tt) * np.exp(-tt * 3)
        x[0, s:e] += chord + bass
        x[1, s:e] += 0.8 * chord + bass
    hits = np.exp(-(t % beat) * 40) * rng.standard_normal(n) * 0.3
    swell = 0.5 + 0.5 * np.sin(2 * np.pi * t / 13.0)  # slow dynamics
    x += hits * swell
    return x


def _pyloudnorm(x: np.ndarray, sr: int) -> float:
    return float(pyloudnorm.Meter(sr).integrated_loudness(np.ascontiguousarray(x.T, np.float64)))


# ---- integrated loudness against pyloudnorm ---------------------------------------------------


@pytest.mark.parametrize("sr", [44100, 48000])
def test_integrated_matches_pyloudnorm_on_stereo_noise(rng, sr):
    x = (0.1 * rng.standard_normal((2, 15 * sr))).astype(np.float32)
    ours = measure_loudness(Audio(x, sr)).integrated_lufs
    assert ours == pytest.approx(_pyloudnorm(x.astype(np.float64), sr), abs=0.1)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_integrated_matches_pyloudnorm_on_music_like_signal(rng, sr):
    x = _music_like(rng, sr, 30.0).astype(np.float32)
    ours = measure_loudness(Audio(x, sr)).integrated_lufs
    ref = _pyloudnorm(x.astype(np.float64), sr)
    assert ours == pytest.approx(ref, abs=0.1), (ours, ref)


def test_integrated_matches_pyloudnorm_with_gated_quiet_parts(rng):
    sr = 44100
    loud = 0.2 * rng.standard_normal(10 * sr)
    quiet = 0.002 * rng.standard_normal(10 * sr)  # well below the relative gate
    x = np.concatenate([loud, quiet, np.zeros(5 * sr), loud])[np.newaxis].astype(np.float32)
    ours = measure_loudness(Audio(x, sr)).integrated_lufs
    assert ours == pytest.approx(_pyloudnorm(x.astype(np.float64), sr), abs=0.1)


# ---- block boundaries do not matter ----------------------------------------------------------


def test_block_size_does_not_change_anything(rng):
    sr = 44100
    x = _music_like(rng, sr, 12.0).astype(np.float32)
    one = LoudnessMeter(sr, 2)
    one.process(x)
    many = LoudnessMeter(sr, 2)
    sizes = [1, 7, 62, 63, 64, 1000, 4409, 12345, 3, 44100]
    i = k = 0
    while i < x.shape[1]:
        s = sizes[k % len(sizes)]
        many.process(x[:, i:i + s])
        i, k = i + s, k + 1
    a, b = one.report(), many.report()
    for field in ("integrated_lufs", "short_term_max_lufs", "momentary_max_lufs",
                  "loudness_range_lu", "true_peak_dbtp", "sample_peak_dbfs"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), abs=1e-6), field
    np.testing.assert_allclose(one.hop_energy, many.hop_energy, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(one.hop_true_peak, many.hop_true_peak)


def test_per_hop_arrays(rng):
    sr = 48000
    m = LoudnessMeter(sr, 2)
    assert m.hop == 64
    m.process((0.1 * rng.standard_normal((2, 10_000))).astype(np.float32))
    n_hops = math.ceil(10_000 / 64)
    assert m.hop_energy.shape == (n_hops,) and m.hop_true_peak.shape == (n_hops,)
    assert np.all(m.hop_true_peak > 0)
    # a gain applied to the energy is the loudness of the gained signal
    e = m.hop_energy
    ref = integrated_from_energy(e, hop=m.hop, sr=sr, n_samples=m.n_samples)
    gained = integrated_from_energy(e * 10 ** (-6 / 10), hop=m.hop, sr=sr, n_samples=m.n_samples)
    assert gained == pytest.approx(ref - 6.0, abs=1e-9)


@pytest.mark.parametrize("sr, hop", [(44100, 63), (48000, 64), (22050, 63), (32000, 64),
                                     (96000, 64), (8000, 50)])
def test_auto_hop_divides_100_ms(sr, hop):
    assert auto_hop(sr) == hop
    assert (sr // 10) % hop == 0


def test_rate_not_a_multiple_of_10_hz_is_refused():
    with pytest.raises(ParameterError, match="multiple of 10 Hz"):
        LoudnessMeter(11025, 2)


# ---- EBU Tech 3341 / 3342 style cases ----------------------------------------------------------


@pytest.mark.parametrize("sr", [44100, 48000])
def test_stereo_1khz_sine_at_minus_23_dbfs_reads_minus_23_lufs(sr):
    rep = measure_loudness(_stereo(_sine(1000, 10 ** (-23 / 20), 20.0, sr), sr))
    assert rep.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    # a steady signal: momentary and short-term maxima equal the integrated loudness
    assert rep.momentary_max_lufs == pytest.approx(-23.0, abs=0.1)
    assert rep.short_term_max_lufs == pytest.approx(-23.0, abs=0.1)
    assert rep.loudness_range_lu == pytest.approx(0.0, abs=0.1)
    assert rep.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01)


def test_true_peak_shows_the_inter_sample_peak():
    sr = 48000
    x = _sine(sr / 4, 0.5, 1.0, sr, phase=np.pi / 4)  # samples at +-0.354, the peak is 0.5
    rep = measure_loudness(_stereo(x, sr))
    assert rep.sample_peak_dbfs == pytest.approx(20 * math.log10(0.5 * math.sqrt(0.5)), abs=0.01)
    assert rep.true_peak_dbtp == pytest.approx(20 * math.log10(0.5), abs=0.3)  # -6.02 dBTP
    assert rep.true_peak_dbtp > rep.sample_peak_dbfs + 2.5


def test_true_peak_never_below_sample_peak(rng):
    x = np.zeros((1, 4800), np.float32)
    x[0, 2400] = 0.9  # an impulse: the interpolator's phases do not land on the sample
    rep = measure_loudness(Audio(x, 48000))
    assert rep.true_peak_dbtp >= rep.sample_peak_dbfs


@pytest.mark.parametrize("levels, lra", [((-20, -30), 10.0), ((-20, -15), 5.0),
                                         ((-40, -20), 20.0)])
def test_loudness_range_tech_3342_cases(levels, lra):
    sr = 48000
    # a stereo 1 kHz sine at A dBFS each channel reads A LUFS: 20 s at one level, 20 s at the other
    x = np.concatenate([_sine(1000, 10 ** (lv / 20), 20.0, sr) for lv in levels])
    rep = measure_loudness(_stereo(x, sr))
    assert rep.loudness_range_lu == pytest.approx(lra, abs=1.0)


def test_momentary_catches_a_short_burst(rng):
    sr = 44100
    x = 0.01 * rng.standard_normal(10 * sr)
    x[5 * sr:5 * sr + sr // 2] *= 30  # half a second, ~30 dB louder
    rep = measure_loudness(Audio(x[np.newaxis].astype(np.float32), sr))
    # the 400 ms window sees the burst almost alone; the 3 s window averages it with quiet
    assert rep.momentary_max_lufs > rep.short_term_max_lufs + 5
    # the quiet part falls under the relative gate: the integrated loudness is the burst's
    assert rep.integrated_lufs > rep.short_term_max_lufs


def test_windowed_loudness_steps_of_100_ms():
    sr = 48000
    m = LoudnessMeter(sr, 2)
    m.process(_stereo(_sine(1000, 0.1, 5.0, sr), sr).samples)
    st = windowed_loudness(m.hop_energy, hop=m.hop, sr=sr, window_s=3.0, n_samples=m.n_samples)
    mom = windowed_loudness(m.hop_energy, hop=m.hop, sr=sr, window_s=0.4, n_samples=m.n_samples)
    assert st.shape == (21,) and mom.shape == (47,)
    with pytest.raises(ParameterError):
        windowed_loudness(m.hop_energy, hop=m.hop, sr=sr, window_s=0.25)


# ---- silence and edge cases ----------------------------------------------------------------------


def test_silence_is_minus_infinity_and_json_ready():
    rep = measure_loudness(Audio(np.zeros((2, 5 * 44100), np.float32), 44100))
    assert rep.integrated_lufs == -math.inf and rep.momentary_max_lufs == -math.inf
    assert rep.true_peak_dbtp == -math.inf and rep.loudness_range_lu == 0.0
    d = rep.to_dict()
    assert d["integrated_lufs"] is None and d["true_peak_dbtp"] is None
    assert json.loads(json.dumps(d))["duration_s"] == 5.0


def test_very_short_and_empty_input():
    m = LoudnessMeter(44100, 1)
    assert m.report().integrated_lufs == -math.inf  # nothing processed
    m.process(np.zeros((1, 0), np.float32))
    m.process(_sine(1000, 0.5, 0.2, 44100)[np.newaxis])  # shorter than one gating block
    rep = m.report()
    assert rep.integrated_lufs == -math.inf
    assert math.isfinite(rep.momentary_max_lufs) and math.isfinite(rep.true_peak_dbtp)


def test_bad_blocks_are_refused():
    m = LoudnessMeter(44100, 2)
    with pytest.raises(ParameterError, match=r"\(2, n\)"):
        m.process(np.zeros((1, 100)))
    x = np.zeros((2, 100))
    x[0, 5] = np.nan
    with pytest.raises(ParameterError, match="NaN/Inf"):
        m.process(x)
    with pytest.raises(ParameterError, match="channels"):
        LoudnessMeter(44100, 6)
    LoudnessMeter(44100, 6, channel_weights=[1, 1, 1, 0, 1.41, 1.41])


def test_surround_weights_follow_bs1770(rng):
    sr = 48000
    x = (0.05 * rng.standard_normal((5, 10 * sr))).astype(np.float32)
    ours = measure_loudness(Audio(x, sr)).integrated_lufs
    assert ours == pytest.approx(_pyloudnorm(x.astype(np.float64), sr), abs=0.1)


def test_measure_file_equals_measure_loudness(tmp_path, rng):
    sr = 44100
    a = Audio(_music_like(rng, sr, 8.0).astype(np.float32), sr)
    p = tmp_path / "m.wav"
    sf.write(str(p), a.samples.T, sr, subtype="FLOAT")
    assert measure_file(p, block_s=0.77) == measure_loudness(a)


def test_report_is_frozen():
    rep = LoudnessReport(-14.0, -12.0, -10.0, 5.0, -1.0, -1.2, 3.0, 44100)
    with pytest.raises(AttributeError):
        rep.integrated_lufs = 0.0  # type: ignore[misc]


# ---- memory ------------------------------------------------------------------------------------


def _retained_bytes(obj: object) -> int:
    total = 0
    for v in vars(obj).values():
        items = v if isinstance(v, list) else [v]
        total += sum(x.nbytes for x in items if isinstance(x, np.ndarray))
    return total


def _peak_traced_bytes(minutes: float, block: np.ndarray, sr: int) -> tuple[int, int]:
    m = LoudnessMeter(sr, 2)
    n_blocks = int(minutes * 60 * sr / block.shape[1])
    tracemalloc.start()
    try:
        for _ in range(n_blocks):
            m.process(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, _retained_bytes(m)


@pytest.mark.slow
def test_memory_stays_flat_over_30_minutes(rng):
    sr = 44100
    block = (0.1 * rng.standard_normal((2, 10 * sr))).astype(np.float32)  # 10 s blocks
    m = LoudnessMeter(sr, 2)
    for _ in range(180):  # 30 minutes
        m.process(block)
    n_hops = math.ceil(m.n_samples / m.hop)
    # what the meter keeps: the per-hop arrays (2 x 8 bytes a hop, ~11 MB) and a few samples
    assert _retained_bytes(m) <= 16 * n_hops + 64 * 1024
    assert m.report().duration_s == pytest.approx(1800.0)
    # and the peak while processing grows only by those arrays
    peak_1, kept_1 = _peak_traced_bytes(1, block, sr)
    peak_6, kept_6 = _peak_traced_bytes(6, block, sr)
    assert peak_6 - peak_1 < 1.5 * (kept_6 - kept_1) + 2e6, (peak_1, peak_6, kept_6)

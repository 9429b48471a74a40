"""Streamed fingerprints (long files, block by block): the same peaks as in memory, flat memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from identify_helpers import SR, synth_song

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError
from yuefu.listen.identify import FingerprintConfig, find_peaks, fingerprint_audio, open_catalog
from yuefu.listen.identify.fingerprint import find_peaks_stream, fingerprint_peaks


def _blocks(x: np.ndarray, n: int):
    for a in range(0, x.shape[0], n):
        yield x[a: a + n][None, :]


def _pairs(fp) -> set[tuple[int, int]]:
    return set(zip(fp.hashes.tolist(), fp.times.tolist(), strict=True))


def test_one_segment_at_the_analysis_rate_gives_exactly_the_in_memory_peaks():
    cfg = FingerprintConfig()
    x = synth_song(3, 20.0, sr=cfg.sr)
    whole = find_peaks(Audio(x, cfg.sr), cfg)
    pk, n, peak = find_peaks_stream(_blocks(x, 12345), cfg.sr, cfg, segment_s=60.0)
    assert n == x.shape[0] and peak == pytest.approx(float(np.max(np.abs(x))))
    assert pk.n_frames == whole.n_frames
    np.testing.assert_array_equal(pk.t, whole.t)
    np.testing.assert_array_equal(pk.f, whole.f)


@pytest.mark.parametrize("sr", [SR, 44100])
def test_segments_and_resampling_join_into_the_in_memory_fingerprint(sr):
    """Cut into 7 s segments and 3 s blocks (resampled piecewise), the (hash, time) pairs of
    the in-memory fingerprint come out (all of them on these songs; 99.5% is required, the
    resampler's rounding may move a peak)."""
    cfg = FingerprintConfig()
    x = synth_song(4, 40.0, sr=sr)
    ref = fingerprint_audio(Audio(x, sr), cfg)
    pk, n, _ = find_peaks_stream(_blocks(x, 3 * sr), sr, cfg, segment_s=7.0)
    got = fingerprint_peaks(pk, n / sr, cfg)
    a, b = _pairs(ref), _pairs(got)
    assert len(a & b) >= 0.995 * len(a), (len(a & b), len(a), len(b))
    assert len(b) <= 1.005 * len(a)
    assert got.duration_s == pytest.approx(40.0)


def test_streaming_memory_does_not_grow_with_the_length():
    cfg = FingerprintConfig()
    loop = synth_song(5, 10.0, sr=cfg.sr)

    def peak_mib(minutes: int) -> float:
        def gen():
            for _ in range(minutes * 6):
                yield loop[None, :]
        tracemalloc.start()
        pk, _, _ = find_peaks_stream(gen(), cfg.sr, cfg, segment_s=20.0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert pk.t.shape[0] > minutes * 60 * 10
        return peak / 2 ** 20

    short, long = peak_mib(2), peak_mib(8)
    # four times the audio: the peaks grow (16 bytes each), the working set must not
    assert long < 1.3 * short + 2.0, (short, long)


def test_bad_segment_length_is_refused():
    with pytest.raises(ParameterError, match="segment_s"):
        find_peaks_stream(iter(()), SR, segment_s=0.0)


def test_long_files_are_streamed_into_the_catalog(tmp_path, monkeypatch):
    from yuefu.listen.identify import catalog as catalog_mod

    monkeypatch.setattr(catalog_mod, "STREAM_ABOVE_S", 5.0)
    calls = {"n": 0}
    real = catalog_mod.find_peaks_stream

    def spy(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(catalog_mod, "find_peaks_stream", spy)
    x = synth_song(6, 30.0)
    sf.write(str(tmp_path / "long.flac"), x, SR)
    with open_catalog(tmp_path / "c.db", create=True) as cat:
        rep = cat.add([tmp_path / "long.flac"], jobs=1)
        assert rep.added and calls["n"] == 1
        assert cat.stats().audio_s == pytest.approx(30.0, abs=0.01)
        res = cat.query(Audio(x[int(12.0 * SR): int(19.0 * SR)], SR))
    assert res.match is not None and res.match.track == "long"
    assert abs(res.match.offset_s - 12.0) <= 0.1

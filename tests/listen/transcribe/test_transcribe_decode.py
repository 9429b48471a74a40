"""The pieces under transcribe_piano: streaming resampler, chunked decoding, note decoder, model file."""

from __future__ import annotations

from math import gcd

import numpy as np
import pytest
from scipy.signal import resample_poly

from yuefu.core.audio import Audio
from yuefu.core.errors import ModelLoadError
from yuefu.listen.transcribe import model as model_mod
from yuefu.listen.transcribe import piano
from yuefu.listen.transcribe.decode import DecodeSettings, RawNote, decode_segment, postprocess
from yuefu.listen.transcribe.frontend import StreamResampler


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100, 48000, 96000])
def test_stream_resampler_equals_whole_signal(sr: int, rng: np.random.Generator) -> None:
    x = rng.standard_normal(3 * sr + 77).astype(np.float32)
    rs = StreamResampler(sr, 22050)
    parts, i = [], 0
    while i < len(x):
        n = int(rng.integers(1, sr))
        parts.append(rs.push(x[i:i + n]))
        i += n
    parts.append(rs.flush())
    y = np.concatenate(parts)
    g = gcd(sr, 22050)
    ref = resample_poly(x, 22050 // g, sr // g)
    assert len(y) == len(ref)
    np.testing.assert_allclose(y, ref, atol=1e-5)


def _post(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    z = np.zeros((t, 88), dtype=np.float32)
    return z.copy(), z.copy(), z + 1e-6, z + 1e-6


def test_decoder_starts_and_ends_notes() -> None:
    note, onset, energy, fund = _post(200)
    k = 60 - 21
    onset[9:12, k] = [0.5, 0.9, 0.4]      # a strike at frame 10
    note[10:50, k] = 0.8                   # sounding until frame 50
    onset[79:82, k] = [0.4, 0.8, 0.3]      # struck again at frame 80 while ringing
    note[80:120, k] = 0.7
    onset[150:153, k + 1] = [0.1, 0.2, 0.1]  # below the onset threshold: no note
    note[150:170, k + 1] = 0.9
    dec = DecodeSettings(onset_threshold=0.3, frame_threshold=0.3, min_note_frames=1,
                         energy_tol_frames=5, refine_onsets=False)
    got = sorted(decode_segment(note, onset, energy, fund, dec), key=lambda n: n.onset)
    assert [(n.pitch, n.onset, n.end) for n in got] == [(60, 10, 50), (60, 80, 120)]
    # basic-pitch's melodia trick would add the onset-less C#4
    mel = decode_segment(note, onset, energy, fund,
                         DecodeSettings(0.3, 0.3, 1, 5, melodia=True, refine_onsets=False))
    assert sorted(n.pitch for n in mel) == [60, 60, 61]


def test_merge_keeps_the_stronger_onset() -> None:
    a = RawNote(100.0, 110, 64, 0.5, 0.4, 1e-3)
    b = RawNote(103.0, 150, 64, 0.7, 0.9, 1e-3)
    dec = DecodeSettings(0.3, 0.3, 1, merge_frames=4.3)
    (m,) = postprocess([a, b], dec)
    assert (m.onset, m.end, m.onset_strength) == (103.0, 150, 0.9)
    assert len(postprocess([a, b], DecodeSettings(0.3, 0.3, 1, merge_frames=2.0))) == 2


def test_chunked_decoding_equals_whole(monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> None:
    # 8 s of plucked tones; decode it in 2-s segments with 1-s lookahead and in one piece
    sr = 22050
    t = np.arange(int(0.4 * sr)) / sr
    y = np.zeros(8 * sr, dtype=np.float32)
    for i, p in enumerate(rng.integers(48, 84, size=18)):
        f0 = 440.0 * 2 ** ((p - 69) / 12)
        tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3)) * np.exp(-6 * t)
        s = int((0.2 + 0.41 * i) * sr)
        y[s:s + len(t)] += 0.2 * tone.astype(np.float32)
    audio = Audio(y, sr)
    whole = piano.transcribe_notes(audio)
    monkeypatch.setattr(piano, "_SEGMENT_FRAMES", 172)
    monkeypatch.setattr(piano, "_LOOKAHEAD_FRAMES", 86)
    chunked = piano.transcribe_notes(audio)
    assert len(whole) > 10
    assert [(n.pitch, round(n.onset, 3), n.end) for n in chunked] == \
           [(n.pitch, round(n.onset, 3), n.end) for n in whole]


def test_altered_model_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    model_mod.model_file.cache_clear()
    monkeypatch.setattr(model_mod, "MODEL_SHA256", "0" * 64)
    try:
        with pytest.raises(ModelLoadError, match="sha256 .* is not basic-pitch 0.4.0's model"):
            model_mod.model_file()
    finally:
        model_mod.model_file.cache_clear()

"""Synthetic songs for the identification tests: random notes with harmonics, seeded."""

from __future__ import annotations

import numpy as np

SR = 16000


def synth_song(seed: int, dur_s: float = 20.0, sr: int = SR) -> np.ndarray:
    """A deterministic 'song': three voices of random notes (harmonic tones with decay)."""
    rng = np.random.default_rng(seed)
    n = int(dur_s * sr)
    y = np.zeros(n, np.float64)
    for voice, (lo, hi) in enumerate([(45, 60), (57, 72), (64, 88)]):
        t = 0.0
        while t < dur_s:
            d = float(rng.choice([0.125, 0.25, 0.25, 0.5]))
            f0 = 440.0 * 2 ** ((int(rng.integers(lo, hi)) - 69) / 12)
            i0, i1 = int(t * sr), min(n, int((t + d) * sr))
            tt = np.arange(i1 - i0) / sr
            env = np.exp(-tt * (3 + 2 * voice))
            tone = sum(np.sin(2 * np.pi * f0 * k * tt) / k for k in range(1, 6) if f0 * k < sr / 2)
            y[i0:i1] += env * tone * (0.6 if voice == 0 else 0.4)
            t += d
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)

"""``Audio``: float32 samples shaped (channels, n) with their sample rate.

Nothing here resamples silently: a resample is always an explicit call that names the rate.

>>> import numpy as np
>>> a = Audio(np.zeros((2, 44100), dtype=np.float32), 44100)
>>> a.duration_s, a.channels
(1.0, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError

__all__ = ["Audio"]


@dataclass(frozen=True)
class Audio:
    """Audio samples and their rate.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, n), dtype=float32]
        Samples in -1..1 full scale (values beyond are kept, not clipped). A 1-D array is taken
        as mono and reshaped to (1, n).
    sr : int
        Sample rate in Hz.
    """

    samples: np.ndarray
    sr: int

    def __post_init__(self) -> None:
        x = np.asarray(self.samples)
        if x.ndim == 1:
            x = x[np.newaxis, :]
        if x.ndim != 2:
            raise ParameterError(f"audio samples must be shaped (channels, n), got shape {x.shape}")
        if x.shape[0] > 64:
            raise ParameterError(
                f"audio has {x.shape[0]} channels; samples must be shaped (channels, n), "
                "not (n, channels)"
            )
        if not 1000 <= int(self.sr) <= 768000:
            raise ParameterError(f"sample rate must be 1000..768000 Hz, got {self.sr}")
        object.__setattr__(self, "samples", np.ascontiguousarray(x, dtype=np.float32))
        object.__setattr__(self, "sr", int(self.sr))

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sr

    def to_mono(self) -> Audio:
        """Average of the channels."""
        return Audio(self.samples.mean(axis=0, keepdims=True), self.sr)

    def to_stereo(self) -> Audio:
        """Mono duplicated to two channels; stereo unchanged; more channels refused."""
        if self.channels == 2:
            return self
        if self.channels == 1:
            return Audio(np.repeat(self.samples, 2, axis=0), self.sr)
        raise ParameterError(f"cannot make stereo from {self.channels} channels")

    def peak(self) -> float:
        """Largest absolute sample value (0 for empty audio)."""
        return float(np.max(np.abs(self.samples))) if self.samples.size else 0.0

    def is_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.samples)))

    def resample(self, sr: int) -> Audio:
        """Resample to ``sr`` Hz with a polyphase filter (scipy)."""
        from math import gcd

        from scipy.signal import resample_poly

        if sr == self.sr:
            return self
        g = gcd(int(sr), self.sr)
        y = resample_poly(self.samples, int(sr) // g, self.sr // g, axis=1)
        return Audio(y.astype(np.float32), int(sr))

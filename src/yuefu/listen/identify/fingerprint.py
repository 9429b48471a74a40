"""Landmark fingerprints: spectral peaks paired into hashes (Wang 2003), ready for speed search.

The audio is mixed to mono and resampled to :data:`FingerprintConfig.sr` (8 kHz by default; the
resample is explicit, with :func:`scipy.signal.resample_poly`). A Hann STFT with 50% overlap
gives a log-magnitude spectrogram; peaks are the local maxima of a time-frequency neighbourhood
that stand out from a smoothed background (an adaptive threshold), thinned to the strongest
few per second. Peak times and frequencies are refined to fractions of a frame and of a bin by
parabolic interpolation, so that a query played faster or slower can be mapped back exactly.

Each peak (the anchor) is paired with the next ``fan_out`` peaks in its target zone; a pair
``(f1, f2 - f1, t2 - t1)`` is quantised to a 22-bit hash. A catalog stores
``(hash, track, anchor frame)``; a query is hashed once per candidate speed factor ``s`` after
mapping its peaks back to the reference's scale (``t * s``, ``f / s``), see
:func:`query_hashes`.

>>> import numpy as np
>>> from yuefu.core.audio import Audio
>>> rng = np.random.default_rng(0)
>>> fp = fingerprint_audio(Audio(rng.standard_normal(8000 * 3).astype(np.float32), 8000))
>>> fp.hashes.dtype, fp.hashes.shape[0] == fp.times.shape[0]
(dtype('int64'), True)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import AudioLoadError, ParameterError

__all__ = [
    "FingerprintConfig",
    "Peaks",
    "Fingerprint",
    "find_peaks",
    "pair_peaks",
    "fingerprint_audio",
    "query_hashes",
    "to_analysis_rate",
    "MIN_QUERY_S",
]

#: Shortest clip that can be identified, in seconds.
MIN_QUERY_S = 1.0

_DT_BITS = 6
_DF_BITS = 8
_F_BITS = 8


@dataclass(frozen=True)
class FingerprintConfig:
    """How audio becomes hashes. A catalog stores its config; queries must use the same one.

    Attributes
    ----------
    sr : int
        Analysis sample rate, Hz (audio is resampled to it).
    n_fft : int
        STFT window, samples at ``sr`` (512 at 8 kHz: 64 ms, 15.6 Hz bins).
    hop : int
        STFT hop, samples (half the window: 50% overlap).
    peak_f_bins, peak_t_frames : int
        Neighbourhood (frequency bins x frames) in which a peak must be the maximum.
    peaks_per_s : float
        Upper bound on the peak density: the strongest peaks of each second are kept.
    min_prominence_db : float
        A peak must stand this far above its smoothed background (the adaptive threshold).
    fan_out : int
        Pairs formed from each anchor peak (the nearest peaks in time in its target zone).
    max_dt : int
        Target zone length, frames (at most 63).
    max_df : int
        Target zone half-height, bins (at most 127).
    f_min_hz, f_max_hz : float
        Peaks are searched in this band.
    """

    sr: int = 8000
    n_fft: int = 512
    hop: int = 256
    peak_f_bins: int = 23
    peak_t_frames: int = 9
    peaks_per_s: float = 30.0
    min_prominence_db: float = 3.0
    fan_out: int = 6
    max_dt: int = 48
    max_df: int = 100
    f_min_hz: float = 120.0
    f_max_hz: float = 3900.0
    version: int = field(default=1)

    def __post_init__(self) -> None:
        if self.n_fft // 2 > 2 ** _F_BITS:
            raise ParameterError(f"n_fft must be <= {2 ** (_F_BITS + 1)}, got {self.n_fft}")
        if not 1 <= self.max_dt < 2 ** _DT_BITS:
            raise ParameterError(f"max_dt must be 1..{2 ** _DT_BITS - 1}, got {self.max_dt}")
        if not 1 <= self.max_df < 2 ** (_DF_BITS - 1):
            raise ParameterError(f"max_df must be 1..{2 ** (_DF_BITS - 1) - 1}, got {self.max_df}")
        if self.hop <= 0 or self.hop > self.n_fft:
            raise ParameterError(f"hop must be 1..n_fft, got {self.hop}")

    @property
    def frame_s(self) -> float:
        """Seconds per STFT frame (the unit of stored times)."""
        return self.hop / self.sr

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FingerprintConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ParameterError(f"unknown fingerprint setting(s): {', '.join(unknown)}")
        return cls(**d)


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks, sorted by time.

    Attributes
    ----------
    t : np.ndarray [shape=(n,), float64]
        Time in STFT frames (fractional).
    f : np.ndarray [shape=(n,), float64]
        Frequency in STFT bins (fractional).
    n_frames : int
        Frames in the analysed audio.
    """

    t: np.ndarray
    f: np.ndarray
    n_frames: int


@dataclass(frozen=True)
class Fingerprint:
    """The hashes of one recording.

    Attributes
    ----------
    hashes : np.ndarray [shape=(n,), int64]
        22-bit landmark hashes.
    times : np.ndarray [shape=(n,), int32]
        Anchor time of each hash, STFT frames.
    duration_s : float
        Length of the audio, seconds.
    n_peaks : int
        Peaks found.
    """

    hashes: np.ndarray
    times: np.ndarray
    duration_s: float
    n_peaks: int


def to_analysis_rate(audio: Audio, sr: int) -> np.ndarray:
    """Mono float32 samples at ``sr`` Hz (resampled with a polyphase filter when needed)."""
    x = audio.samples.mean(axis=0) if audio.channels > 1 else audio.samples[0]
    if audio.sr != sr:
        from scipy.signal import resample_poly

        g = math.gcd(int(sr), int(audio.sr))
        x = resample_poly(x.astype(np.float64), sr // g, audio.sr // g)
    return np.asarray(x, dtype=np.float32)


def _log_spectrogram(x: np.ndarray, cfg: FingerprintConfig) -> np.ndarray:
    """Log power (dB) spectrogram shaped (bins, frames)."""
    n = cfg.n_fft
    if x.shape[0] < n:
        x = np.pad(x, (0, n - x.shape[0]))
    n_frames = 1 + (x.shape[0] - n) // cfg.hop
    idx = np.arange(n)[None, :] + cfg.hop * np.arange(n_frames)[:, None]
    win = np.hanning(n + 2)[1:-1].astype(np.float32)
    spec = np.fft.rfft(x[idx] * win, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    return (10.0 * np.log10(power.T + 1e-10)).astype(np.float32)


def find_peaks(audio: Audio, cfg: FingerprintConfig | None = None) -> Peaks:
    """Spectral peaks of ``audio`` (any rate, any channels): local maxima over an adaptive threshold.

    Parameters
    ----------
    audio : Audio
    cfg : FingerprintConfig, optional

    Returns
    -------
    Peaks
        Sorted by time; empty for silence.
    """
    from scipy.ndimage import maximum_filter, uniform_filter

    cfg = cfg or FingerprintConfig()
    x = to_analysis_rate(audio, cfg.sr)
    s = _log_spectrogram(x, cfg)
    n_bins, n_frames = s.shape
    # the adaptive threshold: a local mean of the log spectrogram plus a margin, and a floor
    # 70 dB under the loudest bin so that digital silence and dither give no peaks
    background = uniform_filter(s, size=(31, 31), mode="nearest")
    floor = float(s.max()) - 70.0
    local_max = maximum_filter(s, size=(cfg.peak_f_bins, cfg.peak_t_frames), mode="nearest")
    lo = max(1, int(cfg.f_min_hz * cfg.n_fft / cfg.sr))
    hi = min(n_bins - 2, int(cfg.f_max_hz * cfg.n_fft / cfg.sr))
    band = np.zeros(n_bins, dtype=bool)
    band[lo:hi + 1] = True
    prominence = s - background
    mask = (s == local_max) & (prominence >= cfg.min_prominence_db) & (s > floor) & band[:, None]
    if float(s.max()) < -90.0:  # all-zero input: nothing to find
        mask[:] = False
    fb, tf = np.nonzero(mask)
    if fb.size == 0:
        return Peaks(np.zeros(0), np.zeros(0), n_frames)
    strength = prominence[fb, tf]
    # keep the strongest peaks of each one-second block
    block = max(1, int(round(1.0 / cfg.frame_s)))
    keep_per_block = max(1, int(round(cfg.peaks_per_s * block * cfg.frame_s)))
    blk = tf // block
    order = np.lexsort((-strength, blk))
    blk_sorted = blk[order]
    starts = np.searchsorted(blk_sorted, blk_sorted, side="left")
    rank = np.arange(order.size) - starts
    sel = order[rank < keep_per_block]
    fb, tf = fb[sel], tf[sel]
    # parabolic refinement in frequency and in time
    def _refine(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        den = a - 2.0 * b + c
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / den, 0.0)
        return np.clip(d, -0.5, 0.5)

    sf = s.astype(np.float64)
    df = _refine(sf[fb - 1, tf], sf[fb, tf], sf[fb + 1, tf])
    tl = np.clip(tf - 1, 0, n_frames - 1)
    tr = np.clip(tf + 1, 0, n_frames - 1)
    dt = np.where((tf > 0) & (tf < n_frames - 1), _refine(sf[fb, tl], sf[fb, tf], sf[fb, tr]), 0.0)
    t = tf + dt
    f = fb + df
    o = np.argsort(t, kind="stable")
    return Peaks(t[o], f[o], n_frames)


def pair_peaks(peaks: Peaks, cfg: FingerprintConfig | None = None, *,
               slack: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Anchor/target index pairs: each peak with the next ``fan_out`` peaks in its target zone.

    ``slack`` widens the zone (a query is paired in a zone wide enough for the fastest speed
    searched; pairs outside the reference zone are dropped after rescaling).

    Returns
    -------
    i, j : np.ndarray [shape=(m,), int64]
        Anchor and target indices into ``peaks``.
    """
    cfg = cfg or FingerprintConfig()
    n = peaks.t.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    look = min(n - 1, 4 * cfg.fan_out + 8)
    i = np.arange(n)[:, None]
    j = i + np.arange(1, look + 1)[None, :]
    valid = j < n
    jc = np.minimum(j, n - 1)
    dt = peaks.t[jc] - peaks.t[i]
    df = peaks.f[jc] - peaks.f[i]
    valid &= (dt >= 0.5) & (dt <= (cfg.max_dt + 0.49) * slack) & (np.abs(df) <= cfg.max_df * slack)
    rank = np.cumsum(valid, axis=1)
    valid &= rank <= cfg.fan_out
    ii, kk = np.nonzero(valid)
    return ii.astype(np.int64), jc[ii, kk].astype(np.int64)


def _hash(f1: np.ndarray, df: np.ndarray, dt: np.ndarray) -> np.ndarray:
    return ((f1.astype(np.int64) << (_DF_BITS + _DT_BITS))
            | ((df.astype(np.int64) + 2 ** (_DF_BITS - 1)) << _DT_BITS)
            | dt.astype(np.int64))


def _quantise(t1: np.ndarray, f1: np.ndarray, f2: np.ndarray, dt: np.ndarray,
              cfg: FingerprintConfig) -> tuple[np.ndarray, np.ndarray]:
    f1q = np.rint(f1)
    dfq = np.rint(f2 - f1)
    dtq = np.rint(dt)
    ok = ((f1q >= 0) & (f1q < 2 ** _F_BITS) & (np.abs(dfq) <= cfg.max_df)
          & (dtq >= 1) & (dtq <= cfg.max_dt))
    return _hash(f1q[ok], dfq[ok], dtq[ok]), ok


def fingerprint_audio(audio: Audio, cfg: FingerprintConfig | None = None) -> Fingerprint:
    """The landmark hashes of a recording (for a catalog).

    Parameters
    ----------
    audio : Audio
        Any sample rate and channel count.
    cfg : FingerprintConfig, optional

    Returns
    -------
    Fingerprint
    """
    cfg = cfg or FingerprintConfig()
    pk = find_peaks(audio, cfg)
    i, j = pair_peaks(pk, cfg)
    h, ok = _quantise(pk.t[i], pk.f[i], pk.f[j], pk.t[j] - pk.t[i], cfg)
    times = np.rint(pk.t[i][ok]).astype(np.int32)
    return Fingerprint(h, times, audio.duration_s, int(pk.t.shape[0]))


def speed_grid(max_speed_change: float, step: float) -> np.ndarray:
    """Speed factors searched for a query: 1 +- k * step up to ``max_speed_change``."""
    if max_speed_change < 0 or max_speed_change > 0.2:
        raise ParameterError(f"max speed change must be 0..0.2 (0..20%), got {max_speed_change}")
    if max_speed_change == 0:
        return np.ones(1)
    if step <= 0:
        raise ParameterError(f"speed step must be > 0, got {step}")
    k = int(math.floor(max_speed_change / step + 1e-9))
    ks = sorted(range(-k, k + 1), key=abs)
    return 1.0 + step * np.array(ks, dtype=np.float64)


def query_hashes(peaks: Peaks, speeds: np.ndarray,
                 cfg: FingerprintConfig | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash a query's peaks once per candidate speed factor.

    A query played ``s`` times faster than the reference has times ``t_ref / s`` and
    frequencies ``f_ref * s``; for each ``s`` in ``speeds`` the peaks are mapped back
    (``t * s``, ``f / s``) and hashed as the reference was.

    Returns
    -------
    hashes : np.ndarray [shape=(m,), int64]
    t_ref : np.ndarray [shape=(m,), float64]
        The anchor's time mapped to the reference's scale (``t * s``), frames.
    speed_index : np.ndarray [shape=(m,), int64]
        Index into ``speeds``.
    """
    cfg = cfg or FingerprintConfig()
    slack = float(np.max(speeds) / np.min(speeds)) * 1.01 if speeds.size else 1.0
    i, j = pair_peaks(peaks, cfg, slack=slack)
    hs, ts, ks = [], [], []
    for k, s in enumerate(speeds):
        h, ok = _quantise(peaks.t[i] * s, peaks.f[i] / s, peaks.f[j] / s,
                          (peaks.t[j] - peaks.t[i]) * s, cfg)
        hs.append(h)
        ts.append(peaks.t[i][ok] * s)
        ks.append(np.full(h.shape[0], k, dtype=np.int64))
    if not hs:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    return np.concatenate(hs), np.concatenate(ts), np.concatenate(ks)


def check_query_audio(audio: Audio, name: str = "query") -> None:
    """Refuse a clip shorter than :data:`MIN_QUERY_S` or silent, with a clear message."""
    if audio.duration_s < MIN_QUERY_S:
        raise AudioLoadError(f"{name}: the clip is {audio.duration_s:.2f} s long; "
                             f"give at least {MIN_QUERY_S:g} s of audio (5-10 s works best)")
    if audio.peak() < 1e-4:
        raise AudioLoadError(f"{name}: the clip is silent (peak below -80 dBFS); "
                             "record the music louder or closer")

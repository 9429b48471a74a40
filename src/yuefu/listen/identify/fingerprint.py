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

A long recording is fingerprinted block by block with :func:`find_peaks_stream` and
:func:`fingerprint_peaks` (memory: one two-minute segment, not the file); a recording no
longer than one segment gives exactly the in-memory peaks.

>>> import numpy as np
>>> from yuefu.core.audio import Audio
>>> rng = np.random.default_rng(0)
>>> fp = fingerprint_audio(Audio(rng.standard_normal(8000 * 3).astype(np.float32), 8000))
>>> fp.hashes.dtype, fp.hashes.shape[0] == fp.times.shape[0]
(dtype('int64'), True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
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
    "find_peaks_stream",
    "fingerprint_peaks",
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
    fan_out: int = 8
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
    cfg = cfg or FingerprintConfig()
    x = to_analysis_rate(audio, cfg.sr)
    s = _log_spectrogram(x, cfg)
    t, f = _spectrogram_peaks(s, cfg)
    return Peaks(t, f, s.shape[1])


#: Frames of spectrogram context on each side of a segment: the widest filter (the 31-frame
#: background) reaches 15 frames, the time refinement one.
_CONTEXT_FRAMES = 16


def _spectrogram_peaks(s: np.ndarray, cfg: FingerprintConfig, *, keep_from: int = 0,
                       keep_to: int | None = None, frame0: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Peaks of the columns ``keep_from:keep_to`` of ``s``; the other columns are context.

    ``frame0`` is the global frame index of column 0 (the strongest-peaks-per-second blocks are
    aligned on global frames, so that a file cut into segments gives the same peaks).
    Returns times (global frames, fractional) and frequencies (bins, fractional), sorted by time.
    """
    from scipy.ndimage import maximum_filter, uniform_filter

    n_bins, n_frames = s.shape
    keep_to = n_frames if keep_to is None else keep_to
    empty = (np.zeros(0), np.zeros(0))
    if n_frames == 0 or float(s.max()) < -90.0:  # all-zero input: nothing to find
        return empty
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
    mask[:, :keep_from] = False
    mask[:, keep_to:] = False
    fb, tf = np.nonzero(mask)
    if fb.size == 0:
        return empty
    strength = prominence[fb, tf]
    # keep the strongest peaks of each one-second block
    block = max(1, int(round(1.0 / cfg.frame_s)))
    keep_per_block = max(1, int(round(cfg.peaks_per_s * block * cfg.frame_s)))
    blk = (tf + frame0) // block
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
    t = tf + dt + frame0
    f = fb + df
    o = np.argsort(t, kind="stable")
    return t[o], f[o]


def _analysis_stream(blocks: Iterable[np.ndarray], sr: int, target_sr: int) -> Iterator[np.ndarray]:
    """Mono samples at ``target_sr`` from blocks at ``sr`` (shape (channels, n) or (n,)).

    Resampled piecewise with :func:`scipy.signal.resample_poly`: each piece starts on a
    multiple of the decimation factor and carries enough input on both sides for the filter,
    so the pieces join into (to rounding) the resampling of the whole signal.
    """
    from scipy.signal import resample_poly

    def mono(b: np.ndarray) -> np.ndarray:
        return (b.mean(axis=0) if b.ndim == 2 else b).astype(np.float64)

    if sr == target_sr:
        for b in blocks:
            yield mono(b).astype(np.float32)
        return
    g = math.gcd(int(target_sr), int(sr))
    up, down = target_sr // g, sr // g
    half = 10 * max(up, down) / up + 8  # the default Kaiser filter's half length, input samples
    ctx = down * int(math.ceil(half / down))
    buf = np.zeros(0)
    base = 0  # global input index of buf[0]
    done = 0  # input samples emitted (a multiple of down until the end)
    for b in blocks:
        buf = np.concatenate([buf, mono(b)])
        end = base + buf.shape[0]
        emit_to = ((end - ctx) // down) * down
        if emit_to - done < 8 * down:
            continue
        lo = max(0, done - ctx)
        y = resample_poly(buf[lo - base: emit_to + ctx - base], up, down)
        a = (done - lo) // down * up
        yield y[a: a + (emit_to - done) // down * up].astype(np.float32)
        done = emit_to
        cut = max(0, done - ctx) - base
        buf, base = buf[cut:], base + cut
    end = base + buf.shape[0]
    if end > done:
        lo = max(0, done - ctx)
        y = resample_poly(buf[lo - base:], up, down)
        yield y[(done - lo) // down * up:].astype(np.float32)


def find_peaks_stream(blocks: Iterable[np.ndarray], sr: int, cfg: FingerprintConfig | None = None,
                      *, segment_s: float = 120.0) -> tuple[Peaks, int, float]:
    """Peaks of a long recording given block by block; memory stays flat (one segment).

    The spectrogram is made and searched one segment of ``segment_s`` at a time, with
    :data:`_CONTEXT_FRAMES` frames of context on each side, so that every filter sees what it
    would see in the whole file. A recording no longer than one segment gives exactly the
    peaks of :func:`find_peaks`; a longer one differs only in the silence floor (70 dB under
    the loudest bin of the segment instead of the file) and in rounding of the resampler.

    Parameters
    ----------
    blocks : iterable of np.ndarray [shape=(channels, n) or (n,)]
        Consecutive samples at ``sr`` (e.g. :func:`yuefu.core.io.audio.iter_audio_blocks`).
    sr : int
        Their sample rate, Hz.
    cfg : FingerprintConfig, optional
    segment_s : float
        Segment length, seconds.

    Returns
    -------
    peaks : Peaks
    n_samples : int
        Samples per channel read, at ``sr``.
    peak_abs : float
        Largest absolute sample (to refuse silence).
    """
    cfg = cfg or FingerprintConfig()
    if not segment_s > 0:
        raise ParameterError(f"segment_s must be > 0 seconds, got {segment_s}")
    block = max(1, int(round(1.0 / cfg.frame_s)))
    seg = block * max(1, int(math.ceil(segment_s / cfg.frame_s / block)))
    ctx, hop, n = _CONTEXT_FRAMES, cfg.hop, cfg.n_fft
    n_in = 0
    peak_abs = 0.0

    def counted(it: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        nonlocal n_in, peak_abs
        for b in it:
            n_in += int(b.shape[-1])
            if b.size:
                peak_abs = max(peak_abs, float(np.max(np.abs(b))))
            yield b

    xb = np.zeros(0, np.float32)
    base_frame = 0  # global frame whose first sample is xb[0]
    f0 = 0  # first frame not yet searched
    ts: list[np.ndarray] = []
    fs: list[np.ndarray] = []

    def search(x: np.ndarray, first: int, keep_from: int, keep_to: int) -> None:
        s = _log_spectrogram(x, cfg)
        t, f = _spectrogram_peaks(s, cfg, keep_from=keep_from, keep_to=keep_to, frame0=first)
        ts.append(t)
        fs.append(f)

    for x in _analysis_stream(counted(blocks), sr, cfg.sr):
        xb = np.concatenate([xb, x])
        while True:
            avail = 0 if xb.shape[0] < n else 1 + (xb.shape[0] - n) // hop  # frames in xb
            f1 = f0 + seg
            if base_frame + avail < f1 + ctx:
                break
            first = max(0, f0 - ctx)
            lo_s = (first - base_frame) * hop
            hi_s = (f1 + ctx - 1 - base_frame) * hop + n
            search(xb[lo_s:hi_s], first, f0 - first, f1 - first)
            f0 = f1
            drop = max(0, f0 - ctx) - base_frame
            xb, base_frame = xb[drop * hop:], base_frame + drop
    # the rest: the whole file when it is shorter than a segment
    total = n_in
    n_an = int(math.ceil(total * cfg.sr / sr)) if sr != cfg.sr else total
    n_frames = 1 if n_an < n else 1 + (n_an - n) // hop
    if n_frames > f0:
        first = max(0, f0 - ctx)
        x = xb[(first - base_frame) * hop:]
        if x.shape[0] < n:
            x = np.pad(x, (0, n - x.shape[0]))
        search(x, first, f0 - first, n_frames - first)
    t = np.concatenate(ts) if ts else np.zeros(0)
    f = np.concatenate(fs) if fs else np.zeros(0)
    o = np.argsort(t, kind="stable")
    return Peaks(t[o], f[o], n_frames), total, peak_abs


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
    return fingerprint_peaks(find_peaks(audio, cfg), audio.duration_s, cfg)


def fingerprint_peaks(pk: Peaks, duration_s: float, cfg: FingerprintConfig | None = None, *,
                      chunk: int = 8192) -> Fingerprint:
    """The landmark hashes of a recording's peaks, paired ``chunk`` anchors at a time."""
    cfg = cfg or FingerprintConfig()
    n = pk.t.shape[0]
    look = 4 * cfg.fan_out + 8
    hs, ts = [], []
    for a in range(0, max(n, 1), chunk):
        b = min(n, a + chunk)
        sub = Peaks(pk.t[a: b + look], pk.f[a: b + look], pk.n_frames)
        i, j = pair_peaks(sub, cfg)
        m = i < b - a
        i, j = i[m] + a, j[m] + a
        h, ok = _quantise(pk.t[i], pk.f[i], pk.f[j], pk.t[j] - pk.t[i], cfg)
        hs.append(h)
        ts.append(np.rint(pk.t[i][ok]).astype(np.int32))
    return Fingerprint(np.concatenate(hs), np.concatenate(ts), duration_s, int(n))


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

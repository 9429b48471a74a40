"""Streaming loudness meter: ITU-R BS.1770-4 / EBU R 128 (Tech 3341, 3342).

Why our own meter rather than pyloudnorm alone: pyloudnorm needs the whole signal in memory and
gives only the integrated loudness. Mastering needs, on files of any length and with flat
memory, the integrated loudness, the short-term and momentary maxima, the loudness range (EBU
Tech 3342) and the true peak (BS.1770-4 Annex 2, 4x oversampling). We reuse pyloudnorm's
K-weighting filter design (any sample rate) and run it block by block, carrying filter state.

The meter reduces the signal to two per-hop arrays (a hop is ``hop`` samples, ~1.4 ms):

* ``hop_energy`` — the channel-weighted sum of squares of the K-weighted signal in each hop;
* ``hop_true_peak`` — the largest absolute value of the 4x oversampled signal in each hop.

Every figure of the report is computed from these arrays, and so is the loudness of the same
signal under any slowly varying gain (``integrated_from_energy(g**2 * hop_energy, ...)``): the
mastering chain in :mod:`yuefu.render.master` uses that to plan its gain without another pass.

Silence (or a signal shorter than one 400 ms gating block) has a loudness of ``-inf`` LUFS;
:meth:`LoudnessReport.to_dict` writes ``-inf`` as ``None`` so that the report is valid JSON.

>>> import numpy as np
>>> from yuefu.core.audio import Audio
>>> sr = 48000
>>> t = np.arange(10 * sr) / sr
>>> tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
>>> rep = measure_loudness(Audio(np.stack([tone, tone]).astype(np.float32), sr))
>>> round(rep.integrated_lufs, 1)
-23.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError

__all__ = [
    "LoudnessReport",
    "LoudnessMeter",
    "auto_hop",
    "k_weighting_sos",
    "integrated_from_energy",
    "subblock_energy",
    "windowed_loudness",
    "loudness_range_from_energy",
    "report_from_hops",
    "measure_loudness",
    "measure_file",
]

#: Loudness offset of BS.1770 (dB): L = -0.691 + 10 log10(weighted mean square).
LOUDNESS_OFFSET_DB = -0.691
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LRA_RELATIVE_GATE_LU = -20.0
#: BS.1770 channel weights in the order L, R, C, Ls, Rs.
CHANNEL_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)

# BS.1770-4 Annex 2: the 48-tap, 4-phase interpolation filter for 4x oversampled true peak.
# Row p gives phase p; y_p[n] = sum_k phases[p, k] * x[n - k] lies between x[n-6] and x[n-5].
_TP_P0 = (0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000,
          -0.0594482421875, 0.1373291015625, 0.9721679687500, -0.1022949218750,
          0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500)
_TP_P1 = (-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250,
          -0.1665039062500, 0.4650878906250, 0.7797851562500, -0.2003173828125,
          0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375)
_BS1770_PHASES = np.array([_TP_P0, _TP_P1, _TP_P1[::-1], _TP_P0[::-1]], dtype=np.float64)
_TP_CHUNK = 8192  # samples per inner chunk: the temporaries stay in the CPU cache


class _PeakDetector:
    """Per-sample peak of polyphase-interpolated signals, streaming-friendly.

    Each of ``phase_sets`` (P, T) comes from a symmetric prototype (phase P-1-p is phase p
    reversed), as BS.1770's does: each mirror pair is then computed from sums and differences
    of mirrored taps, max(|y_p|, |y_q|) = (|y_p + y_q| + |y_p - y_q|) / 2, half the
    multiplications. Shorter sets are centred in the longest one (padded with zero taps), so
    several interpolators share one pass. Output i of a call on ``xe`` (T-1 samples of history,
    then n new ones) is the peak over channels and phases of the interval
    [i - T/2, i - T/2 + 1) of the new samples, including the sample at its start.
    """

    def __init__(self, *phase_sets: np.ndarray) -> None:
        taps = max(np.shape(ps)[1] for ps in phase_sets)
        half = taps // 2
        self.taps = taps
        self.delay = half
        sums, diffs = [], []
        for ps in phase_sets:
            ph = np.asarray(ps, dtype=np.float64)
            n_ph, t = ph.shape
            if n_ph % 2 or t % 2 or (taps - t) % 2 or not np.allclose(ph[::-1, ::-1], ph,
                                                                     atol=1e-12):
                raise ValueError("phases must come from a symmetric prototype, even sizes")
            pad = (taps - t) // 2
            ph = np.pad(ph, ((0, 0), (pad, pad)))
            for p in range(n_ph // 2):
                sums.append(ph[p, :half] + ph[p, :half - 1:-1])
                diffs.append(ph[p, :half] - ph[p, :half - 1:-1])
        # (pairs, T/2): y_p + y_q = sums @ s, y_p - y_q = diffs @ d, one matrix product each
        self._sum = np.array(sums, dtype=np.float32)
        self._diff = np.array(diffs, dtype=np.float32)

    def _chunk(self, xe: np.ndarray) -> np.ndarray:
        last, half = self.taps - 1, self.delay
        ch, n = xe.shape[0], xe.shape[1] - last
        s = np.empty((half, ch, n), dtype=np.float32)
        d = np.empty((half, ch, n), dtype=np.float32)
        for k in range(half):  # x[n-k] and its mirror x[n-(T-1)+k]
            a, b = xe[:, last - k:last - k + n], xe[:, k:k + n]
            np.add(a, b, out=s[k])
            np.subtract(a, b, out=d[k])
        ys = self._sum @ s.reshape(half, ch * n)
        yd = self._diff @ d.reshape(half, ch * n)
        np.abs(ys, out=ys)
        np.abs(yd, out=yd)
        ys += yd
        out = ys.max(axis=0).reshape(ch, n)
        out *= 0.5
        np.maximum(out, np.abs(xe[:, last - half:last - half + n]), out=out)
        return out.max(axis=0)

    def __call__(self, xe: np.ndarray) -> np.ndarray:
        n = xe.shape[1] - (self.taps - 1)
        out = np.empty(n, dtype=np.float32)
        for i in range(0, n, _TP_CHUNK):
            j = min(n, i + _TP_CHUNK)
            out[i:j] = self._chunk(xe[:, i:j + self.taps - 1])
        return out


def _wideband_phases(n_phases: int = 6, taps: int = 24, beta: float = 6.0) -> np.ndarray:
    """Kaiser-windowed sinc interpolator, cut off at the original Nyquist frequency."""
    from scipy.signal import firwin

    h = firwin(n_phases * taps, 1.0 / n_phases, window=("kaiser", beta)) * n_phases
    return np.array([h[p::n_phases] for p in range(n_phases)])


_DETECTORS: dict[str, _PeakDetector] = {}


def _detector(kind: str) -> _PeakDetector:
    if kind not in _DETECTORS:
        if kind == "bs1770":
            _DETECTORS[kind] = _PeakDetector(_BS1770_PHASES)
        elif kind == "wideband":
            # both interpolators in one pass: never below what BS.1770 reads
            _DETECTORS[kind] = _PeakDetector(_wideband_phases(), _BS1770_PHASES)
        else:
            raise ParameterError(f"true_peak must be 'bs1770' or 'wideband', got {kind!r}")
    return _DETECTORS[kind]


_ENERGY_ABS_GATE = 10.0 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET_DB) / 10.0)


def _lufs(mean_square: float) -> float:
    """Loudness (LUFS) of a channel-weighted mean square; 0 gives -inf."""
    return LOUDNESS_OFFSET_DB + 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


def _db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


@dataclass(frozen=True)
class LoudnessReport:
    """Loudness and peak figures of a signal (BS.1770-4, EBU R 128).

    Attributes
    ----------
    integrated_lufs : float
        Gated integrated loudness (absolute gate -70 LUFS, relative gate -10 LU); ``-inf`` for
        silence or a signal shorter than one 400 ms block.
    short_term_max_lufs : float
        Largest short-term loudness (3 s window, 100 ms steps); ``-inf`` for silence.
    momentary_max_lufs : float
        Largest momentary loudness (400 ms window, 100 ms steps); ``-inf`` for silence.
    loudness_range_lu : float
        Loudness range, EBU Tech 3342 (10th to 95th percentile of the gated short-term
        loudness), in LU; 0 for silence or signals shorter than 3 s.
    true_peak_dbtp : float
        Largest absolute value of the 4x oversampled signal (and of the samples), dBTP.
    sample_peak_dbfs : float
        Largest absolute sample value, dBFS; ``-inf`` for digital silence.
    duration_s : float
        Duration in seconds.
    sr : int
        Sample rate in Hz.
    """

    integrated_lufs: float
    short_term_max_lufs: float
    momentary_max_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    duration_s: float
    sr: int

    def to_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict; ``-inf`` (silence) becomes ``None``."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if isinstance(v, float):
                out[k] = None if not math.isfinite(v) else round(v, 3)
            else:
                out[k] = v
        return out


def auto_hop(sr: int) -> int:
    """The meter's hop: the largest divisor of sr/10 (100 ms) that is at most 64 samples.

    With it, 100 ms sub-blocks, 400 ms gating blocks and 3 s short-term windows are whole
    numbers of hops (44.1 kHz -> 63, 48 kHz -> 64).

    Raises
    ------
    ParameterError
        ``sr`` is not a multiple of 10 Hz (100 ms would not be a whole number of samples).
    """
    sr = int(sr)
    if sr <= 0 or sr % 10:
        raise ParameterError(
            f"loudness metering needs a sample rate that is a multiple of 10 Hz, got {sr}; "
            "resample explicitly (audio.resample(44100))"
        )
    sub = sr // 10
    return max(d for d in range(1, min(64, sub) + 1) if sub % d == 0)


def k_weighting_sos(sr: int) -> np.ndarray:
    """The BS.1770 K-weighting filter for ``sr`` as second-order sections.

    The design is pyloudnorm's (RBJ shelf at 1500 Hz, +4 dB, then a 38 Hz high-pass), which
    works at any sample rate and matches the BS.1770 48 kHz coefficients to within 0.01 dB.

    Returns
    -------
    sos : np.ndarray [shape=(2, 6)]
        For :func:`scipy.signal.sosfilt`.
    """
    from pyloudnorm.iirfilter import IIRfilter

    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf")
    hp = IIRfilter(0.0, 0.5, 38.0, sr, "high_pass")
    return np.array([np.r_[shelf.b, shelf.a], np.r_[hp.b, hp.a]], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# figures from per-hop energy
# --------------------------------------------------------------------------------------------


def _hops_per_100ms(hop: int, sr: int) -> int:
    sub = int(sr) // 10
    if int(sr) % 10 or hop <= 0 or sub % hop:
        raise ParameterError(f"hop {hop} must divide 100 ms ({sub} samples at {sr} Hz)")
    return sub // hop


def subblock_energy(hop_energy: np.ndarray, *, hop: int, sr: int,
                    n_samples: int | None = None) -> np.ndarray:
    """Sum per-hop energy into complete 100 ms sub-blocks.

    Parameters
    ----------
    hop_energy : np.ndarray [shape=(n_hops,)]
        Channel-weighted sums of squares of the K-weighted signal per hop.
    hop : int
        Hop in samples; it must divide 100 ms.
    sr : int
        Sample rate in Hz.
    n_samples : int, optional
        Length of the signal; a last, partial hop (``n_samples % hop`` samples) is then left
        out. Without it every hop is taken as complete.

    Returns
    -------
    np.ndarray [shape=(n_sub,)]
        Energy (sum of squares) of each complete 100 ms sub-block.
    """
    e = np.asarray(hop_energy, dtype=np.float64)
    hps = _hops_per_100ms(hop, sr)
    n_full = e.shape[0] if n_samples is None else min(e.shape[0], int(n_samples) // hop)
    n_sub = n_full // hps
    return e[: n_sub * hps].reshape(n_sub, hps).sum(axis=1)


def _window_sums(sub: np.ndarray, w: int) -> np.ndarray:
    if sub.shape[0] < w:
        return np.zeros(0)
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(sub, w).sum(axis=1)


def windowed_loudness(hop_energy: np.ndarray, *, hop: int, sr: int, window_s: float,
                      n_samples: int | None = None) -> np.ndarray:
    """Loudness of sliding windows (100 ms steps): momentary (0.4 s) or short-term (3 s).

    Parameters
    ----------
    hop_energy : np.ndarray [shape=(n_hops,)]
        Per-hop energy (see :class:`LoudnessMeter`).
    hop, sr : int
        Hop in samples and sample rate in Hz.
    window_s : float
        Window length in seconds, a multiple of 0.1.
    n_samples : int, optional
        Signal length (leaves out a partial last hop).

    Returns
    -------
    np.ndarray [shape=(n_windows,)]
        Loudness in LUFS of each complete window (``-inf`` where silent); empty when the
        signal is shorter than one window.
    """
    w = int(round(window_s * 10))
    if w < 1 or abs(w - window_s * 10) > 1e-9:
        raise ParameterError(f"window_s must be a multiple of 0.1 s, got {window_s}")
    z = _window_sums(subblock_energy(hop_energy, hop=hop, sr=sr, n_samples=n_samples), w)
    z = z / (window_s * sr)
    with np.errstate(divide="ignore"):
        return LOUDNESS_OFFSET_DB + 10.0 * np.log10(z)


def integrated_from_energy(hop_energy: np.ndarray, *, hop: int, sr: int,
                           n_samples: int | None = None) -> float:
    """Gated integrated loudness (BS.1770-4) from per-hop energy.

    400 ms gating blocks with 75 % overlap; blocks at or below -70 LUFS are dropped (absolute
    gate), then blocks more than 10 LU below the loudness of the remaining ones (relative gate).

    Parameters
    ----------
    hop_energy : np.ndarray [shape=(n_hops,)]
        Channel-weighted sums of squares of the K-weighted signal per hop. Scaling it by
        ``g**2`` per hop gives the loudness of the signal under the gain curve ``g``.
    hop : int
        Hop in samples (must divide 100 ms).
    sr : int
        Sample rate in Hz.
    n_samples : int, optional
        Signal length; leaves a partial last hop out of the blocks.

    Returns
    -------
    float
        Integrated loudness in LUFS; ``-inf`` if no block passes the gates (silence, or a
        signal shorter than 400 ms).
    """
    z = _window_sums(subblock_energy(hop_energy, hop=hop, sr=sr, n_samples=n_samples), 4)
    z = z / (0.4 * sr)
    z_abs = z[z > _ENERGY_ABS_GATE]
    if z_abs.size == 0:
        return -math.inf
    gate_rel = float(np.mean(z_abs)) * 10.0 ** (RELATIVE_GATE_LU / 10.0)
    z_rel = z_abs[z_abs > gate_rel]
    if z_rel.size == 0:
        return -math.inf
    return _lufs(float(np.mean(z_rel)))


def loudness_range_from_energy(hop_energy: np.ndarray, *, hop: int, sr: int,
                               n_samples: int | None = None) -> float:
    """Loudness range (EBU Tech 3342) from per-hop energy, in LU.

    Short-term loudness (3 s windows, 100 ms steps), absolute gate -70 LUFS, relative gate
    20 LU below the power mean of the remaining windows, then the spread between the 10th and
    95th percentiles (linear interpolation between ranks).

    Returns
    -------
    float
        LRA in LU; 0.0 when no short-term window passes the gates (silence, under 3 s).
    """
    st = windowed_loudness(hop_energy, hop=hop, sr=sr, window_s=3.0, n_samples=n_samples)
    st = st[st > ABSOLUTE_GATE_LUFS]
    if st.size == 0:
        return 0.0
    power_mean = float(np.mean(10.0 ** (st / 10.0)))
    st = st[st >= 10.0 * math.log10(power_mean) + LRA_RELATIVE_GATE_LU]
    if st.size == 0:
        return 0.0
    lo, hi = np.percentile(st, [10.0, 95.0])
    return float(hi - lo)


def _window_max(hop_energy: np.ndarray, *, hop: int, sr: int, window_s: float,
                n_samples: int) -> float:
    lw = windowed_loudness(hop_energy, hop=hop, sr=sr, window_s=window_s, n_samples=n_samples)
    if lw.size:
        return float(np.max(lw))
    # shorter than one window: the meter's window holds the whole signal padded with silence
    return _lufs(float(np.sum(hop_energy)) / (window_s * sr))


# --------------------------------------------------------------------------------------------
# the meter
# --------------------------------------------------------------------------------------------


class LoudnessMeter:
    """Streaming BS.1770-4 loudness and true-peak meter.

    Feed it blocks of any length with :meth:`process`; memory holds only the per-hop arrays
    (two float64 values per hop: ~11 MB for 30 minutes at 44.1 kHz) and a few samples of
    filter state, so results do not depend on how the signal is cut into blocks.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (a multiple of 10 Hz).
    channels : int
        Number of channels, in BS.1770 order L, R, C, Ls, Rs (weights 1, 1, 1, 1.41, 1.41);
        at most 5 unless ``channel_weights`` is given.
    hop : int, optional
        Hop in samples; default :func:`auto_hop` (largest divisor of 100 ms that is <= 64).
    channel_weights : sequence of float, optional
        Per-channel loudness weights, overriding the BS.1770 ones (e.g. 0 for an LFE).
    true_peak : {"bs1770", "wideband"}
        The inter-sample peak detector. ``"bs1770"`` (default): the BS.1770-4 Annex 2 4x
        interpolator, the standard for reports; it rolls off above ~0.42 fs (-1.5 dB at
        20 kHz at 44.1 kHz), so it under-reads peaks made of content near Nyquist.
        ``"wideband"``: the larger of the BS.1770 reading and a 6x oversampling with a
        24-tap-per-phase Kaiser-windowed sinc flat to ~0.43 fs; about three times the cost;
        used by the mastering limiter so that its ceiling holds for the BS.1770 reading and
        for stricter checks (e.g. 8x polyphase resampling) alike.

    Attributes
    ----------
    hop_energy : np.ndarray [shape=(n_hops,)]
        Channel-weighted sum of squares of the K-weighted signal per hop (the last hop may be
        partial: ``n_samples % hop`` samples).
    hop_true_peak : np.ndarray [shape=(n_hops,)]
        Largest absolute value per hop, over channels, of the oversampled signal (see
        ``true_peak``) and of the samples themselves; linear, not dB.
    n_samples : int
        Samples per channel processed so far.

    Examples
    --------
    >>> m = LoudnessMeter(44100, 2)
    >>> for block in blocks:            # doctest: +SKIP
    ...     m.process(block)
    >>> m.report().integrated_lufs      # doctest: +SKIP
    """

    def __init__(self, sr: int, channels: int, *, hop: int | None = None,
                 channel_weights: tuple[float, ...] | list[float] | None = None,
                 true_peak: str = "bs1770") -> None:
        from scipy.signal import sosfilt_zi  # noqa: F401  (fail early if scipy is missing)

        self.sr = int(sr)
        if not 1000 <= self.sr <= 768000:
            raise ParameterError(f"sample rate must be 1000..768000 Hz, got {sr}")
        self.channels = int(channels)
        if channel_weights is None:
            if not 1 <= self.channels <= len(CHANNEL_WEIGHTS):
                raise ParameterError(
                    f"the loudness meter takes 1..5 channels (L, R, C, Ls, Rs), got {channels}; "
                    "pass channel_weights for other layouts"
                )
            weights = CHANNEL_WEIGHTS[: self.channels]
        else:
            weights = tuple(float(w) for w in channel_weights)
            if len(weights) != self.channels or min(weights) < 0:
                raise ParameterError(
                    f"channel_weights must be {self.channels} values >= 0, got {channel_weights}"
                )
        self.hop = auto_hop(self.sr) if hop is None else int(hop)
        _hops_per_100ms(self.hop, self.sr)  # validates the hop
        self._w = np.asarray(weights, dtype=np.float64)
        self._sos = k_weighting_sos(self.sr)
        self._zi = np.zeros((self._sos.shape[0], self.channels, 2), dtype=np.float64)
        self._det = _detector(true_peak)
        self.true_peak = true_peak
        self._tp_hist = np.zeros((self.channels, self._det.taps - 1), dtype=np.float32)
        self._tp_skip = self._det.delay
        self._e_pend = np.zeros(0, dtype=np.float64)
        self._t_pend = np.zeros(0, dtype=np.float64)
        self._e_chunks: list[np.ndarray] = []
        self._t_chunks: list[np.ndarray] = []
        self._sample_peak = 0.0
        self.n_samples = 0

    # ---- processing -------------------------------------------------------------------------

    def _check_block(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 1 and self.channels == 1:
            x = x[np.newaxis, :]
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ParameterError(f"block must be shaped ({self.channels}, n), got {x.shape}")
        return x

    def _push(self, pend: np.ndarray, new: np.ndarray, chunks: list[np.ndarray],
              reduce: Callable[..., np.ndarray]) -> np.ndarray:
        v = np.concatenate([pend, new]) if pend.size else new
        n_full = (v.shape[0] // self.hop) * self.hop
        if n_full:
            chunks.append(reduce(v[:n_full].reshape(-1, self.hop), axis=1).astype(np.float64))
        return np.array(v[n_full:], dtype=np.float64)

    def process(self, x: np.ndarray) -> None:
        """Meter the next block of samples.

        Parameters
        ----------
        x : np.ndarray [shape=(channels, n)]
            Float samples, full scale 1.0; any length (n may be 0).

        Raises
        ------
        ParameterError
            Wrong shape, or NaN/Inf samples.
        """
        from scipy.signal import sosfilt

        x = self._check_block(x)
        n = x.shape[1]
        if n == 0:
            return
        x32 = np.asarray(x, dtype=np.float32)
        peak = float(np.max(np.abs(x32)))
        if not math.isfinite(peak):
            raise ParameterError("the audio contains NaN/Inf samples; loudness is undefined")
        self._sample_peak = max(self._sample_peak, peak)
        # K-weighted energy, channel-weighted
        y, self._zi = sosfilt(self._sos, x32, axis=1, zi=self._zi)
        np.multiply(y, y, out=y)
        e = self._w @ y
        self._e_pend = self._push(self._e_pend, e, self._e_chunks, np.sum)
        # true peak, delayed by self._det.delay samples
        xe = np.concatenate([self._tp_hist, x32], axis=1)
        self._tp_hist = xe[:, -(self._det.taps - 1):].copy()
        t = self._det(xe)
        if self._tp_skip:
            s = min(self._tp_skip, t.shape[0])
            t = t[s:]
            self._tp_skip -= s
        self._t_pend = self._push(self._t_pend, t, self._t_chunks, np.max)
        self.n_samples += n

    # ---- results ----------------------------------------------------------------------------

    @property
    def hop_energy(self) -> np.ndarray:
        if len(self._e_chunks) > 1:  # keep one array so that repeated reads stay cheap
            self._e_chunks = [np.concatenate(self._e_chunks)]
        parts = list(self._e_chunks)
        if self._e_pend.size:
            parts.append(np.array([self._e_pend.sum()]))
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def hop_true_peak(self) -> np.ndarray:
        if self.n_samples == 0:
            return np.zeros(0)
        # the last samples: run the interpolator over trailing silence
        xe = np.concatenate(
            [self._tp_hist, np.zeros((self.channels, self._det.delay), np.float32)], axis=1
        )
        tail = self._det(xe)[self._tp_skip:]
        v = np.concatenate([self._t_pend, tail])
        if len(self._t_chunks) > 1:
            self._t_chunks = [np.concatenate(self._t_chunks)]
        parts = list(self._t_chunks)
        n_full = (v.shape[0] // self.hop) * self.hop
        if n_full:
            parts.append(v[:n_full].reshape(-1, self.hop).max(axis=1))
        if v.shape[0] > n_full:
            parts.append(np.array([v[n_full:].max()]))
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def sample_peak(self) -> float:
        """Largest absolute sample value so far (linear)."""
        return self._sample_peak

    def report(self) -> LoudnessReport:
        """All figures for the samples processed so far (the meter can go on afterwards)."""
        return report_from_hops(self.hop_energy, self.hop_true_peak, hop=self.hop, sr=self.sr,
                                n_samples=self.n_samples, sample_peak=self._sample_peak)


def report_from_hops(hop_energy: np.ndarray, hop_true_peak: np.ndarray, *, hop: int, sr: int,
                     n_samples: int, sample_peak: float) -> LoudnessReport:
    """Build a :class:`LoudnessReport` from per-hop arrays (see :class:`LoudnessMeter`)."""
    kw = {"hop": hop, "sr": sr, "n_samples": n_samples}
    tp = float(np.max(hop_true_peak)) if hop_true_peak.size else 0.0
    return LoudnessReport(
        integrated_lufs=integrated_from_energy(hop_energy, **kw),
        short_term_max_lufs=_window_max(hop_energy, window_s=3.0, **kw),
        momentary_max_lufs=_window_max(hop_energy, window_s=0.4, **kw),
        loudness_range_lu=loudness_range_from_energy(hop_energy, **kw),
        true_peak_dbtp=_db(max(tp, sample_peak)),
        sample_peak_dbfs=_db(sample_peak),
        duration_s=n_samples / sr,
        sr=int(sr),
    )


def measure_loudness(audio: Audio, *, block_s: float = 10.0) -> LoudnessReport:
    """Measure loudness, loudness range and true peak of audio in memory.

    Parameters
    ----------
    audio : Audio
        1 to 5 channels (L, R, C, Ls, Rs), any rate that is a multiple of 10 Hz.
    block_s : float
        Processing block in seconds (bounds the temporary memory; results do not depend on it).

    Returns
    -------
    LoudnessReport
    """
    if not isinstance(audio, Audio):
        raise ParameterError(f"measure_loudness needs an Audio, got {type(audio).__name__}")
    meter = LoudnessMeter(audio.sr, audio.channels)
    step = max(1, int(block_s * audio.sr))
    for i in range(0, audio.n_samples, step):
        meter.process(audio.samples[:, i:i + step])
    return meter.report()


def measure_file(path: str | Path, *, block_s: float = 10.0) -> LoudnessReport:
    """Measure an audio file block by block (memory stays flat on long files).

    Parameters
    ----------
    path : str or Path
        Any file :func:`yuefu.core.io.audio.read_audio` reads, at its own sample rate.
    block_s : float
        Read block in seconds.

    Returns
    -------
    LoudnessReport
    """
    from yuefu.core.io.audio import audio_info, iter_audio_blocks

    info = audio_info(path)
    meter = LoudnessMeter(info.sr, info.channels)
    for block in iter_audio_blocks(path, block_s=block_s):
        meter.process(block)
    return meter.report()

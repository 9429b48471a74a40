"""Mastering: land a pre-mixed signal at a loudness target under a true-peak ceiling.

The chain is a static gain toward the target plus a look-ahead true-peak limiter, planned at
hop resolution (~1.4 ms) from the per-hop energy and peak that
:class:`~yuefu.render.loudness.LoudnessMeter` collects in a first pass. The limiter's peak
detector is the meter's ``"wideband"`` one: the larger of the BS.1770-4 4x interpolator and a
6x wideband interpolator, so that the ceiling holds for the standard reading and for peaks made
of content near Nyquist (which the BS.1770 interpolator under-reads) alike.

1. required gain per hop ``r[h] = min(1, c / (g0 * tp[h]))`` with ``c`` the ceiling less a
   0.1 dB margin, as a gain reduction in dB, widened to the neighbouring hops (the
   interpolator that makes a peak reaches into them);
2. a look-ahead maximum of the reduction over ``lookahead_ms`` followed by a moving average of
   the same length (the smoothed gain is never above the required gain at any hop);
3. release: the reduction recovers as a one-pole decay (time constant ``release_ms``),
   vectorised as a running maximum in the log domain;
4. the static gain ``g0`` is iterated (secant steps on
   :func:`~yuefu.render.loudness.integrated_from_energy` of ``g**2 * hop_energy``) so that the
   *limited* result hits the target;
5. the hop gains are interpolated linearly to samples, each hop taking the minimum of itself
   and its neighbours so that interpolation never overshoots.

A second pass applies the gain, writes the result and measures it again with the standard
BS.1770 meter; the returned :class:`~yuefu.render.loudness.LoudnessReport` is that
measurement, so its numbers are honest whatever happened. Should the output miss (a true peak
above the ceiling, or the loudness more than 0.1 LU off a reachable target), the gain is planned
once more with a lower limiter ceiling and/or a shifted target and applied again; a true peak
still above the ceiling after that gets a static corrective gain (logged), which scales the
true peak exactly. Files stream block by block (memory holds only the per-hop arrays);
:func:`master` and :func:`master_file` share that one implementation.

>>> import numpy as np
>>> from yuefu.core.audio import Audio
>>> rng = np.random.default_rng(0)
>>> noise = Audio((0.05 * rng.standard_normal((2, 10 * 44100))).astype(np.float32), 44100)
>>> out, rep = master(noise, settings=MasterSettings(target_lufs=-16.0))
>>> abs(rep.integrated_lufs + 16.0) < 0.5, rep.true_peak_dbtp <= -1.0
(True, True)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import AudioLoadError, ParameterError
from yuefu.render.loudness import LoudnessMeter, LoudnessReport, integrated_from_energy

__all__ = ["TARGETS", "MasterSettings", "master", "master_file", "plan_gain"]

log = logging.getLogger(__name__)

#: Loudness targets (LUFS) by use: streaming services, podcasts, EBU R 128 broadcast.
TARGETS: dict[str, float] = {"streaming": -14.0, "podcast": -16.0, "broadcast": -23.0}

_MARGIN_DB = 0.1  # the limiter aims this far below the ceiling
_CORRECT_ABOVE_DB = 1e-3  # re-measured excess over the ceiling that triggers a correction
_REPLAN_ABOVE_LU = 0.1  # a re-measured miss of the target that triggers one more plan
_LOSSY_EXTS = (".mp3", ".ogg")
_BLOCK_S = 10.0

Progress = Callable[..., None]


@dataclass(frozen=True)
class MasterSettings:
    """Mastering targets.

    Parameters
    ----------
    target_lufs : float
        Integrated loudness to land at, -40..-5 LUFS (see :data:`TARGETS`).
    ceiling_dbtp : float
        True-peak ceiling, -6..0 dBTP (BS.1770-4, 4x oversampled).
    lookahead_ms : float
        Limiter look-ahead and attack smoothing, 0.5..50 ms.
    release_ms : float
        Limiter release time constant, 1..2000 ms.
    """

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    lookahead_ms: float = 5.0
    release_ms: float = 80.0

    def __post_init__(self) -> None:
        for name in ("target_lufs", "ceiling_dbtp", "lookahead_ms", "release_ms"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ParameterError(f"{name} must be a number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ParameterError(f"target_lufs must be -40..-5 LUFS, got {self.target_lufs}")
        if not -6.0 <= self.ceiling_dbtp <= 0.0:
            raise ParameterError(f"ceiling_dbtp must be -6..0 dBTP, got {self.ceiling_dbtp}")
        if not 0.5 <= self.lookahead_ms <= 50.0:
            raise ParameterError(f"lookahead_ms must be 0.5..50 ms, got {self.lookahead_ms}")
        if not 1.0 <= self.release_ms <= 2000.0:
            raise ParameterError(f"release_ms must be 1..2000 ms, got {self.release_ms}")

    @classmethod
    def preset(cls, name: str, **kwargs: float) -> MasterSettings:
        """Settings for a named target in :data:`TARGETS` (``"streaming"``, ``"podcast"``...)."""
        if name not in TARGETS:
            raise ParameterError(
                f"unknown loudness preset {name!r}; use one of {', '.join(TARGETS)}"
            )
        return cls(target_lufs=TARGETS[name], **kwargs)


# --------------------------------------------------------------------------------------------
# the gain plan (hop resolution)
# --------------------------------------------------------------------------------------------


# These work in place on arrays of one value a hop (1.26 M for 30 minutes at 44.1 kHz), so
# that planning holds only a few of them at a time.


def _forward_max_(a: np.ndarray, n: int) -> np.ndarray:
    """In place: a[h] = max(a[h : h + n]) (windows cut at the end), by doubling."""
    span = 1
    while span < n:
        step = min(span, n - span)
        np.maximum(a[:-step], a[step:], out=a[:-step])
        span += step
    return a


def _shift_right_(a: np.ndarray) -> np.ndarray:
    """In place: a[h] = a[h - 1] (a[0] kept)."""
    if a.size > 1:
        a[1:] = a[:-1].copy()
    return a


def _trailing_mean_(a: np.ndarray, n: int) -> np.ndarray:
    """In place: a[h] = mean(a[h - n + 1 : h + 1]), the start padded with a[0]."""
    if n <= 1 or a.size == 0:
        return a
    c = np.empty(a.size + n, dtype=np.float64)
    c[:n] = a[0]
    c[n:] = a
    np.cumsum(c, out=c)
    np.subtract(c[n:], c[:-n], out=a)
    a /= n
    return a


def _release(red_db: np.ndarray, log_beta: float) -> np.ndarray:
    """d[h] = max(red[h], beta * d[h-1]): a one-pole recovery of the reduction (vectorised).

    With e[h] = log d[h] - h log beta the recursion is a running maximum. ``red_db`` is
    overwritten with the result.
    """
    h = np.arange(red_db.size, dtype=np.float64)
    h *= log_beta
    e = red_db
    with np.errstate(divide="ignore"):
        np.log(e, out=e)
    e -= h
    np.maximum.accumulate(e, out=e)
    e += h
    np.exp(e, out=e)
    return e


def _limiter_reduction_db(tp: np.ndarray, g0: float, ceiling_lin: float, look_hops: int,
                          log_beta: float) -> np.ndarray:
    """Gain reduction (dB >= 0) per hop that keeps ``g0 * tp`` under ``ceiling_lin``."""
    red = tp * (g0 / ceiling_lin)
    np.maximum(red, 1.0, out=red)
    np.log10(red, out=red)
    red *= 20.0
    # look ahead over [h - 1, h + look_hops]: the hop before a peak is included because the
    # interpolator that makes the peak reaches a dozen samples into the hops beside it
    _shift_right_(_forward_max_(red, look_hops + 2))
    _trailing_mean_(red, look_hops)
    np.maximum(red, 0.0, out=red)
    return _release(red, log_beta)


def _hop_gain(gain_db: float, red_db: np.ndarray) -> np.ndarray:
    """Linear hop gains, each the min of itself and its neighbours (interpolation-safe)."""
    g = np.subtract(gain_db, red_db)
    g /= 20.0
    np.power(10.0, g, out=g)
    if g.size > 1:  # min over [h - 1, h + 1]
        span = 1
        while span < 3:
            step = min(span, 3 - span)
            np.minimum(g[:-step], g[step:], out=g[:-step])
            span += step
        _shift_right_(g)
    return g


def plan_gain(hop_energy: np.ndarray, hop_true_peak: np.ndarray, *, hop: int, sr: int,
              n_samples: int, settings: MasterSettings, target_lufs: float | None = None,
              margin_db: float = _MARGIN_DB) -> tuple[np.ndarray, dict[str, float]]:
    """The per-hop gain that lands the signal at the target under the ceiling.

    Parameters
    ----------
    hop_energy, hop_true_peak : np.ndarray [shape=(n_hops,)]
        From :class:`~yuefu.render.loudness.LoudnessMeter` (linear).
    hop : int
        Hop in samples.
    sr : int
        Sample rate in Hz.
    n_samples : int
        Signal length in samples.
    settings : MasterSettings
    target_lufs : float, optional
        Plan for this loudness instead of ``settings.target_lufs``.
    margin_db : float
        The limiter aims this many dB below the ceiling.

    Returns
    -------
    gain : np.ndarray [shape=(n_hops,)]
        Linear gain per hop (static gain times limiter gain), already the minimum of each hop
        and its neighbours, ready for linear interpolation to samples.
    info : dict
        ``input_lufs``, ``static_gain_db``, ``max_limiting_db`` and ``predicted_lufs``.

    Raises
    ------
    ParameterError
        The signal is silent (integrated loudness -inf).
    """
    e = np.asarray(hop_energy, dtype=np.float64)
    tp = np.asarray(hop_true_peak, dtype=np.float64)
    kw = {"hop": hop, "sr": sr, "n_samples": n_samples}
    l_in = integrated_from_energy(e, **kw)
    if not math.isfinite(l_in):
        raise ParameterError("the signal is silent (or shorter than 0.4 s); nothing to master")
    target = settings.target_lufs if target_lufs is None else float(target_lufs)
    ceiling = 10.0 ** ((settings.ceiling_dbtp - margin_db) / 20.0)
    look_hops = max(1, int(round(settings.lookahead_ms * 1e-3 * sr / hop)))
    log_beta = -hop / (settings.release_ms * 1e-3 * sr)

    def loudness_at(gain_db: float) -> tuple[float, np.ndarray]:
        red = _limiter_reduction_db(tp, 10.0 ** (gain_db / 20.0), ceiling, look_hops, log_beta)
        g = _hop_gain(gain_db, red)
        # mean gain over each hop of the linear interpolation between hop centres
        if g.size > 2:
            mid = g[1:-1] * 6.0
            mid += g[:-2]
            mid += g[2:]
            mid /= 8.0
            g[1:-1] = mid
            del mid
        g *= g
        g *= e
        return integrated_from_energy(g, **kw), red

    # secant iteration on the static gain (dB); loudness rises with gain, with slope <= 1
    x0 = target - l_in
    y0, red = loudness_at(x0)
    x1, y1 = x0, y0
    best = (abs(y0 - target), x0, red, y0)
    x_prev, y_prev = x0, y0
    for _ in range(10):
        if abs(y1 - target) < 0.005:
            break
        if x1 == x_prev:
            slope = 1.0
        else:
            slope = (y1 - y_prev) / (x1 - x_prev)
        slope = min(1.5, max(0.05, slope))
        x_next = x1 + (target - y1) / slope
        x_next = min(x_next, x0 + 40.0)  # never more than 40 dB of gain beyond the static one
        if x_next == x1:
            break
        x_prev, y_prev = x1, y1
        x1 = x_next
        y1, red = loudness_at(x1)
        if abs(y1 - target) < best[0]:
            best = (abs(y1 - target), x1, red, y1)
    _, gain_db, red, predicted = best
    g = _hop_gain(gain_db, red)
    info = {"input_lufs": l_in, "static_gain_db": gain_db,
            "max_limiting_db": float(red.max()) if red.size else 0.0,
            "predicted_lufs": predicted}
    return g, info


def _sample_gain(q: np.ndarray, start: int, n: int, hop: int) -> np.ndarray:
    """Linear interpolation of the hop gains (at hop centres) to samples start..start+n-1."""
    h_lo = max(0, start // hop - 1)
    h_hi = min(q.size, (start + n) // hop + 2)
    centres = np.arange(h_lo, h_hi, dtype=np.float64) * hop + (hop - 1) / 2.0
    idx = np.arange(start, start + n, dtype=np.float64)
    return np.interp(idx, centres, q[h_lo:h_hi]).astype(np.float32)


# --------------------------------------------------------------------------------------------
# the shared block implementation
# --------------------------------------------------------------------------------------------


class _Sink:
    def write(self, block: np.ndarray) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def restart(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


def _master_blocks(blocks: Callable[[], Iterable[np.ndarray]], *, sr: int, channels: int,
                   total_samples: int, settings: MasterSettings, sink: _Sink,
                   progress: Progress | None, label: str) -> LoudnessReport:
    """Two passes over ``blocks()`` (each call restarts from the beginning of the signal)."""
    say = progress or (lambda f, m="": None)
    total = max(1, total_samples)

    # the limiter plans on the wideband detector (it also reads peaks of content near Nyquist);
    # the returned report is measured with the standard BS.1770 one
    meter = LoudnessMeter(sr, channels, true_peak="wideband")
    say(0.0, "measuring loudness")
    for b in blocks():
        meter.process(b)
        say(0.45 * min(1.0, meter.n_samples / total), "measuring loudness")
    if meter.n_samples == 0:
        raise ParameterError(f"{label} holds no samples; nothing to master")
    hop, n_total = meter.hop, meter.n_samples
    energy, peaks = meter.hop_energy, meter.hop_true_peak
    del meter

    def plan(target: float, margin_db: float) -> tuple[np.ndarray, dict[str, float]]:
        try:
            return plan_gain(energy, peaks, hop=hop, sr=sr, n_samples=n_total,
                             settings=settings, target_lufs=target, margin_db=margin_db)
        except ParameterError:
            if n_total < 0.4 * sr:
                raise ParameterError(f"{label} is shorter than 0.4 s (one loudness block); "
                                     "nothing to master") from None
            raise ParameterError(f"{label} is silent; nothing to master") from None

    plan_target, margin_db = settings.target_lufs, _MARGIN_DB
    q, info = plan(plan_target, margin_db)
    log.info("%s: %.1f LUFS in; static gain %+.2f dB, up to %.1f dB of limiting", label,
             info["input_lufs"], info["static_gain_db"], info["max_limiting_db"])
    if info["max_limiting_db"] > 12.0:
        log.warning("%s: reaching %.1f LUFS takes %.1f dB of peak limiting; expect audible "
                    "distortion on peaks", label, settings.target_lufs, info["max_limiting_db"])

    ceiling = settings.ceiling_dbtp
    report: LoudnessReport | None = None
    # pass 1: the plan. If the re-measured output misses (a peak above the ceiling, or the
    # loudness off the target), pass 2 re-plans with a lower limiter ceiling and/or a shifted
    # target. A peak still above the ceiling after that gets a static gain (pass 3), which
    # scales the true peak exactly.
    for attempt in range(3):
        if attempt:
            sink.restart()
        out_meter = LoudnessMeter(sr, channels, hop=hop)
        pos = 0
        lo, hi = (0.45, 1.0) if attempt == 0 else (0.9, 1.0)
        for b in blocks():
            n = b.shape[1]
            y = b * _sample_gain(q, pos, n, hop)
            out_meter.process(y)
            sink.write(y)
            pos += n
            say(lo + (hi - lo) * min(1.0, pos / total), "applying gain")
        if pos != n_total:
            raise AudioLoadError(f"{label} changed while being mastered "
                                 f"({n_total} samples, then {pos})")
        report = out_meter.report()
        excess = report.true_peak_dbtp - ceiling
        error = report.integrated_lufs - settings.target_lufs
        reachable = abs(info["predicted_lufs"] - plan_target) < 0.05
        if attempt == 0 and (excess > _CORRECT_ABOVE_DB
                             or (abs(error) > _REPLAN_ABOVE_LU and reachable)):
            if excess > _CORRECT_ABOVE_DB:
                margin_db += excess + 0.02
            if abs(error) > _REPLAN_ABOVE_LU and reachable:
                plan_target -= error
            log.info("%s: landed at %.2f LUFS, %.2f dBTP; planning again (limiter %.2f dBTP, "
                     "target %.2f LUFS)", label, report.integrated_lufs,
                     report.true_peak_dbtp, ceiling - margin_db, plan_target)
            q, info = plan(plan_target, margin_db)
        elif attempt < 2 and excess > _CORRECT_ABOVE_DB:
            corr_db = -(excess + 0.01)
            log.warning("%s: true peak %.2f dBTP is above the %.1f dBTP ceiling after "
                        "limiting; applying a corrective gain of %.2f dB", label,
                        report.true_peak_dbtp, ceiling, corr_db)
            q = q * 10.0 ** (corr_db / 20.0)
        else:
            break
    assert report is not None
    off = report.integrated_lufs - settings.target_lufs
    if abs(off) > 0.5:
        log.warning("%s: landed at %.2f LUFS, %+.2f LU from the %.1f LUFS target (the ceiling "
                    "limits how loud this signal can be)", label, report.integrated_lufs, off,
                    settings.target_lufs)
    say(1.0, "mastered")
    return report


class _ArraySink(_Sink):
    def __init__(self, channels: int, n: int) -> None:
        self.out = np.empty((channels, n), dtype=np.float32)
        self.pos = 0

    def write(self, block: np.ndarray) -> None:
        n = block.shape[1]
        self.out[:, self.pos:self.pos + n] = block
        self.pos += n

    def restart(self) -> None:
        self.pos = 0


class _FileSink(_Sink):
    def __init__(self, path: Path, *, sr: int, channels: int, subtype: str | None) -> None:
        from yuefu.core.io.audio import AudioFileWriter

        self._open = lambda: AudioFileWriter(path, sr=sr, channels=channels, subtype=subtype)
        self.writer = self._open()

    def write(self, block: np.ndarray) -> None:
        self.writer.write(block)

    def restart(self) -> None:
        self.writer.abort()
        self.writer = self._open()

    def close(self) -> None:
        self.writer.close()

    def abort(self) -> None:
        self.writer.abort()


def _check_settings(settings: MasterSettings) -> MasterSettings:
    if not isinstance(settings, MasterSettings):
        raise ParameterError(f"settings must be a MasterSettings, got {type(settings).__name__}")
    return settings


def master(audio: Audio, *, settings: MasterSettings | None = None,
           progress: Progress | None = None) -> tuple[Audio, LoudnessReport]:
    """Master audio in memory: loudness target, true-peak ceiling, no clipping.

    Parameters
    ----------
    audio : Audio
        A pre-mixed signal, 1 to 5 channels, any rate that is a multiple of 10 Hz.
    settings : MasterSettings, optional
        Target and ceiling; default -14 LUFS, -1 dBTP.
    progress : callable, optional
        Called as ``progress(fraction, message)`` with fraction 0..1.

    Returns
    -------
    audio : Audio
        The mastered samples (same shape and rate).
    report : LoudnessReport
        The loudness of the output, measured after mastering.

    Raises
    ------
    ParameterError
        The input is silent (or shorter than 0.4 s), or settings are invalid.
    """
    settings = _check_settings(settings or MasterSettings())
    if not isinstance(audio, Audio):
        raise ParameterError(f"master needs an Audio, got {type(audio).__name__}")
    if not audio.is_finite():
        raise ParameterError("the audio contains NaN/Inf samples; nothing to master")
    step = int(_BLOCK_S * audio.sr)
    x = audio.samples

    def blocks() -> Iterator[np.ndarray]:
        for i in range(0, audio.n_samples, step):
            yield x[:, i:i + step]

    sink = _ArraySink(audio.channels, audio.n_samples)
    report = _master_blocks(blocks, sr=audio.sr, channels=audio.channels,
                            total_samples=audio.n_samples, settings=settings, sink=sink,
                            progress=progress, label="the audio")
    return Audio(sink.out, audio.sr), report


def master_file(src_path: str | Path, dest_path: str | Path, *,
                settings: MasterSettings | None = None, force: bool = False,
                subtype: str | None = None, progress: Progress | None = None) -> LoudnessReport:
    """Master an audio file to another, streaming (memory stays flat on long files).

    Two passes over ``src_path``: one to measure, one to apply the gain while the output is
    written (atomically: nothing is left under ``dest_path`` if anything fails) and measured.

    Parameters
    ----------
    src_path : str or Path
        A pre-mixed audio file (any format :func:`~yuefu.core.io.audio.read_audio` reads).
    dest_path : str or Path
        Output (.wav, .flac, .ogg or .mp3), at the source's sample rate.
    settings : MasterSettings, optional
        Target and ceiling; default -14 LUFS, -1 dBTP.
    force : bool
        Overwrite an existing ``dest_path``.
    subtype : str, optional
        Output subtype (default PCM_24 for WAV/FLAC; see
        :func:`~yuefu.core.io.audio.write_audio`).
    progress : callable, optional
        Called as ``progress(fraction, message)`` with fraction 0..1.

    Returns
    -------
    LoudnessReport
        The output's loudness, measured after mastering. For lossy outputs (.mp3, .ogg) it is
        measured on the decoded file, since encoding moves the peaks.

    Raises
    ------
    AudioLoadError
        The source cannot be read.
    ParameterError
        The source is silent, settings are invalid, or the output format is unsupported.
    OutputExistsError
        ``dest_path`` exists and not ``force``.
    """
    from yuefu.core.files import atomic_output, check_output
    from yuefu.core.io.audio import audio_info, check_audio_output, iter_audio_blocks
    from yuefu.render.loudness import measure_file

    settings = _check_settings(settings or MasterSettings())
    src, dest = Path(src_path), check_output(dest_path, force=force)
    info = audio_info(src)
    check_audio_output(dest, sr=info.sr, channels=info.channels, subtype=subtype)

    def blocks() -> Iterator[np.ndarray]:
        return iter_audio_blocks(src, block_s=_BLOCK_S)

    with atomic_output(dest, force=force) as tmp:
        sink = _FileSink(tmp, sr=info.sr, channels=info.channels, subtype=subtype)
        try:
            report = _master_blocks(blocks, sr=info.sr, channels=info.channels,
                                    total_samples=info.frames, settings=settings, sink=sink,
                                    progress=progress, label=str(src))
        except BaseException:
            sink.abort()
            raise
        sink.close()
        if dest.suffix.lower() in _LOSSY_EXTS:
            report = measure_file(tmp)
            if report.true_peak_dbtp > settings.ceiling_dbtp:
                log.warning("%s: the %s encoder raised the true peak to %.2f dBTP (ceiling "
                            "%.1f); use a lower ceiling or a lossless format", dest,
                            dest.suffix, report.true_peak_dbtp, settings.ceiling_dbtp)
    return report

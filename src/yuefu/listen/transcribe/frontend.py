"""Audio in, frame-wise posteriorgrams out, in chunks: memory stays flat on hour-long files.

Three streaming steps, each holding only a few seconds of audio:

1. :func:`mono_blocks` reads the source (a file block by block, or an :class:`Audio`) and
   averages its channels;
2. :class:`StreamResampler` resamples to the model's 22,050 Hz with ``scipy.signal.resample_poly``
   chunk by chunk (each chunk with enough zero-phase context that the result equals resampling
   the whole signal at once, to float rounding);
3. :func:`frames` cuts overlapping 2-s windows (hop 142 frames = 1.649 s, 15 frames = 174 ms
   dropped at each edge of a window where the network sees half a context), runs the model on
   batches of windows and yields the kept frames in order, so frame ``g`` is at
   ``g * 256 / 22050`` seconds from the start. It also yields, per frame and piano key, the
   spectral energy of the key's first harmonics (for velocities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from yuefu.core.audio import Audio
from yuefu.listen.transcribe.model import (
    HOP_SAMPLES,
    LOWEST_PITCH,
    MODEL_SR,
    N_KEYS,
    WINDOW_FRAMES,
    WINDOW_SAMPLES,
    NoteModel,
)

__all__ = ["EDGE_FRAMES", "KEPT_FRAMES", "FrameBlock", "mono_blocks", "StreamResampler", "frames"]

#: Frames dropped at each edge of a window.
EDGE_FRAMES = 15
#: Frames kept per window; windows advance by this many frames (KEPT_FRAMES * 256 samples).
KEPT_FRAMES = WINDOW_FRAMES - 2 * EDGE_FRAMES
_HOP_WINDOW = KEPT_FRAMES * HOP_SAMPLES
_N_FFT = 2048
_N_HARMONICS = 4


@dataclass
class FrameBlock:
    """Consecutive frames from frame ``start`` on.

    Attributes
    ----------
    start : int
        Index of the first frame (frame g is at g * 256 / 22050 s).
    note, onset : np.ndarray [shape=(n, 88), dtype=float32]
        The model's key and onset probabilities.
    energy : np.ndarray [shape=(n, 88), dtype=float32]
        Power of each key's first four harmonics (a 2048-point Hann STFT, full scale sine = 1).
    fund : np.ndarray [shape=(n, 88), dtype=float32]
        Power at each key's fundamental alone (same STFT).
    """

    start: int
    note: np.ndarray
    onset: np.ndarray
    energy: np.ndarray
    fund: np.ndarray


def mono_blocks(source: str | Path | Audio, *, block_s: float = 10.0) -> tuple[int, Iterator[np.ndarray]]:
    """Sample rate and an iterator over mono float32 blocks of ``source``.

    A path is read block by block (:func:`yuefu.core.io.audio.iter_audio_blocks`); channels are
    averaged.
    """
    if isinstance(source, Audio):
        sr = source.sr
        step = max(1, int(block_s * sr))
        x = source.samples

        def it_audio() -> Iterator[np.ndarray]:
            for i in range(0, x.shape[1], step):
                yield x[:, i:i + step].mean(axis=0, dtype=np.float64).astype(np.float32)

        return sr, it_audio()
    from yuefu.core.io.audio import audio_info, iter_audio_blocks

    info = audio_info(source)

    def it_file() -> Iterator[np.ndarray]:
        for b in iter_audio_blocks(source, block_s=block_s):
            yield b.mean(axis=0, dtype=np.float64).astype(np.float32)

    return info.sr, it_file()


class StreamResampler:
    """Polyphase resampling of a stream, chunk by chunk, equal to resampling it whole.

    Parameters
    ----------
    sr_in, sr_out : int
        Rates in Hz.
    """

    def __init__(self, sr_in: int, sr_out: int = MODEL_SR) -> None:
        g = gcd(int(sr_in), int(sr_out))
        self.up, self.down = int(sr_out) // g, int(sr_in) // g
        # context each side, a multiple of `down` so output samples stay on the global grid;
        # resample_poly's filter spans 10 * max(up, down) / up input samples each side
        need = 10 * max(self.up, self.down) // self.up + 16
        self.pad = self.down * -(-need // self.down)
        self.chunk = self.down * max(1, (1 << 16) // self.down)
        self._buf = np.zeros(self.pad, dtype=np.float32)  # left context (zeros before the start)
        self._n_in = 0
        self._n_out = 0

    def _run(self, x: np.ndarray, n_core: int) -> np.ndarray:
        from scipy.signal import resample_poly

        if self.up == self.down == 1:
            return x[self.pad:self.pad + n_core]
        y = resample_poly(x, self.up, self.down)
        start = self.pad * self.up // self.down
        return y[start:start + (n_core * self.up) // self.down].astype(np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Resampled samples that are final once ``block`` is appended (possibly none)."""
        self._buf = np.concatenate([self._buf, np.asarray(block, dtype=np.float32)])
        self._n_in += len(block)
        outs = []
        while len(self._buf) >= 2 * self.pad + self.chunk:
            seg = self._buf[:2 * self.pad + self.chunk]
            outs.append(self._run(seg, self.chunk))
            self._buf = self._buf[self.chunk:]
        out = np.concatenate(outs) if outs else np.zeros(0, dtype=np.float32)
        self._n_out += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The rest of the stream (call once, at the end)."""
        n_core = len(self._buf) - self.pad
        total = -(-self._n_in * self.up // self.down)  # ceil, as resample_poly
        if n_core <= 0:
            return np.zeros(0, dtype=np.float32)
        rest = -(-n_core // self.down) * self.down
        seg = np.concatenate([self._buf, np.zeros(rest - n_core + self.pad, dtype=np.float32)])
        out = self._run(seg, rest)[: total - self._n_out]
        self._n_out += len(out)
        return out


def _key_band_matrix(n_harmonics: int) -> np.ndarray:
    """(n_fft/2+1, 88) weights summing each key's first harmonics (nearest bin and its neighbours)."""
    n_bins = _N_FFT // 2 + 1
    m = np.zeros((n_bins, N_KEYS), dtype=np.float32)
    for k in range(N_KEYS):
        f0 = 440.0 * 2.0 ** ((LOWEST_PITCH + k - 69) / 12.0)
        for h in range(1, n_harmonics + 1):
            b = int(round(h * f0 * _N_FFT / MODEL_SR))
            if b + 1 >= n_bins:
                break
            m[b - 1:b + 2, k] = 1.0
    return m


_BANDS = np.concatenate([_key_band_matrix(_N_HARMONICS), _key_band_matrix(1)], axis=1)
_WIN = np.hanning(_N_FFT).astype(np.float32)
# a full-scale sine's peak bin power under this window, so a key's energy is ~ amplitude**2
_WIN_NORM = float((_WIN.sum() / 2.0) ** 2)


def _energy(window: np.ndarray) -> np.ndarray:
    """(KEPT_FRAMES, 2 * 88) key energies (4 harmonics, then the fundamental alone) of the kept
    frames of one model window."""
    centres = (np.arange(EDGE_FRAMES, EDGE_FRAMES + KEPT_FRAMES) * HOP_SAMPLES)
    idx = centres[:, None] + np.arange(-_N_FFT // 2, _N_FFT // 2)[None, :]
    spec = np.fft.rfft(window[idx] * _WIN, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32) / _WIN_NORM
    return power @ _BANDS


def frames(
    source: str | Path | Audio,
    model: NoteModel,
    *,
    batch: int = 4,
    progress: Callable[[float], None] | None = None,
    stats: dict[str, float] | None = None,
) -> Iterator[FrameBlock]:
    """Posteriorgram frames of ``source``, in order, a batch of windows at a time.

    Parameters
    ----------
    source : path or Audio
        Any sample rate and channel count; channels are averaged and the mono signal is
        resampled to 22,050 Hz.
    model : NoteModel
    batch : int
        Windows per model call (4 windows = 6.6 s of audio; 8 is no faster and takes ~100 MB
        more memory).
    progress : callable, optional
        ``progress(seconds_done)``, after each batch.
    stats : dict, optional
        Filled in as the stream is read: ``sr`` (the source's rate), ``n_samples`` (resampled
        length at 22,050 Hz) and ``peak`` (largest absolute mono sample).

    Yields
    ------
    FrameBlock
        Covering frames 0 .. ceil(n / 256) where n is the resampled length.
    """
    sr, blocks = mono_blocks(source)
    rs = StreamResampler(sr, MODEL_SR)
    st: dict[str, float] = stats if stats is not None else {}
    st.update(sr=float(sr), n_samples=0.0, peak=0.0)
    # the first window starts EDGE_FRAMES hops before the signal, so its first kept frame is t=0
    buf = np.zeros(EDGE_FRAMES * HOP_SAMPLES, dtype=np.float32)
    n_total = 0
    next_frame = 0
    pending: list[np.ndarray] = []

    def run(wins: list[np.ndarray]) -> Iterator[FrameBlock]:
        nonlocal next_frame
        x = np.stack(wins)
        note, onset = model(x)
        for i in range(len(wins)):
            sl = slice(EDGE_FRAMES, EDGE_FRAMES + KEPT_FRAMES)
            e = _energy(x[i])
            yield FrameBlock(next_frame, note[i, sl], onset[i, sl], e[:, :N_KEYS], e[:, N_KEYS:])
            next_frame += KEPT_FRAMES
        if progress is not None:
            progress(min(next_frame * HOP_SAMPLES, n_total) / MODEL_SR)

    def cut(final: bool) -> Iterator[FrameBlock]:
        nonlocal buf
        n_frames_needed = n_total // HOP_SAMPLES + 1
        while True:
            if len(buf) >= WINDOW_SAMPLES:
                pending.append(buf[:WINDOW_SAMPLES].copy())
                buf = buf[_HOP_WINDOW:]
            elif final and next_frame + len(pending) * KEPT_FRAMES < n_frames_needed:
                pending.append(np.pad(buf, (0, WINDOW_SAMPLES - len(buf))))
                buf = buf[min(len(buf), _HOP_WINDOW):]
            else:
                break
            if len(pending) >= batch:
                yield from run(pending)
                pending.clear()
        if final and pending:
            yield from run(pending)
            pending.clear()

    for block in blocks:
        if block.size:
            st["peak"] = max(st["peak"], float(np.max(np.abs(block))))
        y = rs.push(block)
        n_total += len(y)
        st["n_samples"] = float(n_total)
        buf = np.concatenate([buf, y])
        yield from cut(False)
    y = rs.flush()
    n_total += len(y)
    st["n_samples"] = float(n_total)
    buf = np.concatenate([buf, y])
    yield from cut(True)

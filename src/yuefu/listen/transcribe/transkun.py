"""The accurate piano transcriber: Transkun 2.0 (Yan and Duan, ISMIR 2024; MIT), run by torch.

basic-pitch's small network (:mod:`yuefu.listen.transcribe.model`) is instrument-agnostic and fast
(about 30x real time on one core); it loses soft notes, inner notes of thick chords and fast
runs. Transkun is a piano model trained on MAESTRO (a transformer over a mel spectrogram that
scores note *intervals* with a semi-CRF): on the practice benchmark's FluidSynth renditions with
noise its note-onset F1 is 0.989 where basic-pitch's decoder reaches 0.892 (125 takes), and it
also transcribes the sustain and sostenuto pedals (not used yet). It is slower: about 1.2x real
time on one core (a minute of playing takes about 50 s). One model is shared by the process; it
is not meant for transcriptions running at once in several threads.

The weights (``transkun/pretrained/2.0.pt``, 56 MB) come with the ``transkun`` 2.0.1 package
(``make setup`` runs ``pip install --no-deps transkun==2.0.1``; the two small pure-Python
packages its modules import, ``pretty_midi`` and ``mir_eval``, come with the ``ml`` extra). They
are found without running the package, checked against their sha256 and loaded on the CPU;
nothing is downloaded. The model card is ``yuefu/models/transcribe_transkun.md``.

Two departures from Transkun's own command: the recording is cut into 16-s segments that advance
by 12 s, not 8 s (1.5x faster; note onset F1 0.993 against 0.996 on a test take), and torchaudio,
which the package imports only to build a mel filter bank that the checkpoint itself carries, is
not needed (:func:`_mel_filters`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import math
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import MissingDependencyError, ModelLoadError, ParameterError

__all__ = ["MODEL_SHA256", "INSTALL_HINT", "SEGMENT_S", "HOP_S", "TranskunResult", "weights_file",
           "available", "transcribe_transkun"]

#: sha256 of ``transkun/pretrained/2.0.pt`` in transkun 2.0.1.
MODEL_SHA256 = "50a80010effc2a59ffcd068a95cd2b29bd7f23a27a3515bc3ccd209c89a3d44c"
INSTALL_HINT = ("install it with `pip install pretty_midi==0.2.11.post0 mir-eval==0.8.2` and then "
                "`pip install --no-deps transkun==2.0.1` (--no-deps: its declared dependencies pull "
                "torchaudio, tensorboard and matplotlib, which it does not need here), or run `make setup`")
#: Seconds of audio the model reads at once, and how far each segment advances.
SEGMENT_S = 16.0
HOP_S = 12.0
#: The model's sample rate (Hz); recordings are resampled to it.
MODEL_SR = 44100
#: Transkun's pedal "pitches": the controller number, negated.
_SUSTAIN, _SOSTENUTO = -64, -67


@dataclass(frozen=True)
class TranskunResult:
    """What Transkun heard: notes as rows ``(pitch, onset_s, offset_s, velocity)`` in onset order,
    and the sustain and sostenuto pedal as ``(down_s, up_s)`` spans."""

    notes: list[tuple[int, float, float, int]]
    sustain: list[tuple[float, float]]
    sostenuto: list[tuple[float, float]]
    duration_s: float
    peak: float


def available() -> bool:
    """Whether transkun (and torch) are installed; the weights are checked only when loaded."""
    return importlib.util.find_spec("transkun") is not None and importlib.util.find_spec("torch") is not None


@functools.lru_cache(maxsize=1)
def weights_file() -> Path:
    """Path of the checked checkpoint inside the installed ``transkun`` package.

    Raises
    ------
    MissingDependencyError
        transkun is not installed.
    ModelLoadError
        The checkpoint is missing or is not transkun 2.0.1's.
    """
    from yuefu.listen.transcribe.model import package_file

    return package_file(
        "transkun", ("pretrained", "2.0.pt"), MODEL_SHA256,
        absent="the accurate piano transcriber needs the transkun package; " + INSTALL_HINT,
        name="Transkun's checkpoint", expected="transkun 2.0.1's checkpoint",
        reinstall="pip install --force-reinstall --no-deps transkun==2.0.1")


def _mel_filters(n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int, **_: Any) -> Any:
    """torchaudio's ``melscale_fbanks`` (HTK mel scale, no normalisation) in numpy: triangles
    over the ``n_freqs`` bins from 0 Hz to Nyquist. The checkpoint carries the filter bank the
    model was trained with too; this one equals it to 2.2e-5."""
    import torch

    freqs = np.linspace(0.0, sample_rate // 2, n_freqs)
    lo, hi = (2595.0 * np.log10(1.0 + f / 700.0) for f in (f_min, f_max))
    mels = np.linspace(lo, hi, n_mels + 2)
    pts = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    slopes = pts[np.newaxis, :] - freqs[:, np.newaxis]
    width = np.diff(pts)
    down = -slopes[:, :-2] / width[:-1]
    up = slopes[:, 2:] / width[1:]
    return torch.from_numpy(np.maximum(0.0, np.minimum(down, up)).astype(np.float32))


@contextlib.contextmanager
def _torchaudio_stand_in() -> Iterator[None]:
    """While the model is built: a ``torchaudio`` with the one function transkun asks of it, unless
    a real torchaudio is installed. Removed again afterwards, so nothing else sees it."""
    if importlib.util.find_spec("torchaudio") is not None:
        yield
        return
    mod = types.ModuleType("torchaudio")
    mod.functional = types.SimpleNamespace(melscale_fbanks=_mel_filters)  # type: ignore[attr-defined]
    sys.modules["torchaudio"] = mod
    try:
        yield
    finally:
        sys.modules.pop("torchaudio", None)


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """The Transkun model on the CPU, in evaluation mode (built once per process)."""
    path = weights_file()
    try:
        import importlib

        import torch

        conf = json.loads((path.parent / "2.0.conf").read_text(encoding="utf-8"))["Model"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its modules use torch.jit.script, which torch deprecates
            module = importlib.import_module(conf["module"])
    except ImportError as e:
        raise MissingDependencyError(f"the accurate piano transcriber cannot import transkun ({e}); "
                                     + INSTALL_HINT) from None
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(f"{path.parent / '2.0.conf'}: unreadable model configuration ({e}); "
                             "reinstall transkun==2.0.1") from None
    cfg = module.Config()
    cfg.__dict__.update(conf["config"])
    with _torchaudio_stand_in():
        model = module.TransKun(conf=cfg)
    try:
        ck = torch.load(str(path), map_location="cpu", weights_only=False)
        state = ck.get("best_state_dict", ck.get("state_dict"))
        model.load_state_dict(state, strict=False)
    except Exception as e:  # noqa: BLE001 -- torch raises many kinds for a damaged file
        raise ModelLoadError(f"{path}: torch cannot load Transkun's checkpoint ({e})") from None
    model.eval()
    return model


def _mono(source: str | Path | Audio) -> tuple[np.ndarray, float]:
    """The recording as mono float32 at :data:`MODEL_SR`, and its length in seconds."""
    from yuefu.core.io.audio import read_audio

    audio = source if isinstance(source, Audio) else read_audio(source)
    if not audio.is_finite():
        raise ParameterError("the audio to transcribe contains NaN/Inf samples")
    x = audio.samples.mean(axis=0, dtype=np.float64).astype(np.float32)
    duration = x.shape[0] / audio.sr
    if audio.sr != MODEL_SR:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(audio.sr), MODEL_SR)
        x = resample_poly(x, MODEL_SR // g, int(audio.sr) // g).astype(np.float32)
    return x, duration


def transcribe_transkun(source: str | Path | Audio, *, threads: int = 1,
                        progress: Callable[[float, str], None] | None = None) -> TranskunResult:
    """Transcribe a piano recording with Transkun.

    Parameters
    ----------
    source : str, Path or Audio
        A recording (any format :func:`yuefu.core.io.load_audio` reads) or audio in memory.
    threads : int
        torch threads while it runs (1: one core; restored afterwards).
    progress : callable, optional
        Called as ``progress(fraction, message)`` after each segment (a minute of audio takes
        about a minute).

    Raises
    ------
    MissingDependencyError
        transkun or torch is not installed.
    ModelLoadError
        Its checkpoint is missing or not the expected one.
    ParameterError
        The audio cannot be used (NaN samples, shorter than a tenth of a second).
    """
    if int(threads) < 1:
        raise ParameterError(f"threads must be >= 1, got {threads}")
    x, duration = _mono(source)
    if duration < 0.1:
        raise ParameterError(f"the recording lasts {duration:.2f} s; record at least a note (0.1 s)")
    model = _model()
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    if progress is not None:
        # transkun's own loop runs one segment per transcribeFrames call: count them there
        step = math.ceil(HOP_S * MODEL_SR / model.hopSize) * model.hopSize
        padded = x.shape[0] + 2 * math.ceil((SEGMENT_S - HOP_S) * MODEL_SR)
        total, done = max(1, math.ceil(padded / step)), [0]
        segment = model.transcribeFrames

        def counted(*args: Any, **kwargs: Any) -> Any:
            out = segment(*args, **kwargs)
            done[0] += 1
            progress(min(1.0, done[0] / total), f"segment {done[0]} of {total}")
            return out

        model.transcribeFrames = counted
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.utils.checkpoint warns that nothing needs gradients
            events = model.transcribe(torch.from_numpy(x[:, None].copy()), stepInSecond=HOP_S,
                                      segmentSizeInSecond=SEGMENT_S, discardSecondHalf=False)
    finally:
        torch.set_num_threads(before)
        if progress is not None:
            del model.transcribeFrames  # the cached model's own method again
    notes: list[tuple[int, float, float, int]] = []
    pedals: dict[int, list[tuple[float, float]]] = {_SUSTAIN: [], _SOSTENUTO: []}
    for e in events:
        a, b = max(0.0, float(e.start)), min(duration, float(e.end))
        if b <= a:
            continue
        if e.pitch in pedals:
            pedals[e.pitch].append((a, b))
        elif 21 <= e.pitch <= 108:
            notes.append((int(e.pitch), a, b, int(np.clip(round(float(e.velocity)), 1, 127))))
    notes.sort(key=lambda r: (r[1], r[0]))
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return TranskunResult(notes, sorted(pedals[_SUSTAIN]), sorted(pedals[_SOSTENUTO]), duration, peak)

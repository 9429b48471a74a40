"""The note model: basic-pitch's ICASSP 2022 network (Spotify, Apache-2.0), run by onnxruntime.

The ONNX file is the one inside the ``basic-pitch`` 0.4.0 package. It is located without
importing ``basic_pitch`` (whose ``__init__`` logs four warnings about missing TensorFlow,
CoreML and TFLite backends), checked against its sha256, and run through onnxruntime on the
CPU. Nothing is downloaded. The model card is ``yuefu/models/transcribe_basic_pitch.md``.

The network reads windows of exactly :data:`WINDOW_SAMPLES` mono samples at
:data:`MODEL_SR` Hz and returns, per window, :data:`WINDOW_FRAMES` frames (hop
:data:`HOP_SAMPLES` samples, 11.6 ms) of three posteriorgrams: ``note`` (88 piano keys, A0..C8),
``onset`` (88 keys) and ``contour`` (264 bins, a third of a semitone; unused here).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError, ModelLoadError
from yuefu.core.files import sha256_file

__all__ = [
    "MODEL_SR",
    "HOP_SAMPLES",
    "WINDOW_SAMPLES",
    "WINDOW_FRAMES",
    "N_KEYS",
    "LOWEST_PITCH",
    "MODEL_SHA256",
    "INSTALL_HINT",
    "model_file",
    "package_file",
    "NoteModel",
]

#: Sample rate the network was trained at (Hz); input is resampled to it.
MODEL_SR = 22050
#: Frame hop of the posteriorgrams in samples at :data:`MODEL_SR` (11.61 ms).
HOP_SAMPLES = 256
#: Input window length in samples (2 s less one hop); the ONNX graph fixes it.
WINDOW_SAMPLES = 2 * MODEL_SR - HOP_SAMPLES
#: Frames the network returns per window.
WINDOW_FRAMES = 172
#: Piano keys in the output (MIDI 21 = A0 .. 108 = C8).
N_KEYS = 88
LOWEST_PITCH = 21

#: sha256 of ``basic_pitch/saved_models/icassp_2022/nmp.onnx`` in basic-pitch 0.4.0.
MODEL_SHA256 = "2c3c1d144bfa61ad236e92e169c13535c880469a12a047d4e73451f2c059a0ec"
_MODEL_REL = ("saved_models", "icassp_2022", "nmp.onnx")
_INPUT = "serving_default_input_2:0"
_OUT_NOTE = "StatefulPartitionedCall:1"
_OUT_ONSET = "StatefulPartitionedCall:2"

INSTALL_HINT = (
    "install them with `pip install onnxruntime==1.32.0` and then "
    "`pip install --no-deps basic-pitch==0.4.0` (--no-deps: a plain install pulls TensorFlow "
    "and downgrades numpy), or run `make setup`"
)


@functools.lru_cache(maxsize=1)
def model_file() -> Path:
    """Path of the checked ONNX file inside the installed ``basic-pitch`` package.

    Raises
    ------
    MissingDependencyError
        ``basic-pitch`` is not installed (the message gives the install lines).
    ModelLoadError
        The file is missing or its sha256 is not that of basic-pitch 0.4.0's model.
    """
    return package_file(
        "basic_pitch", _MODEL_REL, MODEL_SHA256,
        absent="piano transcription needs the basic-pitch model and onnxruntime; " + INSTALL_HINT,
        name="basic-pitch's ONNX model", expected="basic-pitch 0.4.0's model",
        reinstall="pip install --force-reinstall --no-deps basic-pitch==0.4.0")


def package_file(package: str, rel: tuple[str, ...], sha256: str, *, absent: str, name: str, expected: str,
                 reinstall: str) -> Path:
    """A model file inside an installed package, found without importing the package (whose
    ``__init__`` may be slow or noisy) and checked against its ``sha256``.

    Raises
    ------
    MissingDependencyError
        ``package`` is not installed (message ``absent``).
    ModelLoadError
        The file (``name``) is missing, or is not ``expected`` (another version's); both messages
        give the ``reinstall`` command.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(absent)
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*rel)
    if not path.is_file():
        raise ModelLoadError(f"{path}: {name} is missing; reinstall it with `{reinstall}`")
    digest = sha256_file(path)
    if digest != sha256:
        raise ModelLoadError(f"{path}: sha256 {digest[:12]}... is not {expected} ({sha256[:12]}...); "
                             f"install that version with `{reinstall}`")
    return path


class NoteModel:
    """The ONNX note model on the CPU.

    Parameters
    ----------
    threads : int
        onnxruntime intra-op threads (1: one core, deterministic and what the benchmarks time).
    """

    def __init__(self, *, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingDependencyError(
                "piano transcription needs onnxruntime, which is not installed; " + INSTALL_HINT
            ) from None
        path = model_file()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # errors only
        try:
            self._session: Any = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelLoadError(f"{path}: onnxruntime cannot load the model ({e})") from None

    def __call__(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posteriorgrams of a batch of windows.

        Parameters
        ----------
        windows : np.ndarray [shape=(batch, WINDOW_SAMPLES), dtype=float32]
            Mono audio at :data:`MODEL_SR` Hz.

        Returns
        -------
        note, onset : np.ndarray [shape=(batch, WINDOW_FRAMES, N_KEYS), dtype=float32]
            Frame-wise probabilities (0..1) that a key sounds / starts.
        """
        x = np.ascontiguousarray(windows, dtype=np.float32)[:, :, np.newaxis]
        note, onset = self._session.run([_OUT_NOTE, _OUT_ONSET], {_INPUT: x})
        return note, onset


@functools.lru_cache(maxsize=4)
def get_model(threads: int = 1) -> NoteModel:
    """A shared :class:`NoteModel` (loading it takes ~0.1 s; it is kept for the process)."""
    return NoteModel(threads=threads)

"""A streaming writer for 32-bit float WAV files, the format of stems and premixes.

libsndfile (through soundfile) writes float WAV at about a third of the speed of the disk: it
converts and byte-checks every sample in small buffers and ``fsync``s the file on close. Stems
are written by the hundred megabytes (a 3-minute song's 8 stems are 510 MB), so yuefu writes
this one format itself: a RIFF header, then the interleaved little-endian float32 samples
straight from numpy, and the sizes patched in on close. The file is an ordinary
``WAVE_FORMAT_IEEE_FLOAT`` WAV (with the ``fact`` chunk the format requires) that libsndfile,
ffmpeg and every DAW read. A file that grows past 4 GiB becomes RF64 (EBU Tech 3306) on close:
the ``JUNK`` chunk reserved after the RIFF header turns into the ``ds64`` chunk, as that
standard intends.

>>> import numpy as np, tempfile, pathlib, soundfile as sf
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.wav"
>>> with FloatWavWriter(p, sr=44100, channels=2) as w:
...     w.write(np.ones((2, 100), dtype=np.float32) * 0.5)
>>> x, sr = sf.read(str(p), dtype="float32")
>>> x.shape, sr, float(x[0, 1])
((100, 2), 44100, 0.5)
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import BinaryIO, Self

import numpy as np

from yuefu.core.errors import ParameterError

__all__ = ["BlockWriter", "FloatWavWriter"]

_FORMAT_IEEE_FLOAT = 3
# RIFF(12) + JUNK(8 + 28) + fmt (8 + 18) + fact(8 + 4) + data header(8)
_JUNK_SIZE = 28  # the size of a ds64 chunk without a table
_HEADER_BYTES = 12 + 8 + _JUNK_SIZE + 8 + 18 + 8 + 4 + 8
_UNKNOWN = 0xFFFFFFFF  # a 32-bit size field of RF64: "see ds64"
_RIFF_MAX = 0xFFFFFFFF  # the largest RIFF size; a larger file is written as RF64
_LITTLE = sys.byteorder == "little"


class BlockWriter:
    """A file written block by block: ``with`` closes it on success and aborts it on error."""

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class FloatWavWriter(BlockWriter):
    """Write a 32-bit float WAV file block by block, straight to ``path``.

    Not atomic by itself: use it inside :func:`yuefu.core.files.atomic_output` so that a
    failure never leaves a half-written file under the destination name.

    Parameters
    ----------
    path : str or Path
        The file; created or truncated.
    sr : int
        Sample rate in Hz.
    channels : int
        Channels of every block (1..64).

    Notes
    -----
    Samples are written as they come: no clipping, no check for NaN (callers that take audio
    from users check it first, as :class:`~yuefu.core.io.audio.AudioFileWriter` does).
    """

    def __init__(self, path: str | Path, *, sr: int, channels: int) -> None:
        self.path = Path(path)
        self.sr = int(sr)
        self.channels = int(channels)
        if not 1 <= self.channels <= 64:
            raise ParameterError(f"channels must be 1..64, got {channels}")
        if not 1 <= self.sr <= 0xFFFFFFFF // (4 * self.channels):
            raise ParameterError(f"sample rate out of range for WAV: {sr}")
        self.frames = 0
        self._f: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._f.write(self._header(0))

    def _header(self, frames: int) -> bytes:
        block_align = 4 * self.channels
        data = frames * block_align
        rf64 = _HEADER_BYTES - 8 + data > _RIFF_MAX
        if rf64:
            riff = b"RF64" + struct.pack("<I", _UNKNOWN) + b"WAVE"
            junk = b"ds64" + struct.pack("<IQQQI", _JUNK_SIZE, _HEADER_BYTES - 8 + data, data,
                                         frames, 0)
        else:
            riff = b"RIFF" + struct.pack("<I", _HEADER_BYTES - 8 + data) + b"WAVE"
            junk = b"JUNK" + struct.pack("<I", _JUNK_SIZE) + bytes(_JUNK_SIZE)
        fmt = b"fmt " + struct.pack("<IHHIIHHH", 18, _FORMAT_IEEE_FLOAT, self.channels, self.sr,
                                    self.sr * block_align, block_align, 32, 0)
        fact = b"fact" + struct.pack("<II", 4, _UNKNOWN if rf64 else frames)
        head = b"data" + struct.pack("<I", _UNKNOWN if rf64 else data)
        out = riff + junk + fmt + fact + head
        assert len(out) == _HEADER_BYTES
        return out

    def write(self, block: np.ndarray) -> None:
        """Append samples.

        Parameters
        ----------
        block : np.ndarray [shape=(channels, n)]
            Samples, full scale 1.0; converted to float32.
        """
        if self._f is None:
            raise ValueError(f"{self.path}: the writer is closed")
        x = np.asarray(block)
        if x.ndim == 1 and self.channels == 1:
            x = x[np.newaxis, :]
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ParameterError(f"block must be shaped ({self.channels}, n), got {x.shape}")
        if x.shape[1] == 0:
            return
        y = np.ascontiguousarray(x.T, dtype=np.float32)
        if not _LITTLE:  # pragma: no cover - big-endian hosts
            y = y.astype("<f4")
        y.tofile(self._f)
        self.frames += int(x.shape[1])

    def close(self) -> None:
        """Patch the sizes into the header and close the file."""
        f, self._f = self._f, None
        if f is None:
            return
        try:
            f.seek(0)
            f.write(self._header(self.frames))
        finally:
            f.close()

    def abort(self) -> None:
        """Close without finishing (the caller deletes the partial file)."""
        f, self._f = self._f, None
        if f is not None:
            f.close()


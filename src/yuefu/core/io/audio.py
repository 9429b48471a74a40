"""Audio files: read, write and stream WAV, FLAC, OGG, AIFF, MP3 (and M4A for reading).

Every reader returns samples at the file's own sample rate: nothing here resamples. WAV, FLAC,
OGG and AIFF go through soundfile (libsndfile); MP3 and M4A are decoded, and MP3 is encoded, by
an ``ffmpeg`` subprocess, which must be installed (``apt-get install ffmpeg``).

Long files can be read block by block with :func:`iter_audio_blocks` and written block by block
with :func:`open_audio_writer`, so memory stays flat on hour-long files.

>>> import numpy as np, tempfile, pathlib
>>> from yuefu.core.audio import Audio
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> a = Audio(np.zeros((2, 4410), dtype=np.float32), 44100)
>>> _ = write_audio(a, d / "x.flac")
>>> audio_info(d / "x.flac").frames
4410
>>> read_audio(d / "x.flac").sr
44100
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import AudioLoadError, MissingDependencyError, ParameterError
from yuefu.core.files import atomic_output, check_input, check_output
from yuefu.core.io.wav import BlockWriter, FloatWavWriter

__all__ = [
    "AUDIO_READ_EXTS",
    "AUDIO_WRITE_EXTS",
    "AudioInfo",
    "AudioFileWriter",
    "read_audio",
    "write_audio",
    "iter_audio_blocks",
    "audio_info",
    "open_audio_writer",
    "check_audio_output",
]

log = logging.getLogger(__name__)

_SF_READ_EXTS = (".wav", ".flac", ".ogg", ".aiff", ".aif")
_FFMPEG_READ_EXTS = (".mp3", ".m4a")
#: Extensions :func:`read_audio` accepts (MP3 and M4A are decoded by ffmpeg).
AUDIO_READ_EXTS: tuple[str, ...] = _SF_READ_EXTS + _FFMPEG_READ_EXTS
#: Extensions :func:`write_audio` accepts (MP3 is encoded by ffmpeg's libmp3lame).
AUDIO_WRITE_EXTS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3")

_SF_FORMAT = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aiff": "AIFF", ".aif": "AIFF"}
_DEFAULT_SUBTYPE = {".wav": "PCM_24", ".flac": "PCM_24", ".ogg": "VORBIS"}
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_ACCEPTED = "WAV, FLAC, OGG, AIFF, MP3 or M4A"
_INT_SUBTYPES = ("PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "ALAC_16", "ALAC_20",
                 "ALAC_24", "ALAC_32")


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds, read from its header without decoding the samples.

    Attributes
    ----------
    sr : int
        Sample rate in Hz.
    channels : int
        Number of channels.
    frames : int
        Samples per channel. For MP3/M4A this is estimated from the duration that ffprobe
        reports (exact to a few milliseconds of encoder padding).
    duration_s : float
        Duration in seconds.
    format : str
        Container/codec in lower case: ``"wav"``, ``"flac"``, ``"ogg"``, ``"aiff"``,
        ``"mp3"``, ``"m4a"``.
    """

    sr: int
    channels: int
    frames: int
    duration_s: float
    format: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return {"sr": self.sr, "channels": self.channels, "frames": self.frames,
                "duration_s": round(self.duration_s, 6), "format": self.format}


# --------------------------------------------------------------------------------------------
# checks shared by every reader
# --------------------------------------------------------------------------------------------


def _check_readable(path: str | Path) -> tuple[Path, str]:
    p = check_input(path, what=f"audio file ({_ACCEPTED})", error=AudioLoadError)
    ext = p.suffix.lower()
    if ext not in AUDIO_READ_EXTS:
        raise AudioLoadError(
            f"{p}: unsupported audio format {ext or '(no extension)'!r}; "
            f"use one of {', '.join(AUDIO_READ_EXTS)}"
        )
    if p.stat().st_size == 0:
        raise AudioLoadError(f"{p}: the file is empty (0 bytes)")
    return p, ext


def _corrupt(p: Path, why: object) -> AudioLoadError:
    reason = " ".join(str(why).split())
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return AudioLoadError(
        f"{p}: not a readable audio file or corrupt ({reason}); accepted formats: {_ACCEPTED}"
    )


def _check_finite(p: Path | str, x: np.ndarray) -> None:
    if not np.isfinite(x).all():
        raise AudioLoadError(f"{p}: contains NaN/Inf samples; repair or re-export the file")


def _need_ffmpeg(p: Path | str, what: str = "reading") -> tuple[str, str]:
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        raise MissingDependencyError(
            f"{what} {p} needs ffmpeg, which is not installed; "
            "install it with `apt-get install ffmpeg`"
        )
    return ffmpeg, ffprobe


# --------------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------------


def _ffprobe(p: Path) -> AudioInfo:
    _, ffprobe = _need_ffmpeg(p)
    cmd = [ffprobe, "-v", "error", "-select_streams", "a:0",
           "-show_entries", "stream=sample_rate,channels,duration:format=duration,format_name",
           "-of", "json", str(p)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise _corrupt(p, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else
                       f"ffprobe exit status {r.returncode}")
    try:
        data = json.loads(r.stdout)
        streams = data.get("streams") or []
        if not streams:
            raise _corrupt(p, "no audio stream")
        st = streams[0]
        sr = int(st["sample_rate"])
        channels = int(st["channels"])
        dur_s = st.get("duration") or data.get("format", {}).get("duration")
        duration_s = float(dur_s) if dur_s not in (None, "N/A") else 0.0
    except (KeyError, ValueError, TypeError) as e:
        raise _corrupt(p, f"ffprobe gave no sample rate/channels: {e}") from None
    if sr <= 0 or channels <= 0:
        raise _corrupt(p, "no audio stream")
    frames = int(round(duration_s * sr))
    return AudioInfo(sr=sr, channels=channels, frames=frames, duration_s=frames / sr,
                     format=p.suffix.lower().lstrip("."))


def audio_info(path: str | Path, *, check_samples: bool = False) -> AudioInfo:
    """Sample rate, channels, length and format of an audio file, without loading it.

    Parameters
    ----------
    path : str or Path
        A file with one of :data:`AUDIO_READ_EXTS`.
    check_samples : bool
        Also decode the whole file block by block (memory stays flat) to make sure it reads
        to the end and holds no NaN/Inf samples; ``frames`` is then the exact decoded count
        (for MP3/M4A too).

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioLoadError
        Missing, empty, unsupported or corrupt file (with ``check_samples``: also a file
        that does not decode to the end, or holds NaN/Inf samples).
    MissingDependencyError
        MP3/M4A and ffmpeg is not installed.
    """
    if check_samples:
        info = audio_info(path)
        frames = sum(b.shape[1] for b in iter_audio_blocks(path))
        if frames == 0:
            raise AudioLoadError(f"{path}: holds no samples (0 frames)")
        return AudioInfo(sr=info.sr, channels=info.channels, frames=frames,
                         duration_s=frames / info.sr, format=info.format)
    p, ext = _check_readable(path)
    if ext in _FFMPEG_READ_EXTS:
        return _ffprobe(p)
    import soundfile as sf

    try:
        info = sf.info(str(p))
    except Exception as e:  # libsndfile raises RuntimeError subclasses
        raise _corrupt(p, e) from None
    fmt = {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "FLAC": "flac", "OGG": "ogg",
           "AIFF": "aiff"}.get(info.format, info.format.lower())
    return AudioInfo(sr=int(info.samplerate), channels=int(info.channels),
                     frames=int(info.frames), duration_s=info.frames / info.samplerate,
                     format=fmt)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def _ffmpeg_decode_cmd(p: Path, info: AudioInfo) -> list[str]:
    ffmpeg, _ = _need_ffmpeg(p)
    # -ar/-ac equal to the stream's own values: a format conversion to float32, no resampling.
    return [ffmpeg, "-nostdin", "-v", "error", "-i", str(p), "-map", "0:a:0", "-vn",
            "-ac", str(info.channels), "-ar", str(info.sr), "-f", "f32le", "-acodec",
            "pcm_f32le", "pipe:1"]


def _iter_ffmpeg(p: Path, info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    cmd = _ffmpeg_decode_cmd(p, info)
    ch = info.channels
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    got_any = False
    try:
        nbytes = block_frames * ch * 4
        while True:
            buf = proc.stdout.read(nbytes)
            if not buf:
                break
            usable = len(buf) - len(buf) % (ch * 4)
            if usable == 0:
                break
            x = np.frombuffer(buf[:usable], dtype="<f4").reshape(-1, ch).T
            got_any = True
            yield np.ascontiguousarray(x, dtype=np.float32)
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        rc = proc.wait()
        if rc != 0 or not got_any:
            raise _corrupt(p, err.splitlines()[-1] if err else
                           ("no audio could be decoded" if rc == 0 else f"ffmpeg exit status {rc}"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _iter_soundfile(p: Path, block_frames: int) -> Iterator[np.ndarray]:
    import soundfile as sf

    try:
        f = sf.SoundFile(str(p))
    except Exception as e:
        raise _corrupt(p, e) from None
    with f:
        while True:
            try:
                x = f.read(block_frames, dtype="float32", always_2d=True)
            except Exception as e:
                raise _corrupt(p, e) from None
            if x.shape[0] == 0:
                break
            yield np.ascontiguousarray(x.T)


def iter_audio_blocks(path: str | Path, *, block_s: float = 10.0) -> Iterator[np.ndarray]:
    """Read an audio file block by block, at its own sample rate.

    Parameters
    ----------
    path : str or Path
        A file with one of :data:`AUDIO_READ_EXTS`.
    block_s : float
        Block length in seconds (the last block is shorter). Memory use is one block.

    Yields
    ------
    block : np.ndarray [shape=(channels, n), dtype=float32]
        Consecutive samples; get the sample rate from :func:`audio_info`.

    Raises
    ------
    AudioLoadError
        Missing, empty, unsupported or corrupt file, or a block holding NaN/Inf samples
        (raised when that block is reached).
    MissingDependencyError
        MP3/M4A and ffmpeg is not installed.

    Examples
    --------
    >>> total = sum(b.shape[1] for b in iter_audio_blocks(path))  # doctest: +SKIP
    """
    if not block_s > 0:
        raise ParameterError(f"block_s must be > 0 seconds, got {block_s}")
    info = audio_info(path)
    p = Path(path)
    block_frames = max(1, int(round(block_s * info.sr)))
    blocks = (_iter_ffmpeg(p, info, block_frames) if p.suffix.lower() in _FFMPEG_READ_EXTS
              else _iter_soundfile(p, block_frames))
    for x in blocks:
        _check_finite(p, x)
        yield x


def read_audio(path: str | Path) -> Audio:
    """Read a whole audio file at its own sample rate (never resampled).

    Parameters
    ----------
    path : str or Path
        A file with one of :data:`AUDIO_READ_EXTS`: WAV, FLAC, OGG and AIFF are read by
        soundfile; MP3 and M4A are decoded to float32 by ffmpeg.

    Returns
    -------
    Audio
        ``samples`` shaped (channels, n), float32, at the file's sample rate ``sr``.

    Raises
    ------
    AudioLoadError
        Missing, empty (0 bytes), unsupported or corrupt file; NaN/Inf samples.
    MissingDependencyError
        MP3/M4A and ffmpeg is not installed.
    """
    info = audio_info(path)
    p = Path(path)
    if p.suffix.lower() in _FFMPEG_READ_EXTS:
        blocks = list(_iter_ffmpeg(p, info, max(1, info.sr * 60)))
        x = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    else:
        import soundfile as sf

        try:
            data, _ = sf.read(str(p), dtype="float32", always_2d=True)
        except Exception as e:
            raise _corrupt(p, e) from None
        x = data.T
    _check_finite(p, x)
    if x.shape[1] == 0:
        raise AudioLoadError(f"{p}: holds no samples (0 frames)")
    return Audio(x, info.sr)


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _check_write_params(path: Path, sr: int, channels: int, subtype: str | None,
                        bitrate_kbps: int) -> tuple[str, str | None]:
    ext = path.suffix.lower()
    if ext not in AUDIO_WRITE_EXTS:
        raise ParameterError(
            f"{path}: cannot write audio as {ext or '(no extension)'!r}; "
            f"use one of {', '.join(AUDIO_WRITE_EXTS)}"
        )
    if ext == ".mp3":
        if subtype is not None:
            raise ParameterError(f"{path}: subtype does not apply to MP3; set bitrate_kbps")
        if not 32 <= int(bitrate_kbps) <= 320:
            raise ParameterError(f"bitrate_kbps must be 32..320, got {bitrate_kbps}")
        if sr not in _MP3_RATES:
            raise ParameterError(
                f"{path}: MP3 cannot store {sr} Hz; resample explicitly (audio.resample(44100)) "
                "or write WAV/FLAC"
            )
        if channels > 2:
            raise ParameterError(f"{path}: MP3 holds at most 2 channels, got {channels}")
        return ext, None
    import soundfile as sf

    st = (subtype or _DEFAULT_SUBTYPE[ext]).upper()
    if not sf.check_format(_SF_FORMAT[ext], st):
        allowed = ", ".join(sorted(sf.available_subtypes(_SF_FORMAT[ext])))
        raise ParameterError(f"{path}: subtype {st!r} is not valid for {ext}; use one of {allowed}")
    return ext, st


def check_audio_output(path: str | Path, *, sr: int, channels: int, subtype: str | None = None,
                       bitrate_kbps: int = 192) -> None:
    """Check, before any work, that audio of this shape can be written to ``path``.

    Raises
    ------
    ParameterError
        Unsupported extension, subtype or bitrate, or a rate/channel count the format cannot
        hold (MP3: standard MPEG rates, at most 2 channels).
    """
    _check_write_params(Path(path), int(sr), int(channels), subtype, bitrate_kbps)


class AudioFileWriter(BlockWriter):
    """Write an audio file block by block, straight to ``path`` (not atomic by itself).

    Use it inside :func:`yuefu.core.files.atomic_output` (as :func:`open_audio_writer` does)
    so that a failure never leaves a half-written file under the destination name.

    Parameters
    ----------
    path : str or Path
        Destination with one of :data:`AUDIO_WRITE_EXTS`; overwritten if it exists.
    sr : int
        Sample rate in Hz (written as is; MP3 accepts only the standard MPEG rates).
    channels : int
        Number of channels of every block.
    subtype : str, optional
        soundfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``...). Default ``PCM_24`` for
        WAV and FLAC, ``VORBIS`` for OGG. Integer subtypes clip samples beyond full scale.
    bitrate_kbps : int
        MP3 bitrate (constant bit rate, libmp3lame), 32..320.
    """

    def __init__(self, path: str | Path, *, sr: int, channels: int, subtype: str | None = None,
                 bitrate_kbps: int = 192) -> None:
        self.path = Path(path)
        self.sr = int(sr)
        self.channels = int(channels)
        if not 1 <= self.channels <= 64:
            raise ParameterError(f"channels must be 1..64, got {channels}")
        if not 1000 <= self.sr <= 768000:
            raise ParameterError(f"sample rate must be 1000..768000 Hz, got {sr}")
        ext, st = _check_write_params(self.path, self.sr, self.channels, subtype, bitrate_kbps)
        self.subtype = st
        self.frames = 0
        self._clipped = False
        self._sf: Any = None
        self._fw: FloatWavWriter | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        if ext == ".mp3":
            ffmpeg, _ = _need_ffmpeg(self.path, "writing")
            cmd = [ffmpeg, "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(self.sr),
                   "-ac", str(self.channels), "-i", "pipe:0", "-c:a", "libmp3lame",
                   "-b:a", f"{int(bitrate_kbps)}k", "-f", "mp3", str(self.path)]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE)
        elif ext == ".wav" and st == "FLOAT":  # stems and premixes: hundreds of MB, written fast
            self._fw = FloatWavWriter(self.path, sr=self.sr, channels=self.channels)
        else:
            import soundfile as sf

            self._sf = sf.SoundFile(str(self.path), "w", samplerate=self.sr,
                                    channels=self.channels, format=_SF_FORMAT[ext], subtype=st)

    def write(self, block: np.ndarray) -> None:
        """Append samples.

        Parameters
        ----------
        block : np.ndarray [shape=(channels, n)]
            Float samples in -1..1 full scale.
        """
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 1 and self.channels == 1:
            x = x[np.newaxis, :]
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ParameterError(
                f"block must be shaped ({self.channels}, n), got {x.shape}"
            )
        if not np.isfinite(x).all():
            raise ParameterError(f"writing {self.path}: the audio contains NaN/Inf samples")
        if x.shape[1] == 0:
            return
        if (self.subtype in _INT_SUBTYPES or self._proc is not None) and not self._clipped:
            if float(np.max(np.abs(x))) > 1.0:
                self._clipped = True
                log.warning("%s: samples beyond full scale are clipped (%s)", self.path,
                            self.subtype or "mp3")
        if self._proc is not None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(np.ascontiguousarray(x.T, dtype="<f4").tobytes())
            except BrokenPipeError:
                self._finish_ffmpeg()
                raise OSError(f"ffmpeg stopped while writing {self.path}") from None
        elif self._fw is not None:
            self._fw.write(x)
        else:
            self._sf.write(np.ascontiguousarray(x.T))
        self.frames += int(x.shape[1])

    def _finish_ffmpeg(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        assert proc.stdin is not None and proc.stderr is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        proc.stderr.close()
        rc = proc.wait()
        if rc != 0:
            raise OSError(f"ffmpeg could not write {self.path}: "
                          f"{err.splitlines()[-1] if err else f'exit status {rc}'}")

    def close(self) -> None:
        """Finish the file (flush the encoder)."""
        if self._sf is not None:
            self._sf.close()
            self._sf = None
        if self._fw is not None:
            self._fw.close()
            self._fw = None
        self._finish_ffmpeg()

    def abort(self) -> None:
        """Stop without finishing (the caller deletes the partial file)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for s in (self._proc.stdin, self._proc.stderr):
                if s is not None:
                    with contextlib.suppress(OSError):
                        s.close()
            self._proc = None
        if self._sf is not None:
            with contextlib.suppress(Exception):
                self._sf.close()
            self._sf = None
        if self._fw is not None:
            self._fw.abort()
            self._fw = None


@contextlib.contextmanager
def open_audio_writer(path: str | Path, *, sr: int, channels: int, force: bool = False,
                      subtype: str | None = None,
                      bitrate_kbps: int = 192) -> Iterator[AudioFileWriter]:
    """Write an audio file block by block, atomically.

    The samples go to a temporary file beside ``path`` that replaces ``path`` only when the
    block ends without error; nothing half-written is ever left under the destination name.
    Arguments are those of :class:`AudioFileWriter`; ``force`` allows overwriting.

    Examples
    --------
    >>> with open_audio_writer("out.flac", sr=44100, channels=2) as w:  # doctest: +SKIP
    ...     for block in blocks:
    ...         w.write(block)
    """
    p = check_output(path, force=force)
    _check_write_params(p, int(sr), int(channels), subtype, bitrate_kbps)
    with atomic_output(p, force=force) as tmp, AudioFileWriter(
        tmp, sr=sr, channels=channels, subtype=subtype, bitrate_kbps=bitrate_kbps
    ) as w:
        yield w


def write_audio(audio: Audio, path: str | Path, *, force: bool = False,
                subtype: str | None = None, bitrate_kbps: int = 192) -> Path:
    """Write audio as WAV, FLAC, OGG or MP3 (chosen by extension), atomically.

    Parameters
    ----------
    audio : Audio
        Samples shaped (channels, n), written at ``audio.sr`` (never resampled).
    path : str or Path
        Destination with one of :data:`AUDIO_WRITE_EXTS`.
    force : bool
        Overwrite an existing file.
    subtype : str, optional
        soundfile subtype. Default ``"PCM_24"`` for WAV and FLAC (24-bit integer: -144 dBFS
        quantisation, half the size of float WAV, and FLAC cannot store float), ``"VORBIS"``
        for OGG. Pass ``"FLOAT"`` for 32-bit float WAV (keeps samples beyond full scale).
        Integer subtypes clip samples beyond full scale (a warning is logged).
    bitrate_kbps : int
        MP3 only: constant bit rate, 32..320 kb/s (encoded by ffmpeg's libmp3lame).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ParameterError
        Unsupported extension, invalid subtype/bitrate, NaN/Inf samples, a rate MP3 cannot hold.
    OutputExistsError
        ``path`` exists and not ``force``.
    MissingDependencyError
        MP3 and ffmpeg is not installed.
    """
    if not isinstance(audio, Audio):
        raise ParameterError(f"write_audio needs an Audio, got {type(audio).__name__}")
    if not audio.is_finite():
        raise ParameterError(f"writing {path}: the audio contains NaN/Inf samples")
    if audio.n_samples == 0:
        raise ParameterError(f"writing {path}: the audio holds no samples")
    with open_audio_writer(path, sr=audio.sr, channels=audio.channels, force=force,
                           subtype=subtype, bitrate_kbps=bitrate_kbps) as w:
        w.write(audio.samples)
    return Path(path)

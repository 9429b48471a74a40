"""Mixing stems into a stereo premix, and the whole Score -> mastered song render.

Each stem runs through its own channel strip (pedalboard): high-pass, low shelf, presence peak,
high shelf, compressor and fader, then stereo width and an equal-power pan. A post-fader send
from every strip feeds *one* shared reverb bus (pre-delay, a band-pass so the reverb does not
muddy the lows or fizz, then a Freeverb-style room), which is cheaper than a reverb per stem
and glues the instruments into one space, as on a mixing desk. The sum of the strips and the
reverb return goes through a gentle bus compressor and is written as a float32 WAV premix:
level and peaks are left to mastering (:func:`yuefu.render.master.master_file`).

Everything streams in blocks of ``block_s`` seconds with the plug-ins' state carried from block
to block (``reset=False``), so memory stays flat however long the song is.

:func:`render_score` with ``jobs=1`` runs FluidSynth and the mixer as one pass: the strips take
each block of stems as it is synthesised (:func:`~yuefu.render.fluidsynth.stream_stems`), so
stems that are not to be kept never touch the disk (a 3-minute, 8-track song's stems are
510 MB of float WAV) and kept ones are written once and not read back.

Default channel-strip settings come from the track's role (:data:`ROLE_MIX`); the track's own
``gain_db`` and ``pan`` act on top of them (:func:`default_mix_settings`). Compressor
thresholds are in dBFS of the stems as :func:`~yuefu.render.fluidsynth.render_stems` renders
them (with FluidR3, one velocity-100 note peaks at -13 to -10 dBFS, a snare hit at -7 dBFS;
a whole 8-track song's stems peak at -7 to -17 dBFS with short-term RMS around -20 to -27).

>>> from yuefu.core.score import Track
>>> s = default_mix_settings(Track("bass", program=33, role="bass", gain_db=-2.0))
>>> s.highpass_hz, s.reverb_send, s.gain_db
(30.0, 0.0, -3.0)
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yuefu.core.config import config_from_dict
from yuefu.core.errors import AudioLoadError, ParameterError, YuefuError
from yuefu.core.files import atomic_output, check_output
from yuefu.core.io.wav import FloatWavWriter
from yuefu.core.score import ROLES, Score, Track

if TYPE_CHECKING:
    from yuefu.render.loudness import LoudnessReport

__all__ = [
    "MixSettings",
    "BusSettings",
    "placement_matrix",
    "ROLE_MIX",
    "default_mix_settings",
    "mix_stems",
    "RenderResult",
    "render_score",
]

ProgressCallback = Callable[[float, str], None]

_SETTINGS_VERSION = 1


def _check_number(obj: object, name: str, lo: float, hi: float) -> None:
    v = getattr(obj, name)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ParameterError(f"{type(obj).__name__}.{name} must be a number, got {v!r}")
    if not lo <= v <= hi:
        raise ParameterError(f"{type(obj).__name__}.{name} must be {lo:g}..{hi:g}, got {v:g}")
    object.__setattr__(obj, name, float(v))


def _from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    return config_from_dict(cls, data, version=_SETTINGS_VERSION)


@dataclass(frozen=True)
class MixSettings:
    """One stem's channel strip.

    A field at its neutral value switches its stage off (``highpass_hz=0``, a shelf or peak at
    0 dB, ``comp_ratio=1``), so a neutral strip costs nothing.

    Parameters
    ----------
    gain_db : float
        Fader level, dB (-60..24).
    pan : float
        Stereo position, -1 (hard left) .. 1 (hard right), equal-power law: a mono stem at the
        centre keeps its level in both channels; hard left puts it all in the left channel,
        3 dB louder, so the power stays the same.
    width : float
        Stereo width of the stem before panning, 0 (mono) .. 1 (as rendered) .. 2 (wider): the
        side signal (L - R) / 2 is scaled by it.
    highpass_hz : float
        Cutoff (-3 dB) of a 12 dB/octave Butterworth high-pass, Hz (0 = off). (pedalboard's
        own HighpassFilter is first-order, 6 dB/octave: too gentle for a low cut.)
    low_shelf_hz, low_shelf_db : float
        Low-shelf corner (Hz) and gain (dB).
    presence_hz, presence_db, presence_q : float
        A peak filter's centre (Hz), gain (dB) and Q: the "presence" lift of a lead.
    high_shelf_hz, high_shelf_db : float
        High-shelf corner (Hz) and gain (dB).
    comp_threshold_db, comp_ratio, comp_attack_ms, comp_release_ms : float
        Compressor threshold (dBFS), ratio (1 = off), attack and release (ms).
    reverb_send : float
        Post-fader send to the shared reverb bus, linear 0..1.
    """

    gain_db: float = 0.0
    pan: float = 0.0
    width: float = 1.0
    highpass_hz: float = 0.0
    low_shelf_hz: float = 200.0
    low_shelf_db: float = 0.0
    presence_hz: float = 3000.0
    presence_db: float = 0.0
    presence_q: float = 1.0
    high_shelf_hz: float = 8000.0
    high_shelf_db: float = 0.0
    comp_threshold_db: float = 0.0
    comp_ratio: float = 1.0
    comp_attack_ms: float = 10.0
    comp_release_ms: float = 150.0
    reverb_send: float = 0.0

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("gain_db", -60, 24), ("pan", -1, 1), ("width", 0, 2), ("highpass_hz", 0, 2000),
            ("low_shelf_hz", 20, 2000), ("low_shelf_db", -24, 24), ("presence_hz", 100, 16000),
            ("presence_db", -24, 24), ("presence_q", 0.1, 10), ("high_shelf_hz", 1000, 20000),
            ("high_shelf_db", -24, 24), ("comp_threshold_db", -60, 0), ("comp_ratio", 1, 50),
            ("comp_attack_ms", 0.1, 500), ("comp_release_ms", 1, 5000), ("reverb_send", 0, 1),
        ):
            _check_number(self, name, lo, hi)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON/TOML-ready dict with a ``version`` stamp."""
        return {"version": _SETTINGS_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MixSettings:
        """Settings from :meth:`to_dict`'s form; an unknown key is a ParameterError naming it."""
        return _from_dict(cls, data)

    def highpass_sos(self, sr: int) -> np.ndarray | None:
        """The high-pass as float32 second-order sections (2nd-order Butterworth), or None."""
        if self.highpass_hz <= 0:
            return None
        from scipy.signal import butter

        hz = min(self.highpass_hz, 0.45 * sr)
        return np.asarray(butter(2, hz, "highpass", fs=sr, output="sos"), dtype=np.float32)

    def board(self) -> Any:
        """The strip's pedalboard chain after the high-pass: shelves, presence, compressor.

        The high-pass (:meth:`highpass_sos`) runs before it; the fader, width and pan are one
        matrix after it (:func:`placement_matrix`)."""
        import pedalboard as pb

        chain: list[Any] = []
        if self.low_shelf_db != 0:
            chain.append(pb.LowShelfFilter(cutoff_frequency_hz=self.low_shelf_hz,
                                           gain_db=self.low_shelf_db))
        if self.presence_db != 0:
            chain.append(pb.PeakFilter(cutoff_frequency_hz=self.presence_hz,
                                       gain_db=self.presence_db, q=self.presence_q))
        if self.high_shelf_db != 0:
            chain.append(pb.HighShelfFilter(cutoff_frequency_hz=self.high_shelf_hz,
                                            gain_db=self.high_shelf_db))
        if self.comp_ratio > 1:
            chain.append(pb.Compressor(threshold_db=self.comp_threshold_db, ratio=self.comp_ratio,
                                       attack_ms=self.comp_attack_ms,
                                       release_ms=self.comp_release_ms))
        return pb.Pedalboard(chain)


@dataclass(frozen=True)
class BusSettings:
    """The shared reverb and the mix bus.

    Parameters
    ----------
    reverb_room_size, reverb_damping, reverb_width : float
        Freeverb room size, high-frequency damping and stereo width, 0..1.
    reverb_predelay_ms : float
        Delay before the reverb, ms (0..200).
    reverb_highpass_hz, reverb_lowpass_hz : float
        Band-pass on the reverb input, Hz.
    reverb_return_db : float
        Level of the reverb return, dB.
    comp_threshold_db, comp_ratio, comp_attack_ms, comp_release_ms : float
        The bus compressor (ratio 1 = off).
    fade_out_s : float
        Raised-cosine fade over the last seconds of the mix, so a cut reverb tail cannot
        click (0..10).
    """

    reverb_room_size: float = 0.55
    reverb_damping: float = 0.5
    reverb_width: float = 1.0
    reverb_predelay_ms: float = 20.0
    reverb_highpass_hz: float = 250.0
    reverb_lowpass_hz: float = 9000.0
    reverb_return_db: float = -6.0
    comp_threshold_db: float = -14.0
    comp_ratio: float = 2.0
    comp_attack_ms: float = 30.0
    comp_release_ms: float = 250.0
    fade_out_s: float = 0.05

    def __post_init__(self) -> None:
        for name, lo, hi in (
            ("reverb_room_size", 0, 1), ("reverb_damping", 0, 1), ("reverb_width", 0, 1),
            ("reverb_predelay_ms", 0, 200), ("reverb_highpass_hz", 20, 2000),
            ("reverb_lowpass_hz", 1000, 20000), ("reverb_return_db", -60, 12),
            ("comp_threshold_db", -60, 0), ("comp_ratio", 1, 50), ("comp_attack_ms", 0.1, 500),
            ("comp_release_ms", 1, 5000), ("fade_out_s", 0, 10),
        ):
            _check_number(self, name, lo, hi)

    def to_dict(self) -> dict[str, Any]:
        return {"version": _SETTINGS_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusSettings:
        return _from_dict(cls, data)


_LEAD = MixSettings(highpass_hz=90, presence_hz=3000, presence_db=2.5, comp_threshold_db=-22,
                    comp_ratio=3.0, comp_attack_ms=8, comp_release_ms=120, reverb_send=0.25)
_CHORDS = MixSettings(gain_db=-3.0, width=1.1, highpass_hz=100, low_shelf_hz=250,
                      low_shelf_db=-1.5, comp_threshold_db=-22, comp_ratio=2.0,
                      comp_attack_ms=15, comp_release_ms=200, reverb_send=0.18)
_WIDE = MixSettings(gain_db=-4.0, width=1.4, highpass_hz=150, reverb_send=0.35)

#: Default channel strip per :data:`yuefu.core.score.ROLES` entry. Each EQ band or compressor
#: costs about 2 ms per second of stereo audio, so a strip has only the moves its role needs.
ROLE_MIX: dict[str, MixSettings] = {
    # the voice: full strip, clear presence, firm compression, the most reverb of the leads
    "vocal": MixSettings(gain_db=1.0, highpass_hz=80, low_shelf_hz=250, low_shelf_db=-2.0,
                         presence_hz=3000, presence_db=3.0, high_shelf_hz=10000,
                         high_shelf_db=1.5, comp_threshold_db=-24, comp_ratio=3.0,
                         comp_attack_ms=5, comp_release_ms=100, reverb_send=0.3),
    "melody": _LEAD,
    "lead": _LEAD,
    "counter": replace(_LEAD, gain_db=-5.0, highpass_hz=100, presence_hz=2500, presence_db=1.0,
                       comp_ratio=2.5, reverb_send=0.22),
    "chords": _CHORDS,
    "accompaniment": _CHORDS,
    # bass: rumble cut, even level, dry, nearly mono in the centre
    "bass": MixSettings(gain_db=-1.0, width=0.2, highpass_hz=30, comp_threshold_db=-20,
                        comp_ratio=4.0, comp_attack_ms=10, comp_release_ms=150),
    # drums: the compressor's 15 ms attack lets the hits through before it acts (punch)
    "drums": MixSettings(gain_db=1.0, highpass_hz=30, low_shelf_hz=80, low_shelf_db=1.5,
                         presence_hz=4000, presence_db=1.5, comp_threshold_db=-14,
                         comp_ratio=4.0, comp_attack_ms=15, comp_release_ms=120,
                         reverb_send=0.08),
    # pads and strings: low cut, wide, more reverb, no compression
    "pad": _WIDE,
    "strings": replace(_WIDE, gain_db=-5.0, width=1.3, highpass_hz=120),
    "fx": replace(_WIDE, gain_db=-6.0, width=1.2, highpass_hz=100, reverb_send=0.3),
    "other": MixSettings(gain_db=-3.0, highpass_hz=40, reverb_send=0.15),
}
assert set(ROLE_MIX) == set(ROLES)


def default_mix_settings(track: Track | None, **overrides: float) -> MixSettings:
    """The channel strip for a track: its role's defaults, then its own gain and pan.

    Parameters
    ----------
    track : Track or None
        ``track.gain_db`` is added to the role's fader level and ``track.pan`` sets the pan.
        None (a stem that belongs to no track, e.g. a recorded vocal) gets role ``"other"``.
    **overrides
        Fields of :class:`MixSettings` to set last (e.g. ``reverb_send=0``).

    Returns
    -------
    MixSettings
    """
    base = ROLE_MIX["other"] if track is None else ROLE_MIX.get(track.role, ROLE_MIX["other"])
    if track is not None:
        base = replace(base, gain_db=max(-60.0, min(24.0, base.gain_db + track.gain_db)),
                       pan=track.pan)
    if overrides:
        unknown = sorted(set(overrides) - {f.name for f in fields(MixSettings)})
        if unknown:
            raise ParameterError(f"unknown MixSettings field {unknown[0]!r}")
        base = replace(base, **overrides)
    return base


# -- mixing -----------------------------------------------------------------------------------

def _pan_gains(pan: float) -> tuple[float, float, float]:
    """Equal-power gains of the mid signal (left, right) and of the side signal."""
    theta = (pan + 1.0) * math.pi / 4.0
    return math.sqrt(2.0) * math.cos(theta), math.sqrt(2.0) * math.sin(theta), 1.0 - abs(pan)


def placement_matrix(settings: MixSettings, channels: int = 2) -> np.ndarray:
    """The fader, width and pan of a strip as one matrix: ``out = matrix @ block``.

    With mid ``M = (L + R) / 2`` and side ``S = width * (L - R) / 2``, the output is
    ``L' = gl * M + (1 - |pan|) * S`` and ``R' = gr * M - (1 - |pan|) * S`` where
    ``gl = sqrt(2) cos(t)``, ``gr = sqrt(2) sin(t)``, ``t = (pan + 1) pi / 4`` (equal power:
    unity at the centre, +3 dB and silence on the far side at a hard pan), all scaled by the
    fader ``10 ** (gain_db / 20)``.

    Parameters
    ----------
    settings : MixSettings
    channels : int
        1 (a mono stem: ``M = x``) or 2.

    Returns
    -------
    np.ndarray [shape=(2, channels), dtype=float32]

    >>> [[round(float(v), 3) for v in row] for row in placement_matrix(MixSettings(pan=-1.0), 1)]
    [[1.414], [0.0]]
    """
    gl, gr, gs = _pan_gains(settings.pan)
    g = 10.0 ** (settings.gain_db / 20.0)
    if channels == 1:
        return np.array([[g * gl], [g * gr]], dtype=np.float32)
    w = 0.5 * settings.width * gs
    m = [[0.5 * gl + w, 0.5 * gl - w], [0.5 * gr - w, 0.5 * gr + w]]
    return (g * np.array(m, dtype=np.float64)).astype(np.float32)


_SILENT = 1e-9  # a strip's output below this (-180 dBFS) counts as silence
# blocks of the mix that takes its stems straight from FluidSynth: the synthesiser's memory
# (SoundFont, note cache) is held at the same time, so the mixer's buffers stay small
_STREAM_BLOCK_S = 2.0


@dataclass
class _Stem:
    name: str
    channels: int
    settings: MixSettings
    board: Any
    sos: np.ndarray | None  # the high-pass
    zi: np.ndarray | None  # its state, carried from block to block
    quiet: bool = True  # the last block processed came out as exact silence

    @classmethod
    def make(cls, name: str, channels: int, settings: MixSettings | None, sr: int) -> _Stem:
        s = settings or default_mix_settings(None)
        if not isinstance(s, MixSettings):
            raise ParameterError(f"settings[{name!r}] must be a MixSettings, got {type(s).__name__}")
        sos = s.highpass_sos(sr)
        zi = None if sos is None else np.zeros((sos.shape[0], channels, 2), dtype=np.float32)
        return cls(name, channels, s, s.board(), sos, zi)

    def process(self, x: np.ndarray, sr: int) -> np.ndarray:
        """High-pass then the pedalboard chain, state kept for the next block.

        A silent block that follows a block whose output stayed below -180 dBFS is returned
        as it is: every filter's state has died away, so processing it would give at most
        ~1e-9 of ringing (far below the 24-bit floor of the master), and a compressor passes
        silence unchanged. Arranged songs have many such blocks (intros, breaks, an instrument
        that only plays the chorus)."""
        if self.quiet and not x.any():
            return x
        if self.sos is not None:
            from scipy.signal import sosfilt

            x, self.zi = sosfilt(self.sos, x, axis=1, zi=self.zi)
        if len(self.board):
            x = self.board(x, sr, reset=False)
        self.quiet = float(np.max(np.abs(x), initial=0.0)) < _SILENT
        return x


class _FileStems:
    """Stems read from their files, block by block; a stem past its end reads as silence."""

    def __init__(self, stems: Mapping[str, str | os.PathLike[str]], sr: int,
                 stack: contextlib.ExitStack) -> None:
        import soundfile as sf

        self.files: list[tuple[Any, int, int]] = []  # (SoundFile, frames, channels)
        self.channels: dict[str, int] = {}
        for name, path in stems.items():
            p = Path(path)
            if not p.is_file():
                raise ParameterError(f"stem {name!r}: {p} does not exist or is not a file")
            try:
                f = stack.enter_context(sf.SoundFile(str(p)))
            except (sf.LibsndfileError, RuntimeError) as e:
                raise AudioLoadError(f"stem {name!r}: cannot read {p} ({e})") from None
            if f.samplerate != sr:
                raise ParameterError(
                    f"stem {name!r} ({p}) is at {f.samplerate} Hz but the mix is at {sr} Hz; "
                    "resample it first or pass sr= (nothing is resampled silently)")
            if f.channels not in (1, 2):
                raise ParameterError(
                    f"stem {name!r} ({p}) has {f.channels} channels; stems must be mono or "
                    "stereo")
            self.files.append((f, int(f.frames), int(f.channels)))
            self.channels[name] = int(f.channels)
        self.frames = max(n for _, n, _ in self.files)

    def read(self, x: np.ndarray, pos: int, n: int) -> None:
        """Fill ``x[:, :n]`` (zeroed by the caller) with frames ``pos .. pos + n``."""
        r = 0
        for f, frames, ch in self.files:
            if pos < frames:
                y = f.read(min(n, frames - pos), dtype="float32", always_2d=True)
                x[r:r + ch, :y.shape[0]] = y.T
            r += ch


class _StreamedStems:
    """Stems as :func:`~yuefu.render.fluidsynth.stream_stems` synthesises them (stereo)."""

    def __init__(self, names: Sequence[str], frames: int, blocks: Iterator[np.ndarray]) -> None:
        self.channels = {name: 2 for name in names}
        self.frames = frames
        self._blocks = blocks
        self._pending: np.ndarray | None = None
        self._used = 0

    def read(self, x: np.ndarray, pos: int, n: int) -> None:
        got = 0
        while got < n:
            if self._pending is None or self._used == self._pending.shape[1]:
                self._pending = next(self._blocks, None)
                self._used = 0
                if self._pending is None:
                    raise YuefuError(f"the renderer stopped at frame {pos + got} of "
                                     f"{self.frames}")
            m = min(n - got, self._pending.shape[1] - self._used)
            x[:, got:got + m] = self._pending[:, self._used:self._used + m]
            self._used += m
            got += m


class _Predelay:
    """A pure delay of ``n`` samples that carries its tail from block to block."""

    def __init__(self, n: int, channels: int = 2) -> None:
        self.tail = np.zeros((channels, n), dtype=np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = self.tail.shape[1]
        if n == 0:
            return x
        y = np.concatenate([self.tail, x], axis=1)
        self.tail = y[:, -n:].copy()
        return y[:, :-n]


def mix_stems(
    stems: Mapping[str, str | os.PathLike[str]],
    settings: Mapping[str, MixSettings] | None,
    dest: str | os.PathLike[str],
    *,
    sr: int = 44100,
    bus: BusSettings | None = None,
    block_s: float = 10.0,
    progress: ProgressCallback | None = None,
    force: bool = False,
) -> Path:
    """Mix stems into one stereo float32 WAV premix, streaming block by block.

    Parameters
    ----------
    stems : mapping of str to path
        Stem name -> audio file (WAV/FLAC/AIFF/OGG; mono or stereo) at ``sr`` Hz. Stems of
        different lengths are padded with silence to the longest.
    settings : mapping of str to MixSettings, or None
        Channel strip per stem name; a stem without an entry gets
        ``default_mix_settings(None)``. A name that is not a stem is a ParameterError (a typo).
    dest : path
        The premix, a ``.wav`` file (32-bit float, written atomically).
    sr : int
        Sample rate of the stems and the mix, Hz. A stem at another rate is refused.
    bus : BusSettings, optional
        The shared reverb and the bus compressor; defaults to ``BusSettings()``.
    block_s : float
        Seconds processed at a time (0.1..120); memory is about ``block_s * sr * 8`` bytes per
        stem.
    progress : callable, optional
        ``progress(fraction, message)``, fraction 0..1.
    force : bool
        Overwrite ``dest`` if it exists.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    ParameterError
        No stems, a missing stem file, a wrong sample rate or channel count, unknown settings
        names, a destination that is not .wav.
    AudioLoadError
        A stem cannot be decoded.
    OutputExistsError
        ``dest`` exists and not ``force``.

    Examples
    --------
    >>> out = mix_stems({"flute": "stems/flute.wav"},                     # doctest: +SKIP
    ...                 {"flute": MixSettings(pan=-0.5, reverb_send=0.3)}, "premix.wav")
    """
    if not stems:
        raise ParameterError("mix_stems needs at least one stem")
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(stems))
    if unknown:
        raise ParameterError(
            f"settings for {unknown[0]!r}, which is not one of the stems ({', '.join(stems)})")
    sr = _check_mix_args(sr, block_s)
    dest_p = _check_premix(dest, force)
    with contextlib.ExitStack() as stack:
        source = _FileStems(stems, sr, stack)
        _mix(source, settings, dest_p, sr=sr, bus=bus, block_s=block_s, progress=progress,
             force=force)
    return dest_p


def _check_mix_args(sr: object, block_s: object) -> int:
    if not (isinstance(sr, int | np.integer) and 1000 <= int(sr) <= 768000):
        raise ParameterError(f"sr must be an integer sample rate in Hz, got {sr!r}")
    if not (isinstance(block_s, int | float) and 0.1 <= block_s <= 120):
        raise ParameterError(f"block_s must be 0.1..120 seconds, got {block_s!r}")
    return int(sr)


def _check_premix(dest: str | os.PathLike[str], force: bool) -> Path:
    dest_p = check_output(Path(dest), force=force)
    if dest_p.suffix.lower() != ".wav":
        raise ParameterError(f"{dest_p}: the premix is written as float WAV; name it .wav")
    return dest_p


def _mix(source: _FileStems | _StreamedStems, settings: Mapping[str, MixSettings],
         dest_p: Path, *, sr: int, bus: BusSettings | None, block_s: float,
         progress: ProgressCallback | None, force: bool) -> float:
    """The mixing loop of :func:`mix_stems`, over stems from files or from the renderer.

    Returns the seconds spent reading the stems (for streamed stems: synthesising them)."""
    import pedalboard as pb

    bus = bus or BusSettings()
    block = max(256, int(round(block_s * sr)))
    strips = [_Stem.make(name, ch, settings.get(name), sr) for name, ch in source.channels.items()]
    n_total = source.frames
    if n_total == 0:
        raise ParameterError("every stem is empty (0 frames); nothing to mix")
    # one matrix maps every strip's channels to the dry bus (rows 0-1) and the reverb
    # send (rows 2-3): width, pan, fader-post send in a single BLAS call per block
    rows = sum(s.channels for s in strips)
    route = np.zeros((4, rows), dtype=np.float32)
    r = 0
    for st in strips:
        m = placement_matrix(st.settings, st.channels)
        route[0:2, r:r + st.channels] = m
        route[2:4, r:r + st.channels] = st.settings.reverb_send * m
        r += st.channels
    use_reverb = bool(np.any(route[2:4]))
    reverb = pb.Pedalboard([
        pb.HighpassFilter(cutoff_frequency_hz=bus.reverb_highpass_hz),
        pb.LowpassFilter(cutoff_frequency_hz=bus.reverb_lowpass_hz),
        pb.Reverb(room_size=bus.reverb_room_size, damping=bus.reverb_damping,
                  wet_level=1.0, dry_level=0.0, width=bus.reverb_width),
        *([pb.Gain(gain_db=bus.reverb_return_db)] if bus.reverb_return_db else []),
    ])
    predelay = _Predelay(int(round(bus.reverb_predelay_ms * sr / 1000.0)))
    master_bus = pb.Pedalboard(
        [pb.Compressor(threshold_db=bus.comp_threshold_db, ratio=bus.comp_ratio,
                       attack_ms=bus.comp_attack_ms, release_ms=bus.comp_release_ms)]
        if bus.comp_ratio > 1 else [])
    n_fade = min(n_total, int(round(bus.fade_out_s * sr)))
    fade = (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n_fade))).astype(np.float32)

    with atomic_output(dest_p, force=force) as tmp, FloatWavWriter(tmp, sr=sr, channels=2) as out:
        pos = 0
        read_s = 0.0
        while pos < n_total:
            n = min(block, n_total - pos)
            # pedalboard guesses the channel axis from the shape: keep blocks long
            n_proc = max(n, 256)
            x = np.zeros((rows, n_proc), dtype=np.float32)
            t0 = time.perf_counter()
            source.read(x, pos, n)
            read_s += time.perf_counter() - t0
            r = 0
            for st in strips:  # a stem past its end keeps its filters' tails going
                ch = st.channels
                x[r:r + ch] = st.process(x[r:r + ch], sr)
                r += ch
            buses = route @ x
            mix = buses[0:2]
            if use_reverb:
                mix += reverb(predelay(buses[2:4]), sr, reset=False)
            y = master_bus(mix, sr, reset=False) if len(master_bus) else mix
            y = y[:, :n]
            if n_fade and pos + n > n_total - n_fade:
                a = max(pos, n_total - n_fade)
                y[:, a - pos:] *= fade[a - (n_total - n_fade):]
            out.write(y)
            pos += n
            if progress is not None:
                progress(pos / n_total, "mixing")
    return read_s


# -- the whole render -------------------------------------------------------------------------

@dataclass
class RenderResult:
    """What :func:`render_score` made.

    Attributes
    ----------
    path : Path
        The mastered song.
    stems : dict of str to Path or None
        Track name -> stem file; the paths are None when no ``stems_dir`` was given (the stems
        lived in a temporary folder, now removed).
    loudness : LoudnessReport
        The mastered song's loudness and true peak, measured on the written file.
    timings : dict of str to float
        Wall seconds: ``render_s`` (FluidSynth), ``mix_s``, ``master_s``, ``total_s``. When
        the mixer takes the stems straight from FluidSynth (``jobs=1``), ``render_s`` is the
        time spent synthesising (and writing kept stems) and ``mix_s`` the rest of that pass.
    """

    path: Path
    stems: dict[str, Path | None]
    loudness: LoudnessReport
    timings: dict[str, float] = field(default_factory=dict)


def render_score(
    score: Score,
    dest: str | os.PathLike[str],
    *,
    soundfont: str | os.PathLike[str] | None = None,
    stems_dir: str | os.PathLike[str] | None = None,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    mix_settings: Mapping[str, MixSettings] | None = None,
    bus: BusSettings | None = None,
    sr: int = 44100,
    tail_s: float = 2.0,
    force: bool = False,
    progress: ProgressCallback | None = None,
    jobs: int = 1,
) -> RenderResult:
    """Render a score to a mastered song: FluidSynth stems -> mix -> master.

    Parameters
    ----------
    score : Score
    dest : path
        The song: ``.wav`` (24-bit), ``.flac``, ``.ogg`` or ``.mp3``, at ``sr`` Hz, stereo.
    soundfont : path, optional
        A ``.sf2`` SoundFont; default the General MIDI FluidR3 (see
        :func:`~yuefu.render.fluidsynth.render_stems`).
    stems_dir : path, optional
        Keep the stems there (``<stems_dir>/<track>.wav``); default: a temporary folder beside
        ``dest``, removed afterwards.
    target_lufs : float
        Integrated loudness of the song, LUFS (-40..-5).
    ceiling_dbtp : float
        True-peak ceiling, dBTP (-6..0).
    mix_settings : mapping of str to MixSettings, optional
        Channel strips by track name; tracks not named get :func:`default_mix_settings`.
    bus : BusSettings, optional
        Shared reverb and bus compressor.
    sr : int
        Sample rate of stems, mix and song, Hz.
    tail_s : float
        Seconds rendered after the last note.
    force : bool
        Overwrite ``dest`` (and existing stems in ``stems_dir``).
    progress : callable, optional
        ``progress(fraction, message)`` over the whole render, fraction 0..1.
    jobs : int
        Processes for the FluidSynth stage.

    Returns
    -------
    RenderResult

    Raises
    ------
    OutputExistsError
        ``dest`` (or a stem) exists and not ``force``; raised before any work.
    ParameterError, MissingDependencyError, YuefuError
        As :func:`~yuefu.render.fluidsynth.render_stems`, :func:`mix_stems` and
        :func:`~yuefu.render.master.master_file` raise them. On any failure ``dest`` is left
        as it was and no stem is half-written.

    Examples
    --------
    >>> from yuefu.core.score import Note, Score, Track
    >>> s = Score()
    >>> s.add_track(Track("flute", program=73, role="melody")).notes.append(Note(69, 0, 4))
    >>> res = render_score(s, "song.flac", target_lufs=-16.0)   # doctest: +SKIP
    >>> round(res.loudness.integrated_lufs)                     # doctest: +SKIP
    -16
    """
    from yuefu.core.io.audio import check_audio_output
    from yuefu.render.fluidsynth import render_stems, single_pass, stream_stems
    from yuefu.render.master import MasterSettings, master_file

    t_start = time.perf_counter()
    dest_p = check_output(Path(dest), force=force)
    master_settings = MasterSettings(target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
    check_audio_output(dest_p, sr=sr, channels=2)
    if not isinstance(score, Score):
        raise ParameterError(f"render_score needs a Score, got {type(score).__name__}")
    names = {t.name for t in score.tracks}
    unknown = sorted(set(mix_settings or {}) - names)
    if unknown:
        raise ParameterError(f"mix_settings for {unknown[0]!r}, which is not a track of the score")
    settings = {t.name: (mix_settings or {}).get(t.name) or default_mix_settings(t)
                for t in score.tracks}

    def stage(lo: float, hi: float) -> ProgressCallback | None:
        if progress is None:
            return None
        report = progress

        def scaled(fraction: float, message: str = "") -> None:
            report(lo + (hi - lo) * fraction, message)

        return scaled

    dest_p.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest_p.name}.", suffix=".render", dir=dest_p.parent))
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        premix = work / "premix.wav"
        if jobs == 1 and single_pass(score):
            # one pass: the mixer takes the stems as FluidSynth makes them (written only
            # when they are to be kept), so render and mix share one timing
            stem_paths: dict[str, Path | None]
            with stream_stems(score, stems_dir, soundfont=soundfont, sr=sr, tail_s=tail_s,
                              force=force, progress=stage(0.0, 0.85)) as (stem_paths, n, blocks):
                synth_s = _mix(_StreamedStems(list(stem_paths), n, blocks), settings, premix,
                               sr=_check_mix_args(sr, _STREAM_BLOCK_S), bus=bus,
                               block_s=_STREAM_BLOCK_S, progress=None, force=True)
            t2 = time.perf_counter()
            t1 = t0 + synth_s
        else:
            files = render_stems(score, stems_dir if stems_dir is not None else work / "stems",
                                 soundfont=soundfont, sr=sr, tail_s=tail_s, jobs=jobs,
                                 force=force, progress=stage(0.0, 0.7))
            stem_paths = dict(files)
            t1 = time.perf_counter()
            mix_stems(files, settings, premix, sr=sr, bus=bus, progress=stage(0.7, 0.85),
                      force=True)
            t2 = time.perf_counter()
        report = master_file(premix, dest_p, settings=master_settings, force=force,
                             progress=stage(0.85, 1.0))
        t3 = time.perf_counter()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    timings = {"render_s": t1 - t0, "mix_s": t2 - t1, "master_s": t3 - t2,
               "total_s": time.perf_counter() - t_start}
    kept: dict[str, Path | None] = {
        k: (v if stems_dir is not None else None) for k, v in stem_paths.items()}
    return RenderResult(path=dest_p, stems=kept, loudness=report, timings=timings)

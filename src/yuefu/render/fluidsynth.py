"""Score -> one stereo stem per track, synthesised by FluidSynth from a SoundFont.

How it works, and why
---------------------
Every track gets its own MIDI channel *and its own audio group* in one FluidSynth synthesiser
(``synth.audio-groups``), driven through ``libfluidsynth`` (the library that the ``fluidsynth``
program is a thin shell over, loaded with :mod:`ctypes`). Each call to ``fluid_synth_process``
fills one stereo buffer per group, so a single pass over the piece writes every stem at once,
and the SoundFont is loaded once. Note-ons and note-offs are scheduled from the score's tempo
map at sample positions rounded to FluidSynth's 64-sample block (+-0.7 ms at 44.1 kHz; its
own MIDI player also applies events only at block boundaries). Reverb and chorus are off (the
mixer adds one shared reverb), the output is 32-bit float (nothing clips at render time), and
every stem is rendered to exactly ``score.duration_s + tail_s`` seconds, so release tails
ring for ``tail_s`` seconds after the last note-off instead of stopping where a MIDI player
stops.

Alternatives measured (the 3-minute, 8-track, 6,253-note song of ``benchmarks/render.py``;
2-core AMD EPYC, FluidSynth 2.3.1, FluidR3_GM; float output, no reverb/chorus):

=====================================================================  ==========
one ``fluidsynth -F`` run of the whole MIDI (one mixed WAV, no stems)      6.0 s
one ``fluidsynth -F`` process per track (``midi_bytes`` of each track)     8.3 s
libfluidsynth, one pass, one audio group per track, every note live       6.2 s
the same with the note cache (the default): 108 notes rendered, 4,878 reused  2.1 s
=====================================================================  ==========

The note cache (:class:`_NoteCache`) renders each distinct note (instrument, key, velocity,
length) once, alone, and adds copies of its samples where it recurs; tracks whose SoundFont
notes cut each other (exclusive classes: hi-hats) are rendered live. The stems equal a live
render except in the first 64-sample block of a note (see :class:`_NoteCache`).

* per-track CLI processes load the 148 MB SoundFont once per track (~0.3 s each) and each
  renders ~2 s past its own last event, so stems also need padding or trimming to one length;
* one CLI run with ``-o synth.audio-groups=16`` is no way out: the CLI's file renderer writes
  only the stereo sum of all groups;
* the library pass costs what one CLI run of the whole song costs (the time is FluidSynth's
  voices, not Python: ~12k ``noteon``/``noteoff`` calls and ~500 ``fluid_synth_process`` calls
  for 3 minutes), writes exact-length stems and needs no temporary MIDI files. With
  ``jobs > 1`` the tracks are split into groups of similar cost, one process each (each loads
  the SoundFont once).

The price of running FluidSynth in-process: a SoundFont that crashes FluidSynth's loader would
take the calling process with it (the header and the RIFF size are checked first, and a file
FluidSynth rejects is a clean :class:`~yuefu.core.errors.ParameterError`); with ``jobs > 1`` a
crash is reported as a :class:`~yuefu.core.errors.YuefuError`.

The synthesis cost is the number of sounding voices: a dense arrangement keeps 50-100 voices
busy, and long-release instruments (FluidR3's harp playing 16th notes keeps ~130 voices
alive) dominate. All tracks share one synthesiser per process, so they share its polyphony
(256 voices) exactly as a General MIDI player would.

Empty tracks get a silent stem, so every track of the score has its stem (the mixer and the
pipeline can rely on ``stems/<track>.wav`` existing).

>>> from yuefu.core.score import Note, Score, Track
>>> import tempfile
>>> s = Score()
>>> s.add_track(Track("flute", program=73, role="melody")).notes.append(Note(69, 0.0, 1.0))
>>> stems = render_stems(s, tempfile.mkdtemp(), tail_s=0.5)   # doctest: +SKIP
>>> sorted(stems)                                              # doctest: +SKIP
['flute']
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yuefu.core.errors import (
    MissingDependencyError,
    OutputExistsError,
    ParameterError,
    YuefuError,
)
from yuefu.core.io.wav import FloatWavWriter
from yuefu.core.score import Score

__all__ = [
    "DEFAULT_SOUNDFONTS",
    "FLUIDSYNTH_INSTALL",
    "SYNTH_GAIN",
    "render_stems",
    "single_pass",
    "stem_filename",
    "stream_stems",
    "find_soundfont",
]

log = logging.getLogger(__name__)

#: Where :func:`find_soundfont` looks for a General MIDI SoundFont, in order.
DEFAULT_SOUNDFONTS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian, Ubuntu: fluid-soundfont-gm
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),  # Fedora, Arch
    Path("/usr/share/soundfonts/default.sf2"),
)
#: The command that installs FluidSynth and the General MIDI SoundFont on Debian/Ubuntu.
FLUIDSYNTH_INSTALL = "apt-get install fluidsynth fluid-soundfont-gm"
#: FluidSynth's master gain for stems. Its default of 0.2 leaves room for 16 channels summed
#: into 16-bit samples; stems are float and one track each, so they are rendered 14 dB hotter:
#: with FluidR3, one velocity-100 note peaks at about -13 dBFS (piano), -12 (flute), -10 (bass),
#: a kick or snare hit at -11 to -7 dBFS; a dense stem peaks 5-10 dB higher.
SYNTH_GAIN = 1.0

_MAX_GROUPS = 128  # FluidSynth's limit on synth.audio-groups
_BLOCK = 64  # FluidSynth's internal block (FLUID_BUFSIZE): events apply at its boundaries
_CHUNK_FRAMES = 256 * _BLOCK  # frames buffered per stem before a file write
_LIB_NAMES = ("fluidsynth", "libfluidsynth.so.3", "libfluidsynth.so.2", "libfluidsynth.3.dylib",
              "libfluidsynth.dylib", "libfluidsynth-3.dll", "fluidsynth.dll")

ProgressCallback = Callable[[float, str], None]


# -- names and soundfonts ---------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def stem_filename(name: str) -> str:
    """The file name of a track's stem: ``<name>.wav`` with unsafe characters replaced.

    Path separators, control characters and the characters that Windows forbids
    (``<>:"/\\|?*``) become ``_``; leading and trailing dots and spaces are dropped; other
    Unicode (Chinese track names) is kept.

    >>> stem_filename("lead/vocal: 1")
    'lead_vocal_ 1.wav'
    >>> stem_filename("..")
    'track.wav'
    """
    safe = _UNSAFE.sub("_", str(name)).strip(" .")[:120]
    return f"{safe or 'track'}.wav"


def find_soundfont() -> Path:
    """The first General MIDI SoundFont of :data:`DEFAULT_SOUNDFONTS` that exists.

    Raises
    ------
    MissingDependencyError
        None is installed; the message names ``apt-get install fluid-soundfont-gm``.
    """
    for p in DEFAULT_SOUNDFONTS:
        if p.is_file():
            return p
    raise MissingDependencyError(
        "no General MIDI SoundFont found (looked for "
        + ", ".join(str(p) for p in DEFAULT_SOUNDFONTS)
        + "); install one with `apt-get install fluid-soundfont-gm` or pass soundfont=<file.sf2>"
    )


def _check_soundfont(soundfont: str | os.PathLike[str] | None) -> Path:
    if soundfont is None:
        return find_soundfont()
    p = Path(soundfont)
    if not p.exists():
        raise ParameterError(f"soundfont {p}: no such file; give the path of a .sf2 SoundFont")
    if p.is_dir():
        raise ParameterError(f"soundfont {p} is a folder; give the path of a .sf2 SoundFont")
    try:
        with open(p, "rb") as f:
            head = f.read(12)
    except OSError as e:
        raise ParameterError(f"soundfont {p} cannot be read ({e.strerror or e})") from None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] not in (b"sfbk", b"DLS "):
        raise ParameterError(
            f"soundfont {p} is not a SoundFont (no RIFF 'sfbk' header); give a .sf2 or .sf3 file")
    declared, actual = 8 + int.from_bytes(head[4:8], "little"), p.stat().st_size
    if declared > actual:
        raise ParameterError(
            f"soundfont {p} is truncated: its header says {declared} bytes, the file has "
            f"{actual}; copy or download it again")
    return p


# -- libfluidsynth ----------------------------------------------------------------------------

_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_lib_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_messages: list[tuple[int, str]] = []


def _on_log(level: int, message: bytes | None, _data: object) -> None:
    text = (message or b"").decode("utf-8", "replace").strip()
    _messages.append((level, text))
    del _messages[:-50]
    if level <= 2:  # FLUID_PANIC, FLUID_ERR, FLUID_WARN
        log.debug("fluidsynth: %s", text)


_log_callback = _LOG_FN(_on_log)  # kept alive for the life of the process


def _load_lib() -> ctypes.CDLL:
    """Load libfluidsynth once, declare the functions used and route its log to ``logging``."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = None
        tried = []
        for name in _LIB_NAMES:
            path = ctypes.util.find_library(name) if name == "fluidsynth" else name
            if not path:
                continue
            tried.append(path)
            try:
                lib = ctypes.CDLL(path)
                break
            except OSError:
                continue
        if lib is None or not hasattr(lib, "fluid_synth_process"):
            raise MissingDependencyError(
                "FluidSynth 2 is not installed (libfluidsynth not found"
                + (f"; tried {', '.join(tried)}" if tried else "")
                + f"); install it with `{FLUIDSYNTH_INSTALL}` (macOS: `brew install fluid-synth`)"
            )
        vp, ip, cp, dp = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_double
        sigs: dict[str, tuple[object, list[object]]] = {
            "new_fluid_settings": (vp, []),
            "delete_fluid_settings": (None, [vp]),
            "fluid_settings_setint": (ip, [vp, cp, ip]),
            "fluid_settings_setnum": (ip, [vp, cp, dp]),
            "new_fluid_synth": (vp, [vp]),
            "delete_fluid_synth": (None, [vp]),
            "fluid_synth_sfload": (ip, [vp, cp, ip]),
            "fluid_synth_get_sfont_by_id": (vp, [vp, ip]),
            "fluid_synth_add_sfont": (ip, [vp, vp]),
            "fluid_synth_remove_sfont": (ip, [vp, vp]),
            "fluid_synth_set_channel_type": (ip, [vp, ip, ip]),
            "fluid_synth_bank_select": (ip, [vp, ip, ip]),
            "fluid_synth_program_change": (ip, [vp, ip, ip]),
            "fluid_synth_noteon": (ip, [vp, ip, ip, ip]),
            "fluid_synth_noteoff": (ip, [vp, ip, ip]),
            "fluid_synth_process": (ip, [vp, ip, ip, vp, ip, vp]),
            "fluid_synth_get_active_voice_count": (ip, [vp]),
            "fluid_synth_get_voicelist": (None, [vp, vp, ip, ip]),
            "fluid_synth_all_sounds_off": (ip, [vp, ip]),
            "fluid_voice_gen_get": (ctypes.c_float, [vp, ip]),
            "fluid_set_log_function": (vp, [ip, _LOG_FN, vp]),
            "fluid_version_str": (cp, []),
        }
        for fname, (res, args) in sigs.items():
            fn = getattr(lib, fname)
            fn.restype = res
            fn.argtypes = args
        for level in range(5):  # PANIC, ERR, WARN, INFO, DBG: all into our log, none to stderr
            lib.fluid_set_log_function(level, _log_callback, None)
        _lib = lib
        return lib


def _last_error() -> str:
    """FluidSynth's error messages since the last clear, oldest first, without repeats."""
    errs = [m for lvl, m in _messages if lvl <= 1] or [m for lvl, m in _messages if lvl <= 2]
    return "; ".join(dict.fromkeys(errs[-4:])) if errs else "no message"


# -- the render itself ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Job:
    """One synthesiser pass: some tracks, their events, where to write their stems."""

    soundfont: str
    sr: int
    n_frames: int
    programs: tuple[tuple[int, bool], ...]  # (GM program, is_drum) per track of the pass
    paths: tuple[str, ...]  # one stem file per track
    events: np.ndarray  # [shape=(n, 5), int64]: frame, on (1) / off (0), channel, key, velocity
    note_cache: bool = True  # render each distinct note once (see _NoteCache)


def _events(score: Score, indices: Sequence[int], sr: int, n_frames: int) -> np.ndarray:
    """Note-on/off events of the given tracks, sorted by frame, offs before ons."""
    tm = score.tempo_map
    rows = []
    for ch, ti in enumerate(indices):
        notes = score.tracks[ti].notes
        if not notes:
            continue
        on_b = np.array([n.onset for n in notes])
        off_b = np.array([n.end for n in notes])
        # on FluidSynth's block grid: calls of whole blocks leave nothing buffered, so each
        # event sounds exactly at its (rounded) frame, not up to a block late
        on = _BLOCK * np.round(tm.to_seconds(on_b) * (sr / _BLOCK)).astype(np.int64)
        off = _BLOCK * np.round(tm.to_seconds(off_b) * (sr / _BLOCK)).astype(np.int64)
        off = np.maximum(off, on + _BLOCK)
        key = np.array([n.pitch for n in notes], dtype=np.int64)
        vel = np.array([n.velocity for n in notes], dtype=np.int64)
        chan = np.full(len(notes), ch, dtype=np.int64)
        rows.append(np.stack([on, np.ones_like(on), chan, key, vel], axis=1))
        rows.append(np.stack([off, np.zeros_like(off), chan, key, np.zeros_like(vel)], axis=1))
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    ev = np.concatenate(rows)
    ev = ev[ev[:, 0] < n_frames]
    return ev[np.lexsort((ev[:, 1], ev[:, 0]))]


_GEN_EXCLUSIVECLASS = 57  # SoundFont generator: voices of one class on a channel cut each other
_TAIL_STEP = 32 * _BLOCK  # frames rendered between checks that a note's voices have ended
_CACHE_BYTES = 192 * 2**20  # memory for rendered notes; least recently used ones are dropped
_MAX_VOICES = 1024
_MAX_CACHED_S = 30.0  # a track with a longer note is rendered live (bounded memory)


class _Synth:
    """One FluidSynth synthesiser with the job's SoundFont and one channel per track."""

    def __init__(self, lib: ctypes.CDLL, job: _Job, groups: int,
                 share: _Synth | None = None) -> None:
        """``share``: a synthesiser whose loaded SoundFont this one borrows instead of loading
        the file again (FluidSynth keeps a whole SoundFont's samples in memory: FluidR3 is
        140 MB). The lender must be closed after the borrower."""
        self.lib = lib
        n_tr = len(job.programs)
        self.settings = lib.new_fluid_settings()
        self.synth = None
        self.groups = groups
        self.sfont: int | None = None  # the SoundFont object this synthesiser loaded
        self.borrowed: int | None = None  # the one it borrowed
        try:
            for key, value in (("synth.audio-groups", groups), ("synth.audio-channels", groups),
                               ("synth.midi-channels", 16 * math.ceil(n_tr / 16)),
                               ("synth.reverb.active", 0), ("synth.chorus.active", 0),
                               ("synth.threadsafe-api", 0), ("synth.cpu-cores", 1)):
                lib.fluid_settings_setint(self.settings, key.encode(), int(value))
            lib.fluid_settings_setnum(self.settings, b"synth.sample-rate", float(job.sr))
            lib.fluid_settings_setnum(self.settings, b"synth.gain", SYNTH_GAIN)
            self.synth = lib.new_fluid_synth(self.settings)
            if not self.synth:
                raise YuefuError(f"FluidSynth could not start a synthesiser: {_last_error()}")
            if share is not None and share.sfont is not None:
                if lib.fluid_synth_add_sfont(self.synth, share.sfont) < 0:
                    raise YuefuError(f"FluidSynth could not share a SoundFont: {_last_error()}")
                self.borrowed = share.sfont
            else:
                sfid = lib.fluid_synth_sfload(self.synth, os.fsencode(job.soundfont), 1)
                if sfid < 0:
                    raise ParameterError(
                        f"soundfont {job.soundfont}: FluidSynth cannot load it "
                        f"({_last_error()}); give a valid .sf2 SoundFont")
                self.sfont = lib.fluid_synth_get_sfont_by_id(self.synth, sfid) or None
            for ch, (program, is_drum) in enumerate(job.programs):
                lib.fluid_synth_set_channel_type(self.synth, ch, 1 if is_drum else 0)
                if not is_drum:
                    lib.fluid_synth_bank_select(self.synth, ch, 0)
                # program_change substitutes a missing preset as a MIDI player would (and warns)
                lib.fluid_synth_program_change(self.synth, ch, program)
        except BaseException:
            self.close()
            raise

    def process(self, n: int, ptrs: np.ndarray) -> None:
        """Add ``n`` frames of every group into the buffers whose addresses are ``ptrs``."""
        if self.lib.fluid_synth_process(self.synth, n, 0, None, len(ptrs), ptrs.ctypes.data) != 0:
            raise YuefuError(f"FluidSynth failed while rendering: {_last_error()}")

    def close(self) -> None:
        if self.synth:
            if self.borrowed is not None:
                # silence, hand the voices back, then give the SoundFont back unfreed
                self.lib.fluid_synth_all_sounds_off(self.synth, -1)
                buf = np.zeros((2 * self.groups, _BLOCK), dtype=np.float32)
                self.lib.fluid_synth_process(self.synth, _BLOCK, 0, None, buf.shape[0],
                                             _rows(buf).ctypes.data)
                self.lib.fluid_synth_remove_sfont(self.synth, self.borrowed)
                self.borrowed = None
            self.lib.delete_fluid_synth(self.synth)
            self.synth = None
        if self.settings:
            self.lib.delete_fluid_settings(self.settings)
            self.settings = None


def _rows(buf: np.ndarray) -> np.ndarray:
    """The address of each row of a C-contiguous float32 buffer, for ``fluid_synth_process``."""
    return (buf.ctypes.data + np.arange(buf.shape[0], dtype=np.uint64)
            * np.uint64(buf.strides[0])).astype(np.uint64)


def _notes(events: np.ndarray, n_frames: int) -> np.ndarray:
    """The notes that the events play, as FluidSynth plays them: (on, release, channel, key,
    velocity) rows sorted by onset.

    A voice is released by the next event on its channel and key, whichever it is: FluidSynth
    releases a sounding note when the same key starts again, and a note-off releases every
    voice of its key that is still held (so, of two overlapping notes of one key, the first
    note's note-off ends the second). A note never released sounds to the end of the render.
    """
    n = len(events)
    order = np.lexsort((np.arange(n), events[:, 3], events[:, 2]))  # by channel, key, time
    ev = events[order]
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = (ev[1:, 2] == ev[:-1, 2]) & (ev[1:, 3] == ev[:-1, 3])
    release = np.full(n, n_frames, dtype=np.int64)
    release[:-1][same_next[:-1]] = ev[1:, 0][same_next[:-1]]
    on = ev[:, 1] == 1
    notes = np.stack([ev[on, 0], np.minimum(release[on], n_frames), ev[on, 2], ev[on, 3],
                      ev[on, 4]], axis=1)
    return notes[np.argsort(notes[:, 0], kind="stable")]


class _NoteCache:
    """Each distinct note rendered once, alone, by a second synthesiser; copies are reused.

    FluidSynth's voices do not interact: with reverb and chorus off, no controllers and no
    pitch bend, a voice depends only on its preset, key, velocity, the block at which it starts
    and the block at which it is released. Every event sits on FluidSynth's block grid, so a
    note rendered alone from frame 0 gives the samples that it contributes to a full render,
    and the stem is the sum of its notes. It equals a live render to float rounding except in
    a note's first 64-sample block: there FluidSynth (>= 2.2) ramps a new voice's gain from
    whatever its voice slot last played, so even a live render's onset blocks depend on which
    slot a voice happened to get (``tests/render/test_fluidsynth.py`` checks both). Two
    things do couple voices, and are kept: (1) a key struck again, or a note-off, releases the voices of
    that key still held (:func:`_notes` computes each note's release from them); (2) SoundFont
    *exclusive classes* (a closed hi-hat cuts an open one) - a track with any such note is
    rendered live instead (:meth:`exclusive`). Live rendering also steals voices beyond its
    256-voice polyphony, the cache never does.

    Songs repeat themselves - a four-bar accompaniment pattern, a chorus - so most notes are
    copies: the 3-minute benchmark song has 6,253 notes and few distinct ones.
    """

    def __init__(self, synth: _Synth, max_frames: int) -> None:
        self.s = synth
        self.max_frames = max_frames
        self.entries: OrderedDict[tuple[int, int, int, int], np.ndarray] = OrderedDict()
        self.nbytes = 0
        self.rendered = 0
        self.reused = 0
        self._voices = (ctypes.c_void_p * _MAX_VOICES)()
        self._buf = np.zeros((2, _TAIL_STEP), dtype=np.float32)

    def _silence(self) -> None:
        lib, syn = self.s.lib, self.s.synth
        lib.fluid_synth_all_sounds_off(syn, -1)
        self._buf.fill(0.0)
        self.s.process(_BLOCK, _rows(self._buf))  # hands the stopped voices back to the synth

    def exclusive(self, ch: int, key: int, vel: int) -> bool:
        """Whether the note starts a voice that belongs to an exclusive class."""
        lib, syn = self.s.lib, self.s.synth
        lib.fluid_synth_noteon(syn, ch, key, vel)
        voices = self._voices
        ctypes.memset(voices, 0, ctypes.sizeof(voices))
        lib.fluid_synth_get_voicelist(syn, voices, _MAX_VOICES, -1)
        found = False
        for v in voices:
            if not v:
                break
            if lib.fluid_voice_gen_get(v, _GEN_EXCLUSIVECLASS) != 0:
                found = True
                break
        self._silence()
        return found

    def get(self, ch: int, key: int, vel: int, length: int) -> np.ndarray:
        """The note's stereo samples from its onset until its voices have died away."""
        k = (ch, key, vel, length)
        audio = self.entries.get(k)
        if audio is not None:
            self.entries.move_to_end(k)
            self.reused += 1
            return audio
        audio = self._render(ch, key, vel, length)
        self.rendered += 1
        self.entries[k] = audio
        self.nbytes += audio.nbytes
        while self.nbytes > _CACHE_BYTES and len(self.entries) > 1:
            _, old = self.entries.popitem(last=False)
            self.nbytes -= old.nbytes
        return audio

    def _render(self, ch: int, key: int, vel: int, length: int) -> np.ndarray:
        lib, syn = self.s.lib, self.s.synth
        held = np.zeros((2, max(length, 0)), dtype=np.float32)
        pieces = [held]
        lib.fluid_synth_noteon(syn, ch, key, vel)
        if length:
            self.s.process(length, _rows(held))
        lib.fluid_synth_noteoff(syn, ch, key)
        total = length
        buf = self._buf
        ptrs = _rows(buf)
        while total < self.max_frames:
            buf.fill(0.0)
            self.s.process(_TAIL_STEP, ptrs)
            pieces.append(buf.copy())
            total += _TAIL_STEP
            if lib.fluid_synth_get_active_voice_count(syn) == 0:
                break
        else:
            self._silence()
        audio = np.concatenate(pieces, axis=1)
        nz = np.flatnonzero(np.any(audio != 0.0, axis=0))
        return np.ascontiguousarray(audio[:, :nz[-1] + 1] if len(nz) else audio[:, :0])


class _Ring:
    """A buffer of future samples addressed by absolute frame (notes are added ahead of time)."""

    def __init__(self, rows: int, capacity: int) -> None:
        self.buf = np.zeros((rows, capacity), dtype=np.float32)
        self.base = 0  # absolute frame of the oldest sample held

    def _spans(self, frame: int, n: int) -> list[tuple[int, int, int]]:
        cap = self.buf.shape[1]
        i = frame % cap
        first = min(n, cap - i)
        return [(i, 0, first)] + ([(0, first, n - first)] if first < n else [])

    def add(self, row: int, frame: int, audio: np.ndarray) -> None:
        n = audio.shape[1]
        need = frame + n - self.base
        cap = self.buf.shape[1]
        if need > cap:
            new_cap = 1 << max(need - 1, 1).bit_length()
            old = self.take(cap, advance=False)
            self.buf = np.zeros((self.buf.shape[0], new_cap), dtype=np.float32)
            for i, s, m in self._spans(self.base, cap):
                self.buf[:, i:i + m] = old[:, s:s + m]
        for i, s, m in self._spans(frame, n):
            self.buf[row:row + 2, i:i + m] += audio[:, s:s + m]

    def take(self, n: int, advance: bool = True) -> np.ndarray:
        out = np.empty((self.buf.shape[0], n), dtype=np.float32)
        for i, s, m in self._spans(self.base, n):
            out[:, s:s + m] = self.buf[:, i:i + m]
            if advance:
                self.buf[:, i:i + m] = 0.0
        if advance:
            self.base += n
        return out


def _render_chunks(job: _Job) -> Iterator[np.ndarray]:
    """Render one pass, yielding every stem's next samples as one ``(2 * tracks, n)`` block.

    Rows ``2k`` and ``2k + 1`` are the left and right channels of the job's ``k``-th track. A
    yielded block is a view of a buffer that the next step overwrites: use it (write it, copy
    it) before asking for the next one. Raises a YuefuError if FluidSynth fails."""
    lib = _load_lib()
    _messages.clear()
    n_tr = len(job.programs)
    live: _Synth | None = None
    solo: _Synth | None = None
    try:
        live = _Synth(lib, job, n_tr)
        ev = job.events
        notes = np.zeros((0, 5), dtype=np.int64)
        cache = None
        if job.note_cache and len(ev):
            solo = _Synth(lib, job, 1, share=live)
            cache = _NoteCache(solo, job.n_frames)
            notes = _notes(ev, job.n_frames)
            is_live = np.zeros(n_tr, dtype=bool)
            for ch in range(n_tr):
                mine = notes[notes[:, 2] == ch]
                # a drone of minutes would be one huge array: such a track plays live
                if len(mine) and int(np.max(mine[:, 1] - mine[:, 0])) > _MAX_CACHED_S * job.sr:
                    is_live[ch] = True
                    continue
                kv = np.unique(mine[:, 3:5], axis=0)
                is_live[ch] = any(cache.exclusive(ch, int(k), int(v)) for k, v in kv)
            notes = notes[~is_live[notes[:, 2]]]
            ev = ev[is_live[ev[:, 2]]]
            # a channel with the same instrument as an earlier one shares its cached notes
            first: dict[tuple[int, bool], int] = {}
            for ch, prog in enumerate(job.programs):
                first.setdefault(prog, ch)
            rep = np.array([first[p] for p in job.programs], dtype=np.int64)
        ring = _Ring(2 * n_tr, 2 * _CHUNK_FRAMES)

        chunk = np.zeros((2 * n_tr, _CHUNK_FRAMES), dtype=np.float32)
        rows = _rows(chunk)
        n_ev = len(ev)
        frames_ev = ev[:, 0].tolist()
        note_list = notes.tolist()
        noteon, noteoff = lib.fluid_synth_noteon, lib.fluid_synth_noteoff
        pos = 0  # frames rendered
        ei = 0
        ni = 0
        while pos < job.n_frames:
            fill = 0
            chunk.fill(0.0)
            end = min(job.n_frames, pos + _CHUNK_FRAMES)
            if n_ev:
                while pos < end:
                    while ei < n_ev and frames_ev[ei] <= pos:
                        _, on, ch, key, vel = ev[ei].tolist()
                        if on:
                            noteon(live.synth, ch, key, vel)
                        else:
                            noteoff(live.synth, ch, key)  # FLUID_FAILED for a stolen note
                        ei += 1
                    stop = min(end, frames_ev[ei]) if ei < n_ev else end
                    n = stop - pos
                    live.process(n, rows + np.uint64(fill * 4))
                    fill += n
                    pos = stop
            else:
                fill = end - pos
                pos = end
            if cache is not None:
                while ni < len(note_list) and note_list[ni][0] < pos:
                    on, release, ch, key, vel = note_list[ni]
                    audio = cache.get(int(rep[ch]), key, vel, release - on)
                    ring.add(2 * ch, on, audio[:, :job.n_frames - on])
                    ni += 1
                chunk[:, :fill] += ring.take(fill)
            yield chunk[:, :fill]
        if cache is not None:
            log.debug("note cache: %d notes rendered, %d reused", cache.rendered, cache.reused)
    finally:
        for s in (solo, live):  # the borrower first
            if s is not None:
                s.close()


class _StemWriters:
    """The float WAV stems of one pass, written block by block from :func:`_render_chunks`."""

    def __init__(self, paths: Sequence[str | Path], sr: int) -> None:
        self.files: list[FloatWavWriter] = []
        try:
            for p in paths:
                self.files.append(FloatWavWriter(p, sr=sr, channels=2))
        except BaseException:
            self.abort()
            raise

    def write(self, block: np.ndarray) -> None:
        for k, f in enumerate(self.files):
            f.write(block[2 * k:2 * k + 2])

    def close(self) -> None:
        files, self.files = self.files, []
        for f in files:
            f.close()

    def abort(self) -> None:
        files, self.files = self.files, []
        for f in files:
            f.abort()


def _render_job(job: _Job, report: Callable[[int], None] | None = None) -> None:
    """Render one pass into its stem files (float32 WAV); raise a YuefuError on failure."""
    writers = _StemWriters(job.paths, job.sr)
    try:
        for block in _render_chunks(job):
            writers.write(block)
            if report is not None:
                report(block.shape[1])
        writers.close()
    finally:
        writers.abort()


# worker-process side of jobs > 1
_progress_queue = None


def _init_worker(queue: object) -> None:
    global _progress_queue
    _progress_queue = queue


def _run_in_worker(job: _Job) -> None:
    q = _progress_queue
    _render_job(job, (lambda n: q.put(n)) if q is not None else None)  # type: ignore[attr-defined]


def _track_cost(score: Score, index: int) -> float:
    """A rough cost of synthesising a track: note-seconds, each with a second of release."""
    tr = score.tracks[index]
    spb = 60.0 / max(t.bpm for t in score.tempos) if score.tempos else 0.5
    return sum(n.duration * spb + 1.0 for n in tr.notes) + 1.0


def _partition(score: Score, jobs: int) -> list[list[int]]:
    """Tracks split into at most ``jobs`` passes of similar cost (longest first)."""
    n = len(score.tracks)
    n_groups = max(min(jobs, n), math.ceil(n / _MAX_GROUPS))
    groups: list[list[int]] = [[] for _ in range(n_groups)]
    load = [0.0] * n_groups
    for i in sorted(range(n), key=lambda i: -_track_cost(score, i)):
        g = min((g for g in range(n_groups) if len(groups[g]) < _MAX_GROUPS),
                key=lambda g: load[g])
        groups[g].append(i)
        load[g] += _track_cost(score, i)
    return [sorted(g) for g in groups if g]


@contextlib.contextmanager
def _staging_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary folder inside ``out_dir``; ``out_dir`` is removed again on failure if this
    call created it."""
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".stems.", suffix=".part", dir=out_dir))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render_stems(
    score: Score,
    out_dir: str | os.PathLike[str],
    *,
    soundfont: str | os.PathLike[str] | None = None,
    sr: int = 44100,
    tail_s: float = 2.0,
    jobs: int = 1,
    force: bool = False,
    progress: ProgressCallback | None = None,
    note_cache: bool = True,
) -> dict[str, Path]:
    """Render each track of ``score`` to its own stereo float32 WAV stem with FluidSynth.

    Parameters
    ----------
    score : Score
        The piece. Each track plays its GM ``program`` (drum tracks the GM percussion kit);
        ``gain_db`` and ``pan`` are *not* applied here (the mixer applies them once).
    out_dir : path
        Folder for the stems, created if missing: ``<out_dir>/<stem_filename(track.name)>``.
        Other files in it are left alone.
    soundfont : path, optional
        Any ``.sf2`` (or ``.sf3``) SoundFont. Default: the first of :data:`DEFAULT_SOUNDFONTS`
        (FluidR3_GM on Debian).
    sr : int
        Sample rate of the stems in Hz, 8000..96000 (FluidSynth synthesises at this rate;
        nothing is resampled afterwards).
    tail_s : float
        Seconds rendered after the end of the last note of the score, 0..60, so that release
        tails ring out. Every stem lasts exactly ``round((score.duration_s + tail_s) * sr)``
        frames.
    jobs : int
        Processes that render in parallel (>= 1). With 1, the render runs in this process;
        with more, the tracks are split into ``jobs`` groups of similar cost, one process each.
    force : bool
        Overwrite stems that already exist in ``out_dir``; without it an existing stem is an
        :class:`~yuefu.core.errors.OutputExistsError` raised before anything is rendered.
    progress : callable, optional
        ``progress(fraction, message)`` with fraction in 0..1, called as blocks are rendered.
    note_cache : bool
        Render each distinct note (instrument, key, velocity, length) once and add copies of
        it, instead of synthesising every note live. The stems are the same to float rounding
        (see :class:`_NoteCache` for why and for the exceptions that are rendered live); songs
        repeat themselves, so this is several times faster. False renders everything live.

    Returns
    -------
    dict of str to Path
        Track name -> stem path, in track order. Empty tracks get a silent stem.

    Raises
    ------
    ParameterError
        Bad arguments, a missing/unreadable/corrupt soundfont (the message names it and gives
        FluidSynth's own complaint), two tracks whose names make the same file name.
    MissingDependencyError
        libfluidsynth or the default SoundFont is not installed (the message gives the
        ``apt-get install`` line).
    OutputExistsError
        A stem exists and ``force`` is false.
    YuefuError
        FluidSynth failed during synthesis (its last error message is quoted).

    Notes
    -----
    The stems are written into a temporary folder inside ``out_dir`` and moved into place only
    when all of them are complete, so a failure leaves the folder as it was.

    Examples
    --------
    >>> from yuefu.core.score import Note, Score, Track
    >>> s = Score()
    >>> s.add_track(Track("flute", program=73)).notes.append(Note(69, 0.0, 2.0))
    >>> paths = render_stems(s, "stems", tail_s=1.0)   # doctest: +SKIP
    >>> paths["flute"].name                            # doctest: +SKIP
    'flute.wav'
    """
    plan = _plan(score, out_dir, soundfont=soundfont, sr=sr, tail_s=tail_s, jobs=jobs,
                 force=force, note_cache=note_cache)
    total = plan.n_frames * len(plan.groups)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(min(1.0, done[0] / total), "rendering stems")

    t0 = time.perf_counter()
    with _staging_dir(plan.out_dir) as tmp:
        work = plan.jobs(tmp)
        if len(work) == 1:
            _render_job(work[0], tick)
        else:
            _render_parallel(work, tick)
        plan.move_into_place(tmp)
    log.info("rendered %d stems (%.1f s of audio) in %.2f s with %d pass(es)",
             len(plan.dests), plan.n_frames / plan.sr, time.perf_counter() - t0,
             len(plan.groups))
    if progress is not None:
        progress(1.0, "stems rendered")
    return plan.dests


@dataclass
class _Plan:
    """A checked render: the score, where each stem goes and how the tracks are grouped."""

    score: Score
    out_dir: Path
    dests: dict[str, Path]
    soundfont: Path
    sr: int
    n_frames: int
    groups: list[list[int]]
    note_cache: bool

    def jobs(self, folder: Path) -> list[_Job]:
        """One job per group, writing its stems into ``folder``."""
        tracks = self.score.tracks
        return [_Job(soundfont=str(self.soundfont), sr=self.sr, n_frames=self.n_frames,
                     programs=tuple((tracks[i].program, tracks[i].is_drum) for i in g),
                     paths=tuple(str(folder / stem_filename(tracks[i].name)) for i in g),
                     events=_events(self.score, g, self.sr, self.n_frames),
                     note_cache=self.note_cache)
                for g in self.groups]

    def move_into_place(self, folder: Path) -> None:
        for tr in self.score.tracks:
            os.replace(folder / stem_filename(tr.name), self.dests[tr.name])


def _plan(score: Score, out_dir: str | os.PathLike[str] | None, *,
          soundfont: str | os.PathLike[str] | None, sr: int, tail_s: float, jobs: int,
          force: bool, note_cache: bool) -> _Plan:
    """Check :func:`render_stems`' arguments (raising its errors) and plan the passes.

    ``out_dir`` None: the stems are not written (no destinations to check)."""
    if not isinstance(score, Score):
        raise ParameterError(f"render_stems needs a Score, got {type(score).__name__}")
    if not score.tracks:
        raise ParameterError("the score has no tracks; nothing to render")
    if not (isinstance(sr, int | np.integer) and 8000 <= int(sr) <= 96000):
        raise ParameterError(f"sr must be an integer 8000..96000 Hz, got {sr!r}")
    if not (isinstance(tail_s, int | float) and math.isfinite(tail_s) and 0 <= tail_s <= 60):
        raise ParameterError(f"tail_s must be 0..60 seconds, got {tail_s!r}")
    if not (isinstance(jobs, int | np.integer) and jobs >= 1):
        raise ParameterError(f"jobs must be an integer >= 1, got {jobs!r}")
    sr = int(sr)
    sf_path = _check_soundfont(soundfont)
    out = Path(out_dir if out_dir is not None else ".")
    if out_dir is not None and out.exists() and not out.is_dir():
        raise ParameterError(f"{out} is a file; give a folder for the stems")

    names: dict[str, str] = {}
    for tr in score.tracks:
        fn = stem_filename(tr.name)
        if fn.lower() in names:
            raise ParameterError(
                f"tracks {names[fn.lower()]!r} and {tr.name!r} would both be written to {fn}; "
                "rename one of them")
        names[fn.lower()] = tr.name
    dests = {tr.name: out / stem_filename(tr.name) for tr in score.tracks}
    if out_dir is None:
        dests = {}
    if not force:
        existing = [str(p) for p in dests.values() if p.exists()]
        if existing:
            raise OutputExistsError(
                f"{existing[0]} already exists"
                + (f" (and {len(existing) - 1} more stems)" if len(existing) > 1 else "")
                + "; pass --force to overwrite it")
    for p in dests.values():
        if p.is_dir():
            raise ParameterError(f"{p} is a folder; it is in the way of a stem")

    n_frames = int(round((score.duration_s + float(tail_s)) * sr))
    if n_frames <= 0:
        raise ParameterError("the score has no notes and tail_s is 0: nothing to render")
    _load_lib()  # a missing library is reported before any file is touched
    return _Plan(score=score, out_dir=out, dests=dests, soundfont=sf_path, sr=sr,
                 n_frames=n_frames, groups=_partition(score, int(jobs)),
                 note_cache=bool(note_cache))


def single_pass(score: Score) -> bool:
    """Whether one FluidSynth pass can render every track of ``score`` (at most 128 tracks)."""
    return len(score.tracks) <= _MAX_GROUPS


@contextlib.contextmanager
def stream_stems(
    score: Score,
    stems_dir: str | os.PathLike[str] | None = None,
    *,
    soundfont: str | os.PathLike[str] | None = None,
    sr: int = 44100,
    tail_s: float = 2.0,
    force: bool = False,
    progress: ProgressCallback | None = None,
    note_cache: bool = True,
) -> Iterator[tuple[dict[str, Path | None], int, Iterator[np.ndarray]]]:
    """Render every stem in one pass and hand the samples over block by block.

    What :func:`render_stems` computes, without the round trip through files: a mixer can
    take the stems as they are synthesised. With ``stems_dir`` the stems are also written
    there in the same pass (moved into place when the ``with`` block ends without error, as
    :func:`render_stems` does); without it nothing touches the disk.

    Parameters
    ----------
    score, soundfont, sr, tail_s, force, progress, note_cache
        As :func:`render_stems` (``jobs`` is 1: one pass). A score with more tracks than one
        pass holds (see :func:`single_pass`) is a ParameterError.
    stems_dir : path, optional
        Where to keep the stems.

    Yields
    ------
    (stems, n_frames, blocks)
        ``stems``: track name -> stem path (None without ``stems_dir``), in track order;
        ``n_frames``: the length of every stem; ``blocks``: an iterator of float32 arrays
        shaped ``(2 * n_tracks, n)``, rows ``2k`` and ``2k + 1`` the left and right channel of
        track ``k``, that together hold ``n_frames`` frames. Each block is overwritten by the
        next one. Leaving the ``with`` block before the last block is an error (the stems
        would be incomplete): the stems are then not kept.

    Examples
    --------
    >>> with stream_stems(score) as (stems, n, blocks):        # doctest: +SKIP
    ...     for b in blocks:
    ...         peak = max(peak, float(abs(b).max()))
    """
    if not single_pass(score):
        raise ParameterError(f"one pass renders at most {_MAX_GROUPS} tracks, the score has "
                             f"{len(score.tracks)}; use render_stems")
    keep = stems_dir is not None
    plan = _plan(score, stems_dir, soundfont=soundfont, sr=sr, tail_s=tail_s, jobs=1,
                 force=force, note_cache=note_cache)
    done = [0]

    def blocks(job: _Job, writers: _StemWriters | None) -> Generator[np.ndarray, None, None]:
        for block in _render_chunks(job):
            if writers is not None:
                writers.write(block)
            done[0] += block.shape[1]
            if progress is not None:
                progress(min(1.0, done[0] / plan.n_frames), "rendering stems")
            yield block

    if not keep:
        (job,) = plan.jobs(Path("."))
        gen = blocks(job, None)
        try:
            yield {tr.name: None for tr in score.tracks}, plan.n_frames, gen
        finally:
            gen.close()
        if done[0] != plan.n_frames:
            raise YuefuError("the stems were not read to the end")
        return
    with _staging_dir(plan.out_dir) as tmp:
        (job,) = plan.jobs(tmp)
        writers = _StemWriters(job.paths, job.sr)
        gen = blocks(job, writers)
        try:
            kept: dict[str, Path | None] = dict(plan.dests)
            yield kept, plan.n_frames, gen
            gen.close()
            if done[0] != plan.n_frames:
                raise YuefuError("the stems were not read to the end; none is kept")
            writers.close()
        finally:
            gen.close()
            writers.abort()
        plan.move_into_place(tmp)


def _render_parallel(work: list[_Job], tick: Callable[[int], None]) -> None:
    import multiprocessing as mp
    import queue as queue_mod

    ctx = mp.get_context("spawn")  # safe beside threads (a web server); workers import little
    q = ctx.Queue()

    def drain() -> None:
        with contextlib.suppress(queue_mod.Empty):
            while True:
                tick(q.get_nowait())

    with ProcessPoolExecutor(len(work), mp_context=ctx, initializer=_init_worker,
                             initargs=(q,)) as pool:
        futures = [pool.submit(_run_in_worker, j) for j in work]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            drain()
            for f in finished:
                exc = f.exception()
                if exc is None:
                    continue
                for other in pending:
                    other.cancel()
                if isinstance(exc, BrokenProcessPool):
                    raise YuefuError(
                        "a render process died: FluidSynth crashed, or the calling script has no "
                        "'if __name__ == \"__main__\":' guard, which jobs > 1 needs (render "
                        "processes are spawned); try jobs=1 or another SoundFont") from exc
                raise exc
        drain()

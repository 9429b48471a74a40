"""A small ctypes binding to the espeak-ng library: speech samples with phoneme positions.

espeak-ng is the phoneme source of the singer: it says one syllable at a fixed, monotone pitch
and reports where each phoneme starts (``espeakEVENT_PHONEME``), so that the singer can tell
the onset consonants, the vowel nucleus and the coda apart without guessing from the audio.
The library is loaded on first use; a missing library raises :class:`MissingDependencyError`.

>>> utt = speak("[[l'A:]]", voice="en-us", phonemes=True)  # doctest: +SKIP
>>> [p.name for p in utt.phonemes]  # doctest: +SKIP
['l', 'A:']
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError, ParameterError

__all__ = ["Phoneme", "Utterance", "speak"]

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_CHARS_UTF8 = 1
_PHONEMES_INPUT = 0x100
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True, slots=True)
class Phoneme:
    """One phoneme of an utterance: espeak's mnemonic (``"A:"``, ``"ts.h"``, ``"_:"`` for a pause)
    and its first sample."""

    name: str
    start: int


@dataclass(frozen=True, slots=True)
class Utterance:
    """What espeak-ng said.

    Parameters
    ----------
    samples : np.ndarray [shape=(n,), dtype=float32]
        Mono speech in -1..1.
    sr : int
        Its sample rate (22,050 Hz for the standard voices).
    phonemes : tuple of Phoneme
        In order, pauses (names starting with ``"_"``) included.
    """

    samples: np.ndarray
    sr: int
    phonemes: tuple[Phoneme, ...]


class _Engine:
    """The library, initialised once; espeak-ng keeps global state, so calls are serialised."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib: Any = ctypes.CDLL(name)
        except OSError:
            raise MissingDependencyError(
                "the singer needs the espeak-ng library (libespeak-ng.so.1); install it with "
                "'apt-get install espeak-ng'") from None
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.sr = int(self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                                 _INITIALIZE_PHONEME_EVENTS))
        if self.sr <= 0:
            raise MissingDependencyError(
                "espeak-ng could not start (its data folder espeak-ng-data is missing?); "
                "reinstall it with 'apt-get install --reinstall espeak-ng-data'")
        self.chunks: list[np.ndarray] = []
        self.events: list[Phoneme] = []
        self.lock = threading.Lock()
        self.callback = _Callback(self._on_audio)  # kept alive as long as the engine
        self.lib.espeak_SetSynthCallback(self.callback)

    def _on_audio(self, wav: Any, n: int, events: Any) -> int:
        if n > 0 and wav:
            self.chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            e = events[i]
            if e.type == _EVENT_PHONEME:
                self.events.append(Phoneme(e.id.decode("latin-1"), int(e.sample)))
            i += 1
        return 0

    def speak(self, text: str, voice: str, *, phonemes: bool, pitch: int, rate_wpm: int) -> Utterance:
        with self.lock:
            self.chunks, self.events = [], []
            if self.lib.espeak_SetVoiceByName(voice.encode("ascii")) != 0:
                raise ParameterError(f"espeak-ng has no voice {voice!r}; list them with "
                                     "'espeak-ng --voices'")
            self.lib.espeak_SetParameter(_PARAM_RATE, int(rate_wpm), 0)
            self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
            self.lib.espeak_SetParameter(_PARAM_RANGE, 0, 0)  # monotone
            data = text.encode("utf-8")
            buf = ctypes.create_string_buffer(data)
            flags = _CHARS_UTF8 | (_PHONEMES_INPUT if phonemes else 0)
            self.lib.espeak_Synth(buf, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            self.lib.espeak_Synchronize()
            pcm = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
            events = tuple(self.events)
        return Utterance((pcm.astype(np.float32) / 32768.0), self.sr, events)


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def speak(text: str, *, voice: str, phonemes: bool = False, pitch: int = 50,
          rate_wpm: int = 110) -> Utterance:
    """Say ``text`` with espeak-ng at a fixed pitch.

    Parameters
    ----------
    text : str
        Plain text, or espeak phoneme mnemonics in ``[[...]]`` when ``phonemes``.
    voice : str
        An espeak-ng voice name with an optional variant, e.g. ``"en-us+f3"``,
        ``"cmn-latn-pinyin"`` (Mandarin read from tone-numbered pinyin, ``"yue4"``).
    phonemes : bool
        ``text`` holds ``[[...]]`` phoneme input.
    pitch : int
        espeak's base pitch, 0..100; the pitch range is set to 0 (monotone).
    rate_wpm : int
        Speaking rate in words per minute (slower gives longer vowels to analyse).

    Returns
    -------
    Utterance
    """
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = _Engine()
    return _engine.speak(text, voice, phonemes=phonemes, pitch=pitch, rate_wpm=rate_wpm)

"""Syllable units: one espeak-ng syllable analysed by WORLD into frames the singer can stretch.

A unit holds, per 5 ms frame, the log spectral envelope and the aperiodicity (both on the
2,048-point FFT grid of 44.1 kHz synthesis), the voicing, and where the onset consonants, the
vowel nucleus (with the steady part that long notes stretch) and the coda lie. espeak-ng speaks
at 22,050 Hz; its envelope covers 0..11 kHz and is extended above with a gentle slope (and
full aperiodicity: breath noise), so that WORLD can synthesise at 44.1 kHz directly.

Units are cached by what espeak said and in which voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError
from yuefu.sing.espeak import speak

__all__ = ["FRAME_S", "SYNTH_SR", "FFT_SIZE", "SONORANT_DB", "Voice", "Unit", "load_unit",
           "is_vowel_name", "phoneme_class", "pyworld_module"]

#: WORLD frame period.
FRAME_S = 0.005
#: The vocoder's output rate.
SYNTH_SR = 44100
#: WORLD FFT size at SYNTH_SR (its bins are spaced as cheaptrick's 1,024-point grid at 22,050 Hz).
FFT_SIZE = 2048
_N_BINS = FFT_SIZE // 2 + 1
_VOWEL_CHARS = set("aeiouyAEIOUVY@3&0")
#: espeak-ng sonorant consonants (liquids and nasals) and glides.
_NASALS = frozenset({"m", "n", "N", "n^", "m-", "n-"})
_LIQUIDS = frozenset({"l", "r", "l/", "r-", "R", "l^", "*"})
_GLIDES = frozenset({"w", "j", ";"})
#: Where a sonorant onset sits: at most this many dB below the vowel in the 300-4000 Hz band
#: (a sung l, m, n is ~8-15 dB softer than its vowel; the vowel, not the hum, starts the note;
#: -14 leaves room for the smoothing of a short sonorant between two vowels).
SONORANT_DB = -14.0
_LN_DB = np.log(10.0) / 10.0  # dB -> natural log of power


@dataclass(frozen=True, slots=True)
class Voice:
    """A singing voice.

    Parameters
    ----------
    name : str
    variant : str
        espeak-ng voice variant appended to the language voice (``"+f3"``), ``""`` for default.
    espeak_pitch : int
        espeak's base pitch 0..100 for the analysed speech.
    formant_shift : float
        Spectral envelope frequency scale (> 1 raises the formants: smaller vocal tract).
    low, high : int
        Comfortable range, MIDI pitches; melodies are moved by octaves into it.
    breath_db : float
        Level of the breath before a phrase, relative to the sung level.
    tilt_db_per_octave : float
        How much voiced frames are softened per octave above 1 kHz (at most 24 dB): espeak's
        upper formants are far brighter than a singer's, and under high notes they can outweigh
        the fundamental.
    """

    name: str
    variant: str
    espeak_pitch: int
    formant_shift: float
    low: int
    high: int
    breath_db: float = -26.0
    tilt_db_per_octave: float = 6.0


def pyworld_module() -> Any:
    """The ``pyworld`` module (WORLD vocoder), importable beside any setuptools.

    pyworld 0.3.5 imports ``pkg_resources`` only to read its own version, and setuptools 81+
    no longer ships that module; where it is missing, a two-line stand-in is registered first.
    """
    import warnings

    try:
        with warnings.catch_warnings():  # setuptools 80 warns that pkg_resources is deprecated
            warnings.simplefilter("ignore", UserWarning)
            import pyworld
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            raise MissingDependencyError(
                "the singer needs the WORLD vocoder: pip install pyworld==0.3.5") from None
        import importlib.metadata
        import sys
        import types

        stub = types.ModuleType("pkg_resources")
        stub.__dict__["get_distribution"] = lambda name: types.SimpleNamespace(
            version=importlib.metadata.version(name))
        sys.modules["pkg_resources"] = stub
        try:
            import pyworld
        finally:
            del sys.modules["pkg_resources"]
    return pyworld


def is_vowel_name(name: str) -> bool:
    """True for an espeak-ng vowel mnemonic (``"A:"``, ``"yE"``, ``"@r"``, ``"i."``)."""
    n = name.lstrip("',%=")
    return bool(n) and n[0] in _VOWEL_CHARS


def phoneme_class(name: str) -> str:
    """``"vowel"``, ``"nasal"``, ``"liquid"``, ``"glide"``, ``"pause"`` or ``"obstruent"`` for an
    espeak-ng phoneme mnemonic.

    >>> [phoneme_class(p) for p in ("A:", "m", "l", "w", "t", "s.", "_:")]
    ['vowel', 'nasal', 'liquid', 'glide', 'obstruent', 'obstruent', 'pause']
    """
    n = name.lstrip("',%=")
    if not n or n.startswith("_"):
        return "pause"
    if n in _GLIDES:
        return "glide"
    if is_vowel_name(n):
        return "vowel"
    if n in _NASALS:
        return "nasal"
    if n in _LIQUIDS:
        return "liquid"
    return "obstruent"


def _band_db(log_sp: np.ndarray, lo_hz: float = 300.0, hi_hz: float = 4000.0) -> np.ndarray:
    """Per-frame power (dB) of an envelope on the synthesis grid in a band."""
    hz = np.arange(log_sp.shape[1]) * (SYNTH_SR / FFT_SIZE)
    m = (hz >= lo_hz) & (hz <= hi_hz)
    out: np.ndarray = 10.0 * np.log10(np.mean(np.exp(log_sp[:, m]), axis=1) + 1e-30)
    return out


def _soften_sonorant(log_sp: np.ndarray, frames: list[int], nasal: np.ndarray, ref_db: float) -> None:
    """Lower the frames of a sonorant onset (in place) so that their 300-4000 Hz band sits at
    most :data:`SONORANT_DB` below the vowel's (``ref_db``). A nasal keeps its low murmur: the
    cut fades out below 500 Hz (to a third at 150 Hz)."""
    if len(frames) == 0:
        return
    hz = np.maximum(np.arange(log_sp.shape[1]) * (SYNTH_SR / FFT_SIZE), 1.0)
    w_nasal = np.clip(1.0 - (2.0 / 3.0) * np.log(500.0 / hz) / np.log(500.0 / 150.0), 1.0 / 3.0, 1.0)
    for f in frames:
        w = w_nasal if nasal[f] else np.ones_like(hz)
        for _ in range(3):  # the weighted cut lowers the band a little less than asked: repeat
            excess = float(_band_db(log_sp[f:f + 1])[0]) - (ref_db + SONORANT_DB)
            if excess <= 0.05:
                break
            log_sp[f] -= (excess * _LN_DB) * w


def _hold_fraction(name: str) -> tuple[float, float]:
    """The steady stretch of a vowel phoneme, as fractions of its length."""
    letters = [c for c in name.lstrip("',%=") if c.isalpha() or c in "@3&"]
    if len(letters) <= 1:
        return 0.3, 0.7
    if len(letters) == 2:
        return (0.5, 0.75) if letters[0] in "iuyIU" else (0.15, 0.4)  # glide first / diphthong
    return 0.4, 0.6  # triphthong: its middle


def _steady(log_sp: np.ndarray, h0: int, h1: int, frac: tuple[float, float],
            width: int = 7) -> tuple[float, float]:
    """The steadiest ``width`` frames of a vowel (least spectral change below 5 kHz), looked
    for around the expected stretch ``frac`` of the phoneme (early for a diphthong)."""
    n = h1 - h0
    if n <= 2:
        return float(h0), float(max(h0 + 1, h1) - 1e-3)
    width = max(2, min(width, n - 1))
    band = int(5000 / 21.533)
    flux = np.sqrt(np.mean(np.diff(log_sp[h0:h1, :band], axis=0) ** 2, axis=1))  # n-1 values
    cost = np.convolve(flux, np.ones(width - 1), mode="valid")  # window starting at i spans i..i+width-1
    starts = np.arange(len(cost))
    centre = h0 + starts + 0.5 * (width - 1)
    want = h0 + 0.5 * (frac[0] + frac[1]) * n
    # prefer the expected part of the phoneme: a mild penalty per frame away from it
    cost = cost + 0.02 * np.abs(centre - want) * (np.median(flux) + 1e-9) * 10
    # keep clear of the phoneme's edges (the transitions into and out of it)
    margin = max(1, n // 6)
    ok = (starts >= margin) & (starts + width <= n - margin)
    if ok.any():
        cost = np.where(ok, cost, np.inf)
    i = int(np.argmin(cost))
    return float(h0 + i), float(h0 + i + width - 1)


@dataclass(frozen=True)
class Unit:
    """A syllable analysed into frames.

    Parameters
    ----------
    log_sp : np.ndarray [shape=(frames, 1025)]
        Natural log of the power spectral envelope; the vowel's median level is 0.
    ap : np.ndarray [shape=(frames, 1025)]
        Aperiodicity 0..1.
    voiced : np.ndarray [shape=(frames,), dtype=bool]
    nucleus : (int, int)
        First frame of the vowel nucleus and first frame after it.
    hold : (float, float)
        The steady frames a long note stretches (fractional frame positions inside the nucleus).
    phonemes : tuple of str
        espeak's phonemes, for messages.
    sonorant : int
        Frames at the end of the onset (right before the nucleus) that are a sonorant or glide
        (l, m, n, r; English w, y); they are softened to :data:`SONORANT_DB` below the vowel.
    glide : int
        Frames at the start of the nucleus that are a Mandarin medial (the u of guang, the i of
        xia, the w of wo): sung on the beat, moving quickly into the main vowel.
    """

    log_sp: np.ndarray
    ap: np.ndarray
    voiced: np.ndarray
    nucleus: tuple[int, int]
    hold: tuple[float, float]
    phonemes: tuple[str, ...]
    sonorant: int = 0
    glide: int = 0

    @property
    def n_frames(self) -> int:
        return int(self.log_sp.shape[0])

    @property
    def onset_s(self) -> float:
        """Natural length of the onset consonants."""
        return self.nucleus[0] * FRAME_S

    @property
    def sonorant_s(self) -> float:
        """Natural length of the sonorant or glide right before the vowel (part of ``onset_s``)."""
        return self.sonorant * FRAME_S

    @property
    def coda_s(self) -> float:
        """Natural length of the coda consonants."""
        return (self.n_frames - self.nucleus[1]) * FRAME_S


def _vowel_ap() -> np.ndarray:
    """Aperiodicity ceiling of a clean sung vowel on the synthesis grid: -40 dB up to 1.5 kHz,
    rising along log frequency to -14 dB at 6 kHz and -6 dB from 10 kHz."""
    hz = np.maximum(np.arange(_N_BINS) * (SYNTH_SR / FFT_SIZE), 1.0)
    db = np.interp(np.log2(hz), np.log2([1500.0, 6000.0, 10000.0]), [-40.0, -14.0, -6.0])
    out: np.ndarray = 10.0 ** (db / 20.0)
    return out


_VOWEL_AP = _vowel_ap()


def _extend(log_sp22: np.ndarray, ap22: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Envelope on 0..11,025 Hz (513 bins) -> 0..22,050 Hz (1,025 bins) with a sloping top."""
    n = log_sp22.shape[0]
    hz = np.arange(_N_BINS) * (SYNTH_SR / FFT_SIZE)
    lo, hi = int(4000 / 21.533), int(8000 / 21.533)
    ref = np.log(np.mean(np.exp(log_sp22[:, lo:hi]), axis=1) + 1e-30)[:, None]
    slope = -2.8  # natural-log power per octave: about -12 dB/octave
    ext = ref + slope * np.log2(np.maximum(hz, 6000.0) / 6000.0)[None, :]
    out = np.empty((n, _N_BINS))
    out[:, :513] = log_sp22[:, :513]
    # 9..11 kHz: crossfade espeak's band edge into the extension; above: extension
    k0, k1 = int(9000 / 21.533), 513
    w = np.linspace(0.0, 1.0, k1 - k0)[None, :]
    out[:, k0:k1] = (1 - w) * log_sp22[:, k0:k1] + w * np.minimum(ext[:, k0:k1], log_sp22[:, k0:k1] + 3)
    out[:, k1:] = ext[:, k1:]
    ap = np.empty((n, _N_BINS))
    ap[:, :513] = ap22[:, :513]
    ap[:, 513:] = np.maximum(ap22[:, 512:513], 0.7)
    return out, ap


def _warp(log_sp: np.ndarray, factor: float) -> np.ndarray:
    """Scale the envelope's frequency axis by ``factor`` (formants move up for > 1)."""
    if abs(factor - 1.0) < 1e-6:
        return log_sp
    nb = log_sp.shape[1]
    src = np.clip(np.arange(nb) / factor, 0, nb - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, nb - 1)
    w = src - i0
    return log_sp[:, i0] * (1 - w) + log_sp[:, i1] * w


@lru_cache(maxsize=4096)
def load_unit(text: str, phonemes: bool, espeak_voice: str, voice: Voice) -> Unit:
    """Say one syllable with espeak-ng and analyse it (cached).

    Parameters
    ----------
    text : str
        espeak input (``"yue1"`` for the pinyin voice, ``"[[l'A:]]"`` with ``phonemes``).
    phonemes : bool
        ``text`` is phoneme input.
    espeak_voice : str
        The language voice (``"en-us"``, ``"cmn-latn-pinyin"``); the voice's variant is added.
    voice : Voice
    """
    pw = pyworld_module()
    utt = speak(text, voice=espeak_voice + voice.variant, phonemes=phonemes, pitch=voice.espeak_pitch)
    sr = utt.sr
    ph = list(utt.phonemes)
    # the spoken phonemes: from the first non-pause to the pause after the last one
    spoken = [i for i, p in enumerate(ph) if not p.name.startswith("_")]
    x = utt.samples.astype(np.float64)
    if not spoken or x.size < sr * 0.03:
        spoken_names: list[str] = []
        a, b = 0, x.size
        bounds: list[tuple[str, int, int]] = []
    else:
        a = ph[spoken[0]].start
        last = spoken[-1]
        b = ph[last + 1].start if last + 1 < len(ph) else x.size
        bounds = []
        for i in spoken:
            s = ph[i].start
            e = ph[i + 1].start if i + 1 < len(ph) else x.size
            bounds.append((ph[i].name, s - a, e - a))
        spoken_names = [p[0] for p in bounds]
    seg = np.ascontiguousarray(x[a:b])
    if seg.size < int(0.05 * sr):
        seg = np.concatenate([seg, np.zeros(int(0.05 * sr) - seg.size)])
    f0, tt = pw.dio(seg, sr, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_S * 1000)
    f0 = pw.stonemask(seg, f0, tt, sr)
    # espeak speaks on one pitch (range 0): analyse every frame with that pitch, so that a
    # missed or halved F0 estimate cannot leave the source's harmonics in the envelope
    steady = float(np.median(f0[f0 > 0])) if np.any(f0 > 0) else 150.0
    f0_env = np.full_like(f0, steady)
    sp = pw.cheaptrick(seg, f0_env, tt, sr, fft_size=1024)
    ap = pw.d4c(seg, np.where(f0 > 0, f0_env, 0.0), tt, sr, fft_size=1024)
    n = len(f0)
    spf = sr * FRAME_S

    def frame(sample: int) -> int:
        return int(np.clip(round(sample / spf), 0, n))

    vowels = [(nm, frame(s), frame(e)) for nm, s, e in bounds if is_vowel_name(nm)]
    if not vowels:  # a syllable without a vowel (hm, ng): its longest phoneme is the nucleus
        vowels = sorted(((nm, frame(s), frame(e)) for nm, s, e in bounds),
                        key=lambda v: v[1] - v[2])[:1] or [("", 0, n)]
    nuc0, nuc1 = vowels[0][1], vowels[-1][2]
    # the onset phonemes before the first vowel, by class
    first_v = next((i for i, b in enumerate(bounds) if is_vowel_name(b[0])), len(bounds))
    onset = [(phoneme_class(nm), frame(s), frame(e)) for nm, s, e in bounds[:first_v]]
    glide = 0
    if espeak_voice.startswith("cmn"):
        # a Mandarin medial (and y-/w- before the vowel) belongs to the final: it starts the
        # nucleus, on the beat
        while onset and onset[-1][0] == "glide" and onset[-1][1] < nuc0:
            nuc0 = onset.pop()[1]
        glide = vowels[0][1] - nuc0
    son_kinds = ("nasal", "liquid") if espeak_voice.startswith("cmn") else ("nasal", "liquid", "glide")
    son0 = nuc0
    nasal = np.zeros(n, dtype=bool)
    while onset and onset[-1][0] in son_kinds and onset[-1][1] < son0:
        kind, s0, e0 = onset.pop()
        nasal[s0:e0] = kind == "nasal"
        son0 = s0
    if nuc1 - nuc0 < 2:
        nuc0, nuc1 = max(0, min(nuc0, n - 2)), min(n, max(nuc1, nuc0 + 2))
        son0, glide = min(son0, nuc0), 0
    name, h0, h1 = max(vowels, key=lambda v: v[2] - v[1])
    log_sp = np.log(np.maximum(sp, 1e-16))
    hold = _steady(log_sp, h0, h1, _hold_fraction(name))
    log_sp = _warp(log_sp, voice.formant_shift)
    # level: the vowel's median energy (0..5 kHz) is 0; the vowel itself is flattened
    band = int(5000 / 21.533)
    energy = np.log(np.mean(np.exp(log_sp[:, :band]), axis=1) + 1e-30)
    ref = float(np.median(energy[nuc0:nuc1]))
    log_sp -= ref
    level = energy[nuc0:nuc1] - ref
    if level.size >= 3:
        box = np.ones(min(5, level.size)) / min(5, level.size)
        level = np.convolve(np.pad(level, (len(box) // 2, len(box) - 1 - len(box) // 2), mode="edge"),
                            box, mode="valid")
    log_sp[nuc0:nuc1] -= level[:, None]
    log_sp, ap44 = _extend(log_sp, ap)
    voiced = f0 > 0
    voiced[nuc0:nuc1] = True
    hz = np.maximum(np.arange(log_sp.shape[1]) * (SYNTH_SR / FFT_SIZE), 1000.0)
    tilt_db = np.maximum(-voice.tilt_db_per_octave * np.log2(hz / 1000.0), -24.0)
    log_sp[voiced] += (tilt_db * (np.log(10.0) / 10.0))[None, :]  # dB -> natural log of power
    # a sung vowel is clean: at most a little breath noise, rising with frequency (espeak's
    # formant source fools d4c into reporting a noisy low band, which sounds as a rough
    # subharmonic hum under high notes)
    ap44[nuc0:nuc1] = np.minimum(ap44[nuc0:nuc1], _VOWEL_AP[None, :])
    # a sonorant onset (l, m, n, r; English w, y) is clearly softer than the vowel it leads into
    # (its voiced frames: the aspiration of t in "tr" is no hum and stays as it is)
    vowel_db = float(np.median(_band_db(log_sp[nuc0:nuc1])))
    _soften_sonorant(log_sp, [f for f in range(son0, nuc0) if voiced[f]], nasal, vowel_db)
    return Unit(log_sp, np.clip(ap44, 0.0, 1.0), voiced, (nuc0, nuc1), hold, tuple(spoken_names),
                sonorant=nuc0 - son0, glide=glide)

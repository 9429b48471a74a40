"""Shared pieces of melody and harmony writing: the learned statistics, meters, section kinds,
chord vocabularies per palette, and the lyric track of a score."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from yuefu.core.errors import ModelLoadError
from yuefu.core.score import Score, Track
from yuefu.core.theory import CHORD_QUALITIES, SCALES, Chord, Key, chord_symbol

#: Chord classes of the learned Roman-numeral states (12 roots x 5 classes).
CHORD_CLASSES = ("maj", "min", "dim", "aug", "sus")
_SUFFIX_CLASS = {
    "": "maj", "m": "min", "dim": "dim", "aug": "aug", "sus2": "sus", "sus4": "sus", "5": "maj",
    "6": "maj", "m6": "min", "7": "maj", "maj7": "maj", "m7": "min", "mmaj7": "min", "m7b5": "dim",
    "dim7": "dim", "7sus4": "sus", "add9": "maj", "madd9": "min", "9": "maj", "maj9": "maj", "m9": "min",
}
MAX_INTERVAL = 12


def interval_class(interval: int | None) -> int:
    """Class 0..7 of the previous melodic interval, as in ``train/melody.py`` (0: phrase start)."""
    if interval is None:
        return 0
    if interval <= -5:
        return 1
    if interval <= -3:
        return 2
    if interval < 0:
        return 3
    if interval == 0:
        return 4
    if interval <= 2:
        return 5
    if interval <= 4:
        return 6
    return 7


def _logp(counts: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    a = np.asarray(counts, dtype=np.float64) + alpha
    return np.log(a / a.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class MelodyStats:
    """The smoothed statistics of ``melody_pop909.json`` (log-probabilities unless said)."""

    ioi_given_pos: np.ndarray  # (16, 17) probabilities of IOI 0..16 sixteenths by position (col 0 = 0)
    final_duration: np.ndarray  # (33,) probabilities of phrase-final lengths 0..32 sixteenths
    final_position: np.ndarray  # (16,) probabilities
    start_position: np.ndarray  # (16,) probabilities
    rest: np.ndarray  # (33,) probabilities of rests 0..32 sixteenths between phrases
    interval: np.ndarray  # (8, 25) log P(interval | previous interval class)
    degree_chord: np.ndarray  # (5, 2, 12) log P(pc above chord root | chord class, strong)
    final_degree: np.ndarray  # (2, 12) log P(pc above tonic | mode) of phrase-final notes
    transitions: np.ndarray  # (2, 60, 60) log P(next chord state | chord state, mode), change only
    unigram: np.ndarray  # (2, 60) log P(chord state | mode)
    p_change_bar: float  # chance that the chord changes on a downbeat
    p_change_mid: float  # chance that it changes in the middle of a 4/4 bar
    reference: dict  # held-out histograms for the benchmark
    heldout: dict  # held-out log-likelihoods


def _arr(data: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(data[name], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise ModelLoadError(f"melody_pop909.json: field {name!r} is missing or not numeric; "
                             "rebuild it with `python train/melody.py`") from None
    if a.shape != shape or not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ModelLoadError(f"melody_pop909.json: field {name!r} has shape {a.shape}, expected {shape} "
                             "of counts >= 0; rebuild it with `python train/melody.py`")
    return a


@lru_cache(maxsize=1)
def load_stats() -> MelodyStats:
    """Load the shipped statistics (sha256 checked against the model registry).

    Raises
    ------
    ModelLoadError
        The file is missing, altered or malformed.
    """
    from yuefu.models import verified_path

    path = verified_path("melody_pop909")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{path}: not readable as JSON ({e}); reinstall yuefu") from None
    if not isinstance(data, dict) or data.get("format") != "yuefu-melody-stats" or data.get("version") != 1:
        raise ModelLoadError(f"{path}: not a version-1 yuefu melody statistics file")
    ioi = _arr(data, "ioi_given_pos", (16, 17)).copy()
    ioi[:, 0] = 0.0
    ioi[:, 1:] += 0.5
    ioi /= ioi.sum(axis=1, keepdims=True)
    beats = _arr(data, "chord_beats", (17,))
    change = _arr(data, "chord_change_beat", (4,))
    n_bars = max(1.0, float((beats * np.arange(17)).sum()) / 4.0)

    def prob(name: str, n: int) -> np.ndarray:
        a = _arr(data, name, (n,)) + 0.5
        return a / a.sum()

    trans = _arr(data, "chord_transitions", (2, 60, 60)) + 0.1
    for s in range(60):
        trans[:, s, s] = 0.0
    trans /= trans.sum(axis=-1, keepdims=True)
    return MelodyStats(
        ioi_given_pos=ioi,
        final_duration=prob("final_duration", 33),
        final_position=prob("final_position", 16),
        start_position=prob("start_position", 16),
        rest=prob("rest", 33),
        interval=_logp(_arr(data, "interval_given_prev", (8, 25))),
        degree_chord=_logp(_arr(data, "degree_given_chord", (5, 2, 12))),
        final_degree=_logp(_arr(data, "final_degree", (2, 12))),
        transitions=np.log(np.maximum(trans, 1e-12)),
        unigram=_logp(_arr(data, "chord_unigram", (2, 60)), 0.1),
        p_change_bar=float(np.clip(change[0] / n_bars, 0.05, 0.95)),
        p_change_mid=float(np.clip(change[2] / n_bars, 0.05, 0.95)),
        reference=dict(data.get("heldout_reference", {})),
        heldout=dict(data.get("heldout_loglik_nats", {})),
    )


# -- meters -------------------------------------------------------------------------------------
def bar_beats_of(meter: tuple[int, int]) -> float:
    return meter[0] * 4.0 / meter[1]


def strong_positions(meter: tuple[int, int]) -> tuple[float, ...]:
    """Strong beats within a bar, in quarter notes from the barline; chords may change there.

    4/4: beats 1 and 3; 3/4 and 2/4: the downbeat; 6/8: both dotted-quarter beats; 12/8: beats
    1 and 3 (of four dotted quarters).
    """
    return {(4, 4): (0.0, 2.0), (3, 4): (0.0,), (2, 4): (0.0,), (6, 8): (0.0, 1.5),
            (12, 8): (0.0, 3.0)}.get((meter[0], meter[1]), (0.0,))


def is_strong(beat: float, meter: tuple[int, int]) -> bool:
    """Whether an onset (beats from the start, barlines every bar from 0) falls on a strong beat."""
    pos = beat % bar_beats_of(meter)
    return any(abs(pos - s) < 1e-3 for s in strong_positions(meter)) or abs(pos - bar_beats_of(meter)) < 1e-3


def score_meter(score: Score, default: tuple[int, int] = (4, 4)) -> tuple[int, int]:
    sigs = sorted(score.time_signatures, key=lambda s: s.beat)
    if not sigs:
        return default
    return (sigs[0].numerator, sigs[0].denominator)


# -- sections -----------------------------------------------------------------------------------
_KIND_WORDS = {
    "verse": "verse", "v": "verse", "主歌": "verse", "a": "verse",
    "prechorus": "prechorus", "pre": "prechorus", "build": "prechorus", "导歌": "prechorus",
    "预副歌": "prechorus", "chorus": "chorus", "hook": "chorus", "refrain": "chorus", "副歌": "chorus",
    "c": "chorus", "bridge": "bridge", "middle": "bridge", "桥段": "bridge", "b": "bridge",
    "intro": "intro", "前奏": "intro", "outro": "outro", "coda": "outro", "尾奏": "outro",
    "ending": "outro", "tag": "outro",
}


def section_kind(name: str) -> str:
    """``"Verse 2"`` -> ``"verse"``; ``"pre-chorus"`` -> ``"prechorus"``; unknown -> ``"other"``."""
    s = re.sub(r"[\s\d_\-.:()]+", "", name.lower())
    return _KIND_WORDS.get(s, "chorus" if "chorus" in s and "pre" not in s else
                           "prechorus" if "pre" in s else "other")


# -- keys and chords ----------------------------------------------------------------------------
def mode_family(key: Key) -> int:
    """0 for a major-like mode (a major third above the tonic), 1 for a minor-like one."""
    return 0 if 4 in SCALES[key.mode] else 1


def melody_scale(key: Key, palette: str) -> tuple[int, ...]:
    """Pitch classes the melody may use: the key's scale, or its pentatonic subset."""
    pcs = key.scale_pitch_classes()
    if palette == "pentatonic" and len(pcs) == 7:
        rel = SCALES[key.mode]
        keep = (0, 2, 4, 7, 9) if mode_family(key) == 0 else (0, 3, 5, 7, 10)
        pcs = tuple((key.tonic + r) % 12 for r in rel if r in keep) or pcs
    return pcs


@dataclass(frozen=True)
class ChordOption:
    """A chord the harmoniser may choose: root relative to the tonic, yuefu quality suffix."""

    rel: int
    suffix: str
    prior: float = 0.0

    @property
    def cls(self) -> str:
        return _SUFFIX_CLASS.get(self.suffix, "maj")

    @property
    def state(self) -> int:
        return self.rel * len(CHORD_CLASSES) + CHORD_CLASSES.index(self.cls)

    def tones(self, tonic: int) -> frozenset[int]:
        return frozenset((tonic + self.rel + i) % 12 for i in CHORD_QUALITIES[self.suffix])

    def core_tones(self, tonic: int) -> frozenset[int]:
        """Root, third (or suspension) and fifth: the tones without a seventh or added ninth."""
        return frozenset((tonic + self.rel + i) % 12 for i in CHORD_QUALITIES[self.suffix][:3])

    def symbol(self, key: Key) -> str:
        return chord_symbol(Chord((key.tonic + self.rel) % 12, self.suffix), flats=key.sharps() < 0)

    @property
    def is_tonic(self) -> bool:
        return self.rel == 0 and self.cls in ("maj", "min")

    @property
    def is_dominant(self) -> bool:
        return self.rel == 7 or (self.rel == 11 and self.cls == "dim")


_MAJOR_TRIADS = [ChordOption(0, ""), ChordOption(2, "m"), ChordOption(4, "m", -0.3), ChordOption(5, ""),
                 ChordOption(7, ""), ChordOption(9, "m")]
_MINOR_TRIADS = [ChordOption(0, "m"), ChordOption(3, ""), ChordOption(5, "m"), ChordOption(7, "m", -0.3),
                 ChordOption(8, ""), ChordOption(10, ""), ChordOption(7, "", -0.5)]


def chord_options(key: Key, palette: str) -> list[ChordOption]:
    """The chords a palette offers in a key (see :data:`yuefu.core.motive.PALETTES`)."""
    major = mode_family(key) == 0
    base = list(_MAJOR_TRIADS if major else _MINOR_TRIADS)
    if palette == "diatonic":
        return base + ([ChordOption(11, "dim", -1.5)] if major else [ChordOption(2, "dim", -1.5)])
    if palette == "sevenths":
        sev = ([ChordOption(0, "maj7", 0.2), ChordOption(2, "m7", 0.2), ChordOption(5, "maj7", 0.2),
                ChordOption(7, "7", 0.2), ChordOption(9, "m7", 0.2), ChordOption(4, "m7")] if major else
               [ChordOption(0, "m7", 0.2), ChordOption(3, "maj7", 0.2), ChordOption(5, "m7", 0.2),
                ChordOption(8, "maj7", 0.2), ChordOption(10, "7", 0.0), ChordOption(7, "7", -0.3)])
        return base + sev
    if palette == "pentatonic":
        extra = ([ChordOption(0, "sus2", -0.3), ChordOption(7, "sus4", -0.3), ChordOption(2, "sus4", -0.6)]
                 if major else [ChordOption(0, "sus4", -0.3), ChordOption(10, "sus2", -0.5)])
        return [c for c in base if not (c.rel == 7 and c.suffix == "" and not major)] + extra
    if palette == "minor_modal":
        if major:
            return base + [ChordOption(8, "", -0.3), ChordOption(10, "", -0.2), ChordOption(5, "m", -0.5)]
        return [c for c in base if not (c.rel == 7 and c.suffix == "")]
    if palette == "power":
        roots = (0, 5, 7, 9, 10, 2) if major else (0, 3, 5, 7, 8, 10)
        return [ChordOption(r, "5", 0.6) for r in roots] + base + (
            [ChordOption(10, "", -0.2)] if major else [])
    if palette == "classical":
        if major:
            return base + [ChordOption(7, "7", 0.2), ChordOption(11, "dim", -0.8), ChordOption(2, "7", -0.6),
                           ChordOption(4, "7", -0.8), ChordOption(0, "7", -1.0), ChordOption(9, "7", -1.2)]
        return base + [ChordOption(7, "7", 0.2), ChordOption(11, "dim7", -0.8), ChordOption(2, "dim", -0.8),
                       ChordOption(0, "7", -1.0)]
    return base


def transition_matrix(options: list[ChordOption], family: int, stats: MelodyStats) -> np.ndarray:
    """log P(next | previous) among ``options`` for a change of chord (K x K; the diagonal unused)."""
    k = len(options)
    t = np.full((k, k), -np.inf)
    for i, a in enumerate(options):
        row = np.array([stats.transitions[family, a.state, b.state] if a.state != b.state else math.log(0.02)
                        for b in options])
        row[i] = -np.inf
        row = row - np.logaddexp.reduce(row[np.isfinite(row)])
        t[i] = row
    return t


# -- scores -------------------------------------------------------------------------------------
def lyric_or_melody_track(score: Score) -> Track | None:
    """The vocal (or melody) track of a score: the lyric track, else the first melodic one."""
    t = score.lyric_track()
    if t is not None:
        return t
    for role in ("vocal", "melody", "lead"):
        ts = score.tracks_with_role(role)
        if ts:
            return ts[0]
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    return pitched[0] if pitched else None


def draw_from_logits(logits: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probabilities softmax(``logits``) (``-inf`` logits never drawn)."""
    m = np.max(logits)
    p = np.exp(logits - m)
    p /= p.sum()
    return int(rng.choice(p.size, p=p))

"""Benchmark: the AI singer (``yuefu.sing``) against the score it sings, side by side with pysinsy.

Sings test melodies made here in code (Mandarin and English lyrics, both voices, 66-132 BPM,
rests, melismas, long notes with vibrato; plus two short songs from the yuefu songwriter), tracks
F0 on the vocal (librosa's pyin, 10 ms hop, each voiced frame refined by WORLD's StoneMask) and
compares it note by note with the score. Targets (issue 4):

* pitch: median over notes of |note pitch - score pitch| <= 20 cents, where a note's pitch is
  the median F0 over the stable middle 60% of the note (so vibrato averages out); >= 95% of
  notes within 50 cents;
* voicing: >= 90% of each note's stable middle 60% voiced (judged: >= 95% of notes);
* vowel onsets within 30 ms of the score's note onsets (judged: >= 95% of measured syllables);
* no clipping (no sample >= 0.999) and no clicks at note joins;
* >= 5x real time, one process, imports and a warm-up call excluded.

The anchor is pysinsy (the HTS singer Sinsy, its bundled Japanese voice ``nitech_jp_song070``):
one melody that both sing ("ら" for pysinsy, "la" for yuefu), pitch accuracy and speed measured
the same way in the same run. Intelligibility: 40 common English words, each sung on one 0.6 s
note between rests by both voices, recognised by pocketsphinx with a grammar of exactly those
words; the control is espeak-ng speaking the same words.

Every measure is a small function below; ``--selftest`` (and the full run, in its last table)
checks each on synthetic signals with known answers.

Usage::

    python benchmarks/singer.py             # everything (~3-5 minutes on 2 cores)
    python benchmarks/singer.py --quick     # one melody, one voice: a smoke check
    python benchmarks/singer.py --json      # the results as JSON instead of tables
    python benchmarks/singer.py --selftest  # the measurement checks only
    python benchmarks/singer.py --standin   # measure a simple additive synth instead of yuefu.sing
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _machine import machine as machine_line

TARGET_CENTS_MEDIAN = 20.0
TARGET_WITHIN_50 = 0.95
TARGET_VOICED = 0.90
TARGET_VOWEL_MS = 30.0
TARGET_SHARE = 0.95  # the share of notes that must meet a per-note target (voicing, vowel onset)
TARGET_RTF = 5.0
CLIP_LEVEL = 0.999

SR_ANALYSIS = 16000  # F0, vowel onsets and recognition run at 16 kHz; clicks at the output rate
HOP = 160  # 10 ms
F0_MIN, F0_MAX = 65.0, 1000.0

# -- test material ------------------------------------------------------------------------------
# (MIDI pitch or None for a rest, beats, lyric). "-" holds the previous vowel (a melisma); an
# English syllable ending in "-" continues its word on the next note.
Line = list[tuple[int | None, float, str | None]]

ZH_BALLAD: Line = [  # 72 BPM, female, C4-C5; a 4-beat (3.3 s) and a 3-beat final note
    (None, 1, None),
    (64, 1, "夏"), (67, 1, "夜"), (69, .5, "的"), (67, .5, "海"), (64, 2, "边"), (None, 1, None),
    (62, 1, "风"), (64, 1, "轻"), (67, .5, "轻"), (69, .5, "-"), (72, 1, "地"), (71, 3, "吹"),
    (None, 1, None),
    (69, 1, "星"), (67, 1, "光"), (64, 1, "落"), (62, .5, "在"), (60, .5, "我"), (62, 1, "心"),
    (64, .5, "-"), (62, .5, "-"), (60, 4, "上"), (None, 1, None),
]
EN_POP: Line = [  # 112 BPM, male, C3-D4
    (None, 1, None),
    (55, .5, "walk"), (57, .5, "with"), (59, 1, "me"), (57, .5, "down"), (55, .5, "the"),
    (52, 1, "riv-"), (50, .5, "er"), (52, 1.5, "road"), (None, 1, None),
    (55, .5, "the"), (57, .5, "ci-"), (59, .5, "ty"), (62, .5, "lights"), (60, 1, "are"),
    (59, .5, "call-"), (57, .5, "ing"), (55, .5, "me"), (57, .5, "-"), (59, 2.5, "home"),
    (None, 1, None),
    (52, .5, "and"), (50, .5, "I"), (48, 1, "will"), (50, .5, "fol-"), (52, .5, "low"),
    (55, 1, "you"), (57, .5, "to"), (55, .5, "-"), (52, .5, "-"), (50, .5, "-"), (48, 3, "night"),
    (None, 1, None),
]
ZH_FAST: Line = [  # 132 BPM, male, D3-E4, eighth notes
    (None, 1, None),
    (57, .5, "我"), (57, .5, "们"), (59, .5, "一"), (62, .5, "起"), (64, .5, "走"), (62, .5, "在"),
    (59, .5, "那"), (57, .5, "条"), (55, .5, "小"), (57, .5, "路"), (59, 1.5, "上"), (None, 1, None),
    (62, .5, "看"), (62, .5, "天"), (64, .5, "边"), (62, .5, "的"), (59, .5, "晚"), (57, 1, "霞"),
    (55, .5, "慢"), (52, .5, "慢"), (50, .5, "地"), (52, .5, "-"), (55, 2, "红"), (None, 1, None),
]
EN_BALLAD: Line = [  # 66 BPM, female, E4-E5, long notes
    (None, 1, None),
    (64, 1, "hold"), (67, .5, "the"), (69, 1.5, "light"), (71, .5, "a"), (72, .5, "lit-"),
    (71, .5, "tle"), (69, .5, "lon-"), (67, 2, "ger"), (None, 1, None),
    (72, 1, "stay"), (74, .5, "un-"), (76, 1, "til"), (74, .5, "the"), (72, .5, "morn-"),
    (71, .5, "ing"), (72, .5, "-"), (69, 3, "comes"), (None, 1, None),
]
LA_MELODY: Line = [  # 100 BPM, bar-aligned (4/4) for the MusicXML of the anchor, D4-D5
    (None, 4, None),
    (62, 1, "la"), (64, 1, "la"), (66, 1, "la"), (67, 1, "la"),
    (69, 2, "la"), (67, 1, "la"), (64, 1, "la"),
    (66, .5, "la"), (67, .5, "la"), (69, .5, "la"), (71, .5, "la"), (74, 2, "la"),
    (None, 2, None), (72, 1, "la"), (71, 1, "la"),
    (69, 1, "la"), (67, 1, "la"), (66, 1, "la"), (64, 1, "la"),
    (62, 3, "la"), (None, 1, None),
    (None, 4, None),
]
WORDS = ("one two three four five six eight nine ten red green blue black white sun moon star rain "
         "snow wind fire love heart home road night day song dream light sea sky tree bird fish "
         "bread milk cat dog book").split()


@dataclass
class Case:
    name: str
    voice: str
    lang: str | None
    bpm: float
    line: Line | None = None
    score: Any = None  # a Score (made from ``line`` when None)
    what: str = ""

    def make_score(self):  # noqa: ANN201 - a Score; yuefu imported lazily
        if self.score is None:
            self.score = line_score(self.line or [], self.bpm, self.name)
        return self.score


def line_score(line: Line, bpm: float, title: str = ""):  # noqa: ANN201
    """A one-track Score (role vocal) from (pitch, beats, lyric) tuples; ``None`` pitches rest."""
    from yuefu.core.score import Note, Score, Tempo, Track

    s = Score(tempos=[Tempo(0, bpm)], title=title)
    t = s.add_track(Track("vocal", role="vocal"))
    beat = 0.0
    for pitch, beats, lyric in line:
        if pitch is not None:
            t.notes.append(Note(pitch, beat, beats, 90, lyric=lyric))
        beat += beats
    return s


def melody_cases(quick: bool) -> list[Case]:
    cases = [Case("zh ballad", "female", "zh", 72, ZH_BALLAD, what="72 BPM, C4-C5, 3.3 s notes")]
    if quick:
        return cases
    cases += [
        Case("en pop", "male", "en", 112, EN_POP, what="112 BPM, C3-D4, melismas"),
        Case("zh fast", "male", "zh", 132, ZH_FAST, what="132 BPM eighths, D3-E4"),
        Case("en ballad", "female", "en", 66, EN_BALLAD, what="66 BPM, E4-E5, long notes"),
    ]
    return cases


def songwriter_cases() -> list[Case]:
    """Two 30-second songs from the songwriter's symbolic stages (its vocal track), if it runs."""
    import dataclasses

    from yuefu.core.io import read_midi
    from yuefu.core.spec import SongSpec
    from yuefu.pipeline import load_pipeline, run_pipeline
    from yuefu.pipeline.song import song_pipeline_text

    out = []
    for lang, voice, theme, style in (("zh", "female", "夏夜的海边", "ballad"),
                                      ("en", "male", "city lights in the rain", "pop")):
        spec = SongSpec(theme=theme, emotion="nostalgic", style=style, language=lang, length_s=30.0,
                        voice=voice, seed=1)
        pipe = load_pipeline(text=song_pipeline_text(spec))
        keep = ("motive", "lyrics", "melody", "harmony", "arrange")
        pipe = dataclasses.replace(pipe, stages=tuple(s for s in pipe.stages if s.name in keep),
                                   params={k: v for k, v in pipe.params.items() if k in keep})
        with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
            run_pipeline(pipe, Path(tmp) / "song")
            song = read_midi(Path(tmp) / "song" / "song.mid")
        vocal = song.lyric_track()
        if vocal is None:
            continue
        song.tracks = [vocal]
        bpm = song.tempos[0].bpm
        out.append(Case(f"song {lang}", voice, lang, bpm, score=song,
                        what=f"songwriter, {style}, {bpm:.0f} BPM, {song.duration_s:.0f} s"))
    return out


# -- the score side: which notes, at what times and pitches -------------------------------------

@dataclass
class Expected:
    """One sung note as the score asks for it (pitch after the singer's transposition)."""

    on: float
    off: float
    midi: float
    lyric: str | None
    new_syllable: bool  # a syllable starts here (not a melisma continuation)
    prev_off: float | None  # end of the previous note (None after a rest longer than 50 ms)


def expected_notes(score, sung_notes=None) -> tuple[list[Expected], float]:  # noqa: ANN001
    """The lyric track's notes in seconds, and the transposition the singer applied (semitones).

    The transposition is the median of (sung pitch - score pitch) over the singer's notes matched
    to the score's by onset (within 20 ms); it is 0 without ``sung_notes``.
    """
    track = score.lyric_track() or score.tracks[0]
    notes = sorted(track.notes, key=lambda n: n.onset)
    secs = [score.seconds(n) for n in notes]
    shift = 0.0
    if sung_notes:
        ons = np.array([s.onset_s for s in sung_notes])
        diffs = []
        for (on, _off), n in zip(secs, notes, strict=True):
            k = int(np.argmin(np.abs(ons - on)))
            if abs(ons[k] - on) < 0.02:
                diffs.append(sung_notes[k].pitch - n.pitch)
        shift = float(np.median(diffs)) if diffs else 0.0
    out: list[Expected] = []
    for i, (n, (on, off)) in enumerate(zip(notes, secs, strict=True)):
        lyric = n.lyric
        melisma = lyric is None or lyric.strip() in ("-", "_", "~", "")
        prev_off = secs[i - 1][1] if i and on - secs[i - 1][1] < 0.05 else None
        out.append(Expected(on, off, n.pitch + shift, lyric, not melisma, prev_off))
    return out, shift


# -- measures ---------------------------------------------------------------------------------

def import_old(name: str):  # noqa: ANN201 - a module
    """Import pyworld or pysinsy beside setuptools >= 81, which no longer ships ``pkg_resources``
    (they use it only for their version and their data folder): a small stand-in is registered
    for the import and removed after."""
    import importlib
    import importlib.metadata
    import importlib.util
    import types

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            raise

    def resource_filename(pkg: str, rel: str) -> str:
        spec = importlib.util.find_spec(pkg)
        base = list(spec.submodule_search_locations or [])[0] if spec else "."
        return os.path.join(base, rel)

    stub = types.ModuleType("pkg_resources")
    stub.__dict__["resource_filename"] = resource_filename
    stub.__dict__["get_distribution"] = lambda n: types.SimpleNamespace(
        version=importlib.metadata.version(n))
    sys.modules["pkg_resources"] = stub
    try:
        return importlib.import_module(name)
    finally:
        del sys.modules["pkg_resources"]


def to_analysis_rate(y: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    y = np.asarray(y, dtype=np.float64).reshape(-1)
    return y if sr == SR_ANALYSIS else librosa.resample(y, orig_sr=sr, target_sr=SR_ANALYSIS)


@dataclass
class F0Track:
    times: np.ndarray  # frame centres, s
    f0: np.ndarray  # Hz, NaN where unvoiced
    voiced: np.ndarray  # bool


def track_f0(y16: np.ndarray, fmin: float = F0_MIN, fmax: float = F0_MAX) -> F0Track:
    """F0 every 10 ms: librosa's pyin (64 ms frames, 10-cent grid, its HMM's voicing decision),
    then each voiced frame refined off the grid by WORLD's StoneMask (instantaneous frequency
    of the harmonics around pyin's estimate); a refinement that moves more than 50 cents is
    discarded. Checked in :func:`selftest`: sines and harmonic tones of known pitch, steady and
    with vibrato, read within a cent or two."""
    import librosa

    pyworld = import_old("pyworld")
    f0, voiced, _ = librosa.pyin(y16, fmin=fmin, fmax=fmax, sr=SR_ANALYSIS, frame_length=1024,
                                 hop_length=HOP, center=True)
    times = np.arange(len(f0)) * HOP / SR_ANALYSIS
    coarse = np.where(voiced & np.isfinite(f0), f0, 0.0)
    fine = pyworld.stonemask(np.ascontiguousarray(y16, dtype=np.float64), coarse, times, SR_ANALYSIS)
    ok = (coarse > 0) & (fine > 0)
    ok &= np.abs(1200 * np.log2(np.where(ok, fine, 1.0) / np.where(ok, coarse, 1.0))) < 50
    out = np.where(ok, fine, coarse)
    out = np.where(out > 0, out, np.nan)
    return F0Track(times, out, voiced & np.isfinite(out))


def midi_to_hz(m: float) -> float:
    return 440.0 * 2.0 ** ((m - 69.0) / 12.0)


@dataclass
class NotePitch:
    error_cents: float  # |median F0 over the stable part - target|; NaN when no frame is voiced
    frame_error_cents: float  # median of |F0 - target| frame by frame (vibrato included)
    voiced: float  # voiced share of the stable part's frames


def note_pitch(tr: F0Track, on: float, off: float, midi: float) -> NotePitch:
    """Pitch and voicing of one note over its stable middle 60% (from 20% to 80% of its length).

    The note's sung pitch is the median F0 (in cents) of the voiced frames there, so a
    symmetric vibrato does not count as error; ``frame_error_cents`` keeps the frame-by-frame
    median for reference."""
    d = off - on
    m = (tr.times >= on + 0.2 * d) & (tr.times <= off - 0.2 * d)
    if not m.any():  # a note shorter than a few frames: take its nearest frame
        m = np.zeros_like(tr.voiced)
        m[int(np.argmin(np.abs(tr.times - (on + off) / 2)))] = True
    v = tr.voiced[m]
    if not v.any():
        return NotePitch(float("nan"), float("nan"), 0.0)
    cents = 1200.0 * np.log2(tr.f0[m][v] / midi_to_hz(midi))
    return NotePitch(abs(float(np.median(cents))), float(np.median(np.abs(cents))), float(v.mean()))


def _band_energy_db(y16: np.ndarray, lo: float = 300.0, hi: float = 4000.0, win_s: float = 0.010,
                    hop_s: float = 0.002) -> tuple[np.ndarray, np.ndarray]:
    """Energy (dB) of the 300-4000 Hz band (vowel formants; nasal murmur and breath noise lie
    mostly outside or far below) in 10 ms windows every 2 ms; frame times are window centres."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [lo, hi], btype="bandpass", fs=SR_ANALYSIS, output="sos")
    b = sosfiltfilt(sos, y16)
    w, h = int(win_s * SR_ANALYSIS), int(hop_s * SR_ANALYSIS)
    c = np.concatenate([[0.0], np.cumsum(b * b)])
    starts = np.arange(0, max(len(b) - w, 0) + 1, h)
    e = (c[starts + w] - c[starts]) / w
    return (starts + w / 2) / SR_ANALYSIS, 10 * np.log10(e + 1e-12)


def _periodicity(y16: np.ndarray, t: np.ndarray, hz: float) -> np.ndarray:
    """Normalised autocorrelation at the period of ``hz`` (best lag within +-10%) in a window of
    2.2 periods (at least 10 ms) centred on each time ``t``: near 1 for a vowel on that pitch,
    low for noise (an unvoiced consonant, breath) and for silence."""
    lag_lo = int(SR_ANALYSIS / (hz * 1.1))
    lag_hi = int(np.ceil(SR_ANALYSIS / (hz / 1.1)))
    w = max(int(2.2 * SR_ANALYSIS / hz), int(0.010 * SR_ANALYSIS))
    pad = np.concatenate([np.zeros(w), y16, np.zeros(w + lag_hi)])
    idx = (np.round(t * SR_ANALYSIS).astype(int) - w // 2 + w)[:, None] + np.arange(w + lag_hi)[None, :]
    fr = pad[idx]
    a = fr[:, :w]
    best = np.zeros(len(t))
    ea = np.sum(a * a, axis=1)
    for lag in range(lag_lo, lag_hi + 1):
        b = fr[:, lag:lag + w]
        r = np.sum(a * b, axis=1) / np.sqrt(ea * np.sum(b * b, axis=1) + 1e-12)
        best = np.maximum(best, r)
    return best


def vowel_onset(y16: np.ndarray, note: Expected, energy: tuple[np.ndarray, np.ndarray],
                drop_db: float = 9.0) -> float | None:
    """Where the vowel of a syllable starts in the audio, in seconds (None: no boundary to find).

    A frame (2 ms hop) is *vowel* when it is periodic at the note's pitch (normalised
    autocorrelation >= 0.5, :func:`_periodicity`) and its 300-4000 Hz band energy is within
    ``drop_db`` of the note's own level (median over its stable middle 60%). The vowel onset is
    the start of the run of vowel frames that holds the note's anchor, 20% into the note (at
    most 150 ms): walk back from the anchor while frames stay vowel (gaps of one frame allowed).
    If the anchor is not vowel (a late vowel), it is the first frame after the anchor that
    starts 30 ms of vowel. If the run reaches back past 250 ms before the onset or into the
    previous note's stable part, there is no acoustic boundary (a vowel-to-vowel legato join)
    and the syllable is not measured. Unvoiced consonants fail the periodicity test, rests and
    voiced consonants (nasals, l) the energy test. Checked in :func:`selftest` on synthetic
    syllables (silence, noise or nasal before a vowel) whose vowel starts at a known time.
    """
    te, edb = energy
    d = note.off - note.on
    stable = (te >= note.on + 0.2 * d) & (te <= note.off - 0.2 * d)
    if not stable.any():
        return None
    level = float(np.median(edb[stable]))
    lo = note.on - 0.25
    hi = note.on + 0.5 * d
    sel = (te >= lo) & (te <= hi)
    t = te[sel]
    if len(t) < 3:
        return None
    hz = midi_to_hz(note.midi)
    vowel = (_periodicity(y16, t, hz) >= 0.5) & (edb[sel] >= level - drop_db)
    anchor = note.on + min(0.2 * d, 0.15)
    k = int(np.searchsorted(t, anchor))
    k = min(k, len(t) - 1)
    if vowel[k]:
        j = k
        while j > 0 and (vowel[j - 1] or (j > 1 and vowel[j - 2])):
            j -= 1
        if j == 0:
            return None
        return float(t[j])
    need = int(round(0.030 / 0.002))
    for j in range(k, len(t) - need):
        if vowel[j:j + need].all():
            return float(t[j])
    return None


def clipping(y: np.ndarray) -> tuple[int, float]:
    """Samples at or beyond 0.999 full scale, and the peak in dBFS."""
    a = np.abs(np.asarray(y, dtype=np.float64))
    peak = float(a.max()) if a.size else 0.0
    return int(np.sum(a >= CLIP_LEVEL)), 20 * np.log10(peak + 1e-12)


def join_clicks(y: np.ndarray, sr: int, joins: list[float], *, local_db: float = 10.0,
                neigh_db: float = 6.0, floor_db: float = -70.0, hp_hz: float = 8000.0,
                debug: bool = False) -> list[float]:
    """Click score (dB) at each note join; a join with a score > 0 has a click.

    The signal is high-passed at ``hp_hz`` (8 kHz; 8th-order Butterworth, zero phase) and its
    energy taken in 1 ms frames. Within +-10 ms of the join, the loudest frame is compared (a)
    with the frames 2-3 ms either side of it and (b) with the *loudest* frame of the +-60 ms
    neighbourhood outside that window. A click is an impulse that the voice does not otherwise
    make: it stands >= ``local_db`` above the frames a few ms away *and* >= ``neigh_db`` above
    anything nearby (and above ``floor_db`` dBFS). Consonant noise and plosive bursts last tens
    of ms, so they fail (a); the voice's own glottal pulses recur every period, so they fail (b).
    The band starts at 8 kHz, not lower, because a bright voice's pulses carry energy to ~6 kHz
    and would mask real clicks there. Score = min(a - local_db, b - neigh_db); -inf below the
    floor. Checked in :func:`selftest` on a mellow and a bright synthetic vowel: a phase jump,
    a 0.02 impulse, a step onset and a hard cut are found; a phase-continuous pitch join, a
    10 ms ramped onset, an "s" and a plosive burst at the join are not.
    """
    from scipy.signal import butter, sosfiltfilt

    y = np.asarray(y, dtype=np.float64).reshape(-1)
    sos = butter(8, hp_hz, btype="highpass", fs=sr, output="sos")
    h = sosfiltfilt(sos, y)
    fl = sr // 1000
    n = len(h) // fl
    e = 10 * np.log10(np.mean(h[: n * fl].reshape(n, fl) ** 2, axis=1) + 1e-14)
    out = []
    for tj in joins:
        c = int(tj * sr / fl)
        w = np.arange(max(c - 10, 0), min(c + 11, n))
        if len(w) == 0:
            continue
        k = int(w[np.argmax(e[w])])
        peak = float(e[k])
        if peak < floor_db:
            out.append(float("-inf"))
            continue
        side = [i for i in (k - 3, k - 2, k + 2, k + 3) if 0 <= i < n]
        side_db = 10 * np.log10(np.mean(10 ** (e[side] / 10)))
        nb = [i for i in range(c - 60, c + 61) if 0 <= i < n and abs(i - c) > 10]
        nb_db = float(np.max(e[nb])) if nb else -140.0
        if debug:
            print(f"join {tj:.3f}: peak {peak:.1f} dB at {k * fl / sr:.4f} s, side {side_db:.1f}, "
                  f"neighbourhood max {nb_db:.1f}")
        out.append(min(peak - side_db - local_db, peak - nb_db - neigh_db))
    return out


def note_joins(notes: list[Expected]) -> list[float]:
    """Every note onset and offset (a legato join counted once)."""
    ts = sorted({round(t, 4) for n in notes for t in (n.on, n.off)})
    out: list[float] = []
    for t in ts:
        if not out or t - out[-1] > 0.005:
            out.append(t)
    return out


# -- measuring one rendition ------------------------------------------------------------------

@dataclass
class Measured:
    name: str
    notes: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    transpose: float = 0.0
    errors: list[float] = field(default_factory=list)  # per note, cents (NaN: unvoiced)
    frame_errors: list[float] = field(default_factory=list)
    voiced: list[float] = field(default_factory=list)
    vowel_ms: list[float] = field(default_factory=list)  # measured - score onset, per syllable
    vowel_worst: list[tuple[float, str]] = field(default_factory=list)  # (ms, "syllable @ s (piece)")
    vowel_unmeasured: int = 0  # legato vowel-to-vowel joins: no boundary in the audio
    vowel_missing: int = 0  # a syllable whose vowel was not found at all
    claimed_ms: list[float] = field(default_factory=list)  # singer's vowel_onset_s - score onset
    clipped: int = 0
    peak_dbfs: float = -140.0
    joins: int = 0
    clicks: int = 0
    worst_click_db: float = float("-inf")
    what: str = ""

    def add(self, o: Measured) -> None:
        for k in ("notes", "audio_s", "wall_s", "vowel_unmeasured", "vowel_missing", "clipped",
                  "joins", "clicks"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        for k in ("errors", "frame_errors", "voiced", "vowel_ms", "claimed_ms", "vowel_worst"):
            getattr(self, k).extend(getattr(o, k))
        self.peak_dbfs = max(self.peak_dbfs, o.peak_dbfs)
        self.worst_click_db = max(self.worst_click_db, o.worst_click_db)

    # summaries
    @property
    def median_error(self) -> float:
        e = np.nan_to_num(np.array(self.errors, dtype=float), nan=1200.0)
        return float(np.median(e)) if len(e) else float("nan")

    @property
    def within_50(self) -> float:
        e = np.nan_to_num(np.array(self.errors, dtype=float), nan=1200.0)
        return float(np.mean(e <= 50.0)) if len(e) else float("nan")

    @property
    def voiced_ok(self) -> float:
        return float(np.mean(np.array(self.voiced) >= TARGET_VOICED)) if self.voiced else float("nan")

    @property
    def vowel_ok(self) -> float:
        n = len(self.vowel_ms) + self.vowel_missing
        return float(np.sum(np.abs(self.vowel_ms) <= TARGET_VOWEL_MS)) / n if n else float("nan")

    @property
    def rtf(self) -> float:
        return self.audio_s / self.wall_s if self.wall_s > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        v = np.array(self.vowel_ms, dtype=float)
        return {
            "name": self.name, "what": self.what, "notes": self.notes, "audio_s": round(self.audio_s, 2),
            "wall_s": round(self.wall_s, 3), "x_real_time": round(self.rtf, 2),
            "transpose_semitones": self.transpose,
            "median_abs_cents": round(self.median_error, 1),
            "within_50_cents": round(self.within_50, 3),
            "median_abs_cents_frames": round(float(np.nanmedian(self.frame_errors)), 1)
            if self.frame_errors else None,
            "voiced_mean": round(float(np.mean(self.voiced)), 3) if self.voiced else None,
            "voiced_min": round(float(np.min(self.voiced)), 3) if self.voiced else None,
            "notes_voiced_90": round(self.voiced_ok, 3),
            "vowel_onset_median_ms": round(float(np.median(v)), 1) if len(v) else None,
            "vowel_onset_median_abs_ms": round(float(np.median(np.abs(v))), 1) if len(v) else None,
            "vowel_onset_p95_abs_ms": round(float(np.percentile(np.abs(v), 95)), 1) if len(v) else None,
            "vowel_within_30ms": round(self.vowel_ok, 3),
            "vowel_measured": len(v), "vowel_not_found": self.vowel_missing,
            "vowel_legato_unmeasured": self.vowel_unmeasured,
            "claimed_vowel_onset_max_abs_ms": round(float(np.max(np.abs(self.claimed_ms))), 1)
            if self.claimed_ms else None,
            "vowel_over_30ms": [f"{w} {ms:+.0f} ms" for ms, w in
                                sorted(self.vowel_worst, key=lambda x: -abs(x[0]))],
            "clipped_samples": self.clipped, "peak_dbfs": round(self.peak_dbfs, 2),
            "joins": self.joins, "clicks": self.clicks,
            "worst_click_score_db": None if not np.isfinite(self.worst_click_db)
            else round(self.worst_click_db, 1),
        }


def measure(name: str, y: np.ndarray, sr: int, notes: list[Expected], *, wall_s: float,
            clip_scale: float = 1.0, sung_notes=None, what: str = "") -> Measured:  # noqa: ANN001
    """All the per-note measures of one rendition against its score."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    m = Measured(name, notes=len(notes), audio_s=len(y) / sr, wall_s=wall_s, what=what)
    m.clipped, m.peak_dbfs = clipping(y / clip_scale)
    y = y / clip_scale
    y16 = to_analysis_rate(y, sr)
    lo = min(midi_to_hz(n.midi) for n in notes)
    hi = max(midi_to_hz(n.midi) for n in notes)
    tr = track_f0(y16, fmin=max(F0_MIN, lo / 2 ** (7 / 12)), fmax=min(F0_MAX, hi * 2 ** (7 / 12)))
    energy = _band_energy_db(y16)
    for n in notes:
        p = note_pitch(tr, n.on, n.off, n.midi)
        m.errors.append(p.error_cents)
        m.frame_errors.append(p.frame_error_cents)
        m.voiced.append(p.voiced)
        if n.new_syllable:
            v = vowel_onset(y16, n, energy)
            if v is None:
                # no boundary: a legato join where the audio runs on (not measurable), or nothing
                if n.prev_off is not None:
                    m.vowel_unmeasured += 1
                else:
                    m.vowel_missing += 1
            else:
                m.vowel_ms.append(1000.0 * (v - n.on))
                if abs(v - n.on) > TARGET_VOWEL_MS / 1000:
                    m.vowel_worst.append((1000.0 * (v - n.on), f"{n.lyric} @ {n.on:.2f} s ({name})"))
    if sung_notes:
        for s in sung_notes:
            m.claimed_ms.append(1000.0 * (s.vowel_onset_s - s.onset_s))
    scores = join_clicks(y, sr, note_joins(notes))
    m.joins = len(scores)
    m.clicks = int(sum(s > 0 for s in scores))
    m.worst_click_db = max(scores, default=float("-inf"))
    return m


# -- the singers --------------------------------------------------------------------------------

def get_singer(standin: bool):  # noqa: ANN201
    if standin:
        return standin_sing
    from yuefu.sing import sing

    return sing


def sing_case(sing, case: Case) -> Measured:  # noqa: ANN001
    score = case.make_score()
    t0 = time.perf_counter()
    res = sing(score, voice=case.voice, lang=case.lang)
    wall = time.perf_counter() - t0
    y = res.audio.samples[0]
    notes, shift = expected_notes(score, res.notes)
    m = measure(f"{case.name} ({case.voice[0].upper()})", y, res.audio.sr, notes, wall_s=wall,
                sung_notes=res.notes, what=case.what)
    m.transpose = shift
    return m


@dataclass
class StandinResult:
    audio: Any
    notes: list[Any]  # yuefu.sing.SungNote


def standin_sing(score, voice: str = "female", lang: str | None = None):  # noqa: ANN001, ANN201
    """A stand-in vocal (``--standin``): an additive harmonic tone on the score's pitches, with
    40 ms portamento, vibrato on notes over 0.8 s, a 60 ms noise consonant before each new
    syllable and phase-continuous joins. It tests the measuring code, not a singer."""
    from yuefu.core.audio import Audio

    notes, _ = expected_notes(score)
    sr = 44100
    n = int((max(x.off for x in notes) + 0.5) * sr)
    t = np.arange(n) / sr
    midi = np.full(n, np.nan)
    amp = np.zeros(n)
    rng = np.random.default_rng(0)
    noise = np.zeros(n)
    for x in notes:
        a, b = int(x.on * sr), int(x.off * sr)
        midi[a:b] = x.midi
        env = np.ones(b - a)
        r = min(int(0.02 * sr), (b - a) // 4)
        if x.prev_off is None:
            env[:r] = np.linspace(0, 1, r)
        nxt = [z for z in notes if abs(z.on - x.off) < 0.05]
        if not nxt:
            env[-r:] *= np.linspace(1, 0, r)
        amp[a:b] = env
        if x.off - x.on > 0.8:  # vibrato after 0.3 s
            tt = t[a:b] - x.on
            midi[a:b] += 0.3 * np.sin(2 * np.pi * 5.5 * tt) * np.clip((tt - 0.3) / 0.2, 0, 1)
        if x.new_syllable and x.lyric and x.lyric[0] not in "aeiouAEIOU":
            c0 = max(int((x.on - 0.06) * sr), 0)
            ramp = np.hanning(int(0.06 * sr) + 1)[: a - c0]
            noise[c0:a] += 0.05 * rng.standard_normal(a - c0) * ramp
            if x.prev_off is not None:  # dip the vowel under the consonant at a legato join
                dip = np.ones(a - c0) - 0.9 * ramp
                amp[c0:a] *= dip
    # fill rests with the next pitch (for phase continuity), smooth the pitch for portamento
    filled = np.where(np.isnan(midi), 60.0, midi)
    k = int(0.04 * sr)
    filled = np.convolve(np.pad(filled, (k // 2, k - k // 2 - 1), mode="edge"), np.ones(k) / k, "valid")
    f = 440.0 * 2 ** ((filled - 69) / 12)
    ph = 2 * np.pi * np.cumsum(f) / sr
    y = np.zeros(n)
    for h in range(1, 16):
        y += (0.6 / h) * np.sin(h * ph) * (h * f < 5000)
    y = 0.25 * y * amp + noise
    from yuefu.sing import SungNote

    out = [SungNote(x.on, x.off, int(round(x.midi)), x.lyric or "-", x.on) for x in notes]
    return StandinResult(Audio(y.astype(np.float32), sr), out)


def musicxml(line: Line, bpm: float, lyric: str = "ら", divisions: int = 4) -> str:
    """A one-part MusicXML (4/4, no key) of a bar-aligned line, every sung note on ``lyric``."""
    steps = ("C", "C", "D", "D", "E", "F", "F", "G", "G", "A", "A", "B")
    bars: list[Line] = [[]]
    acc = 0.0
    for ev in line:
        bars[-1].append(ev)
        acc += ev[1]
        if abs(acc - 4.0) < 1e-6:
            bars.append([])
            acc = 0.0
    xs = ['<?xml version="1.0" encoding="UTF-8"?>', '<score-partwise version="3.0">',
          '<part-list><score-part id="P1"><part-name>Voice</part-name></score-part></part-list>',
          '<part id="P1">']
    for i, bar in enumerate(b for b in bars if b):
        xs.append(f'<measure number="{i + 1}">')
        if i == 0:
            xs.append(f"<attributes><divisions>{divisions}</divisions><key><fifths>0</fifths></key>"
                      "<time><beats>4</beats><beat-type>4</beat-type></time>"
                      "<clef><sign>G</sign><line>2</line></clef></attributes>")
            xs.append('<direction placement="above"><direction-type><metronome><beat-unit>quarter'
                      f'</beat-unit><per-minute>{bpm:g}</per-minute></metronome></direction-type>'
                      f'<sound tempo="{bpm:g}"/></direction>')
        for pitch, beats, ly in bar:
            dur = int(round(beats * divisions))
            if pitch is None:
                xs.append(f"<note><rest/><duration>{dur}</duration></note>")
                continue
            step, alter = steps[pitch % 12], "<alter>1</alter>" if steps[pitch % 12] == steps[
                (pitch - 1) % 12] else ""
            sung = ly not in (None, "-")
            text = f"<lyric><syllabic>single</syllabic><text>{lyric}</text></lyric>" if sung else ""
            xs.append(f"<note><pitch><step>{step}</step>{alter}<octave>{pitch // 12 - 1}</octave>"
                      f"</pitch><duration>{dur}</duration>{text}</note>")
        xs.append("</measure>")
    xs.append("</part></score-partwise>")
    return "\n".join(xs)


def run_pysinsy(line: Line, bpm: float) -> tuple[Measured, dict[str, Any]]:
    """Sing ``line`` with pysinsy on "ら" and measure it like ours (pitch, voicing, speed)."""
    pysinsy = import_old("pysinsy")
    with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
        xml = Path(tmp) / "la.musicxml"
        xml.write_text(musicxml(line, bpm), encoding="utf-8")
        warm = Path(tmp) / "warm.musicxml"
        warm.write_text(musicxml([(None, 4, None), (62, 4, "ら"), (None, 4, None)], bpm), encoding="utf-8")
        t0 = time.perf_counter()
        pysinsy.synthesize(str(warm))  # loads the voice
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        wav, sr = pysinsy.synthesize(str(xml))
        wall = time.perf_counter() - t0
    notes, _ = expected_notes(line_score(line, bpm))
    # Sinsy returns float64 on the int16 scale; its full scale is 32768
    m = measure("pysinsy", wav, int(sr), notes, wall_s=wall, clip_scale=32768.0, what="ら")
    return m, {"voice_load_s": round(load_s, 2), "sr": int(sr), "version": pysinsy.__version__}


# -- intelligibility ----------------------------------------------------------------------------

def _grammar(words: tuple[str, ...] | list[str], path: Path) -> Path:
    path.write_text("#JSGF V1.0;\ngrammar words;\npublic <word> = " + " | ".join(words) + " ;\n")
    return path


def recognise(segments: list[np.ndarray], sr: int, words: list[str]) -> list[str]:
    """pocketsphinx (its bundled en-us model) on each segment, with a JSGF grammar of exactly
    ``words`` (one word per utterance). Each segment is resampled to 16 kHz, scaled to a 0.5
    peak and given a -50 dBFS white-noise floor (seeded): the front end fails on digital
    silence (on espeak-ng's words, 18 of 43 recognised without the floor, 39 with it)."""
    from pocketsphinx import Decoder

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
        dec = Decoder(jsgf=str(_grammar(words, Path(tmp) / "w.gram")), logfn=os.devnull)
        hyps = []
        for seg in segments:
            y = to_analysis_rate(seg, sr)
            y = 0.5 * y / (np.abs(y).max() + 1e-9) + 3e-3 * rng.standard_normal(len(y))
            pcm = (np.clip(y, -1, 1) * 32767).astype(np.int16).tobytes()
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            h = dec.hyp()
            hyps.append(h.hypstr.strip() if h is not None else "")
    return hyps


def intelligibility(sing, voices: tuple[str, ...]) -> list[dict[str, Any]]:  # noqa: ANN001
    """Each word on one 0.6 s note (100 BPM quarter) between 0.6 s rests; cut 0.3 s either side."""
    words = list(WORDS)
    rows = []
    for voice in voices:
        pitch = 65 if voice == "female" else 53
        line: Line = [(None, 1, None)]
        for w in words:
            line += [(pitch, 1, w), (None, 1, None)]
        score = line_score(line, 100.0, "words")
        t0 = time.perf_counter()
        res = sing(score, voice=voice, lang="en")
        wall = time.perf_counter() - t0
        y, sr = res.audio.samples[0].astype(np.float64), res.audio.sr
        notes, _ = expected_notes(score, res.notes)
        segs = [y[int((n.on - 0.3) * sr): int((n.off + 0.3) * sr)] for n in notes]
        hyps = recognise(segs, sr, words)
        ok = sum(h == w for h, w in zip(hyps, words, strict=True))
        rows.append({"material": f"yuefu, sung, {voice}", "words": len(words), "recognised": ok,
                     "rate": ok / len(words), "audio_s": len(y) / sr, "wall_s": wall,
                     "confusions": [f"{w}->{h or '∅'}" for w, h in zip(words, hyps, strict=True) if h != w]})
    import soundfile as sf

    segs, sr = [], 22050
    for w in words:
        wav = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", w], check=True,
                             capture_output=True).stdout
        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            f.write(wav)
            f.flush()
            y, sr = sf.read(f.name)
        segs.append(np.concatenate([np.zeros(int(0.3 * sr)), y, np.zeros(int(0.3 * sr))]))
    hyps = recognise(segs, sr, words)
    ok = sum(h == w for h, w in zip(hyps, words, strict=True))
    rows.append({"material": "espeak-ng en-us, spoken (control)", "words": len(words), "recognised": ok,
                 "rate": ok / len(words),
                 "confusions": [f"{w}->{h or '∅'}" for w, h in zip(words, hyps, strict=True) if h != w]})
    return rows


# -- checks of the measures on synthetic signals ------------------------------------------------

def _tone(f: np.ndarray, sr: int, harmonics: int = 8) -> np.ndarray:
    ph = 2 * np.pi * np.cumsum(f) / sr
    return sum((0.5 / h) * np.sin(h * ph) for h in range(1, harmonics + 1))


def _voice(f: np.ndarray, sr: int, bright: bool, rng: np.random.Generator) -> np.ndarray:
    """A sung-vowel stand-in at 0.3 peak: 8 harmonics (mellow) or harmonics in phase up to a
    6 kHz roll-off (bright: a pulse train, as a glottal source is), plus a -70 dB noise floor."""
    ph = 2 * np.pi * np.cumsum(f) / sr
    nh = 60 if bright else 8
    y = sum((1 / k**1.5) * np.sin(k * ph) / (1 + (k * f / 6000) ** 8) for k in range(1, nh))
    return 0.3 * y / np.abs(y).max() + 3e-4 * rng.standard_normal(len(f))


def selftest() -> list[tuple[str, str, bool]]:
    """Each measure on synthetic signals with known answers: (check, result, passed)."""
    rows: list[tuple[str, str, bool]] = []
    sr = SR_ANALYSIS
    rng = np.random.default_rng(1)
    # 1. F0: steady sines and harmonic tones, and a tone with +-30 cent vibrato
    worst = {"sine": 0.0, "harmonic": 0.0}
    for hz in (98.0, 130.81, 220.0, 441.3, 523.25, 880.0):
        t = np.arange(sr * 2) / sr
        for kind, y in (("sine", 0.3 * np.sin(2 * np.pi * hz * t)),
                        ("harmonic", _voice(np.full(len(t), hz), sr, True, rng))):
            p = note_pitch(track_f0(y), 0.2, 1.8, 69 + 12 * np.log2(hz / 440))
            worst[kind] = max(worst[kind], p.error_cents, p.frame_error_cents)
    rows.append(("F0 of steady pure sines, 98-880 Hz: worst error", f"{worst['sine']:.2f} cents",
                 worst["sine"] < 5))
    rows.append(("F0 of steady harmonic tones, 98-880 Hz: worst error", f"{worst['harmonic']:.2f} cents",
                 worst["harmonic"] < 1))
    t = np.arange(sr * 3) / sr
    f = 261.63 * 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    tr = track_f0(_tone(f, sr) * 0.3)
    p = note_pitch(tr, 0.0, 3.0, 60.0)
    ref = 1200 * np.log2(np.interp(tr.times, t, f) / 261.63)
    m = (tr.times > 0.2) & (tr.times < 2.8)
    track_err = float(np.median(np.abs(1200 * np.log2(tr.f0[m] / 261.63) - ref[m])))
    rows.append(("F0 of a C4 with +-30 cent vibrato: note error / frame tracking error",
                 f"{p.error_cents:.2f} / {track_err:.2f} cents", p.error_cents < 3 and track_err < 3))
    # 2. vowel onsets: silence, an "s", a nasal or a legato "s" before a vowel starting at known times
    errs = []
    truth = (0.0, 0.012, -0.015, 0.025, -0.020, 0.005)
    kinds = ("silence", "s", "nasal", "s legato", "nasal legato", "silence")
    y = np.zeros(int(sr * 8.0))
    notes = []
    prev_off = None
    for i, (dt, kind) in enumerate(zip(truth, kinds, strict=True)):
        on, d = 0.5 + 1.2 * i, 0.8 if "legato" not in kind else 1.2
        if "legato" in kind:
            on = notes[-1].off
            prev_off = notes[-1].off
        else:
            prev_off = None
        off = on + d
        midi = 57 + 3 * i
        hz = midi_to_hz(midi)
        v0 = on + dt
        a, b = int(v0 * sr), int(off * sr)
        env = np.ones(b - a)
        env[: int(0.01 * sr)] = np.linspace(0, 1, int(0.01 * sr))
        env[-int(0.02 * sr):] = np.linspace(1, 0, int(0.02 * sr))
        seg = 0.3 * _tone(np.full(b - a, hz), sr) * env
        c0 = int((v0 - 0.07) * sr)
        if "legato" in kind:  # the previous vowel fades into the consonant
            y[c0 - int(0.01 * sr): a] *= np.linspace(1, 0, a - c0 + int(0.01 * sr))
        if kind.startswith("s"):
            y[c0:a] += 0.06 * rng.standard_normal(a - c0)
        elif kind.startswith("nasal"):  # murmur: the tone low-passed and 18 dB down
            from scipy.signal import butter, sosfilt

            mur = sosfilt(butter(2, 300, fs=sr, output="sos"), _tone(np.full(a - c0, hz), sr))
            y[c0:a] += 0.3 * 0.125 * mur / (np.abs(mur).max() + 1e-9)
        y[a:b] += seg
        notes.append(Expected(on, off, midi, "x", True, prev_off))
    energy = _band_energy_db(y)
    got = [vowel_onset(y, n, energy) for n in notes]
    for n, g, dt in zip(notes, got, truth, strict=True):
        errs.append(float("nan") if g is None else 1000 * (g - n.on - dt))
    worst = float(np.nanmax(np.abs(errs))) if not np.isnan(errs).all() else float("nan")
    rows.append(("vowel onset after silence / s / nasal / legato s / legato nasal, vowel at "
                 "-20..+25 ms: worst error", f"{worst:.1f} ms ({sum(g is None for g in got)} not found)",
                 bool(worst <= 5.0 and all(g is not None for g in got))))
    # a vowel-to-vowel legato join has no boundary and must be left unmeasured
    yl = 0.3 * _tone(np.concatenate([np.full(sr, midi_to_hz(60)), np.full(sr, midi_to_hz(62))]), sr)
    nl = Expected(1.0, 2.0, 62, "x", True, 1.0)
    g = vowel_onset(yl, nl, _band_energy_db(yl))
    rows.append(("vowel-to-vowel legato join: not measured", "None" if g is None else f"{g:.3f} s",
                 g is None))
    # 3. clicks at joins (44.1 kHz), in a mellow (8 harmonics) and a bright, pulse-like voice
    sr2, h = 44100, 22050
    t = np.arange(sr2) / sr2
    okc = True
    res = []
    for bright in (False, True):
        base = _voice(np.full(sr2, 220.0), sr2, bright, rng)
        cases = {}
        other = _voice(np.full(h, 246.9), sr2, bright, rng)[::-1]
        cases["phase jump"] = (np.concatenate([base[:h], other]), True)
        imp = base.copy()
        imp[h] += 0.02
        cases["1-sample impulse of 0.02"] = (imp, True)
        step = np.zeros(sr2)
        step[h:] = 0.3 * np.sin(2 * np.pi * 220 * t[:h] + 1.3) + _voice(np.full(h, 220.0), sr2, bright, rng)
        cases["step onset"] = (step, True)
        cut = base.copy()
        cut[h:] = 0.0
        cases["hard cut"] = (cut, True)
        cases["pitch join"] = (_voice(np.where(t < 0.5, 220.0, 246.9), sr2, bright, rng), False)
        ramp = np.zeros(sr2)
        ramp[h:] = _voice(np.full(h, 220.0), sr2, bright, rng)
        ramp[h:h + 441] *= np.linspace(0, 1, 441)
        cases["10 ms ramped onset"] = (ramp, False)
        s_ = base.copy()
        s_[h - 3528:h] = 0.05 * rng.standard_normal(3528) * np.hanning(3528)
        cases["'s'"] = (s_, False)
        pl = base.copy()
        bn = int(0.03 * sr2)
        burst = 0.15 * rng.standard_normal(bn) * np.exp(-np.arange(bn) / (0.008 * sr2))
        burst[:44] *= np.linspace(0, 1, 44)
        pl[h - 441:h] = 0.0
        pl[h - 441 - bn // 2:h - 441 - bn // 2 + bn] += burst
        cases["plosive burst"] = (pl, False)
        found, clean = [], []
        for name, (sig, want) in cases.items():
            sc = join_clicks(sig, sr2, [0.5])[0]
            okc &= (sc > 0) == want
            (found if want else clean).append(f"{name} {sc:+.0f}")
        res.append(f"{'bright' if bright else 'mellow'} voice: found {', '.join(found)}; "
                   f"clean {', '.join(clean)}")
    rows.append(("clicks (score dB, > 0 = click): " + "; ".join(res),
                 "all as expected" if okc else "MISMATCH", bool(okc)))
    # 4. clipping
    c, _ = clipping(np.array([0.5, -0.999, 1.2, 0.998]))
    rows.append(("clipping count on [0.5, -0.999, 1.2, 0.998]", str(c), c == 2))
    return rows


# -- report ---------------------------------------------------------------------------------------

def machine() -> str:
    from importlib.metadata import PackageNotFoundError, version

    vers = []
    for mod in ("librosa", "pyworld", "pysinsy", "pocketsphinx"):
        try:
            vers.append(f"{mod} {version(mod)}")
        except PackageNotFoundError:  # a missing optional package
            vers.append(f"{mod} -")
    return machine_line(*vers)


def _f(x: Any, fmt: str = ".1f") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return format(x, fmt)


def _pf(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def print_tables(res: dict[str, Any]) -> None:
    singer = res["singer"]
    print(f"# singer benchmark — {res['date']}\n")
    print(f"Machine: {res['machine']}\n")
    print(f"Singer: {singer}. Imports and a warm-up call excluded (first call {res['warmup_s']:.2f} s); "
          f"F0 by pyin + StoneMask every 10 ms; stable part = the middle 60% of a note.\n")
    print("| piece | notes | audio s | × real time | median \\|pitch err\\| cents | within 50 c "
          "| frame-wise median \\|err\\| c | voiced (mean / min) | notes ≥ 90% voiced "
          "| vowel onset: median err / p95 \\|err\\| ms | within 30 ms | clipped / peak dBFS "
          "| clicks / joins |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in [*res["cases"], res["all"]]:
        name = f"{s['name']}: {s['what']}" if s.get("what") else f"**{s['name']}**"
        vm = s["vowel_measured"]
        vo = (f"{_f(s['vowel_onset_median_ms'], '+.1f')} / {_f(s['vowel_onset_p95_abs_ms'])} "
              f"(n={vm}{', not found ' + str(s['vowel_not_found']) if s['vowel_not_found'] else ''})")
        print(f"| {name} | {s['notes']} | {s['audio_s']:.1f} | {s['x_real_time']:.1f}× "
              f"| {_f(s['median_abs_cents'])} | {s['within_50_cents']:.0%} "
              f"| {_f(s['median_abs_cents_frames'])} "
              f"| {_f(s['voiced_mean'], '.2f')} / {_f(s['voiced_min'], '.2f')} "
              f"| {s['notes_voiced_90']:.0%} | {vo} | {_f(s['vowel_within_30ms'], '.0%')} "
              f"| {s['clipped_samples']} / {s['peak_dbfs']:.1f} | {s['clicks']} / {s['joins']} |")
    a = res["all"]
    print()
    print("| target (issue 4) | result | verdict |")
    print("|---|---|---|")
    checks = [
        (f"median \\|pitch error\\| ≤ {TARGET_CENTS_MEDIAN:g} cents", f"{a['median_abs_cents']:.1f} c",
         a["median_abs_cents"] <= TARGET_CENTS_MEDIAN),
        ("≥ 95% of notes within 50 cents", f"{a['within_50_cents']:.1%}",
         a["within_50_cents"] >= TARGET_WITHIN_50),
        ("voiced over ≥ 90% of each note's stable part (≥ 95% of notes)",
         f"{a['notes_voiced_90']:.1%} of notes (min {a['voiced_min']:.2f})",
         a["notes_voiced_90"] >= TARGET_SHARE),
        ("vowel onsets within 30 ms of note onsets (≥ 95% of syllables)",
         f"{_f(a['vowel_within_30ms'], '.1%')} of {a['vowel_measured'] + a['vowel_not_found']} "
         f"({a['vowel_legato_unmeasured']} legato joins unmeasured)",
         (a["vowel_within_30ms"] or 0) >= TARGET_SHARE),
        ("no clipping (no sample ≥ 0.999)", f"{a['clipped_samples']} samples, peak {a['peak_dbfs']:.1f} dBFS",
         a["clipped_samples"] == 0),
        ("no clicks at note joins", f"{a['clicks']} of {a['joins']} joins", a["clicks"] == 0),
        (f"≥ {TARGET_RTF:g}× real time", f"{a['x_real_time']:.1f}×", a["x_real_time"] >= TARGET_RTF),
    ]
    for what, val, ok in checks:
        print(f"| {what} | {val} | {_pf(bool(ok))} |")
    if a["vowel_over_30ms"]:
        print("\nVowel onsets more than 30 ms from the note onset (measured - score; negative = early): "
              + "; ".join(a["vowel_over_30ms"][:20]) + (" …" if len(a["vowel_over_30ms"]) > 20 else "") + ".")
    res["verdicts"] = {w: bool(ok) for w, _, ok in checks}
    if res.get("anchor"):
        o, p, info = res["anchor"]["ours"], res["anchor"]["pysinsy"], res["anchor"]["info"]
        print(f"\nSide by side: the same melody ({o['notes']} notes, 100 BPM, D4-D5, "
              f"{p['audio_s']:.1f} s), yuefu female on \"la\", pysinsy {info['version']} "
              "(nitech_jp_song070_f001) on \"ら\".\n")
        print("| measure | yuefu | pysinsy | ratio (yuefu / pysinsy) |")
        print("|---|---|---|---|")
        rows = [
            ("median \\|pitch error\\| cents (per note)", "median_abs_cents", ".1f"),
            ("notes within 50 cents", "within_50_cents", ".0%"),
            ("frame-wise median \\|pitch error\\| cents", "median_abs_cents_frames", ".1f"),
            ("notes ≥ 90% voiced", "notes_voiced_90", ".0%"),
            ("vowel onset: median error ms (negative = early)", "vowel_onset_median_ms", "+.1f"),
            ("vowel onsets within 30 ms", "vowel_within_30ms", ".0%"),
            ("clicks / joins", None, None),
            ("wall s (voice loaded)", "wall_s", ".2f"),
            ("× real time", "x_real_time", ".1f"),
        ]
        for label, key, fmt in rows:
            if key is None:
                print(f"| {label} | {o['clicks']} / {o['joins']} | {p['clicks']} / {p['joins']} | |")
                continue
            ov, pv = o[key], p[key]
            signed = fmt.startswith("+")  # a signed error has no meaningful ratio
            ratio = (ov / pv if not signed and isinstance(ov, float | int) and isinstance(pv, float | int)
                     and pv else None)
            print(f"| {label} | {_f(ov, fmt)} | {_f(pv, fmt)} | {_f(ratio, '.2f')} |")
        print(f"\npysinsy's first call (loading the voice) took {info['voice_load_s']:.2f} s; it returns "
              f"{info['sr']} Hz float64 on the int16 scale (measured here divided by 32768; "
              f"peak {p['peak_dbfs']:+.1f} dBFS, {p['clipped_samples']} samples at or over full scale).")
    if res.get("intelligibility"):
        print(f"\nIntelligibility: {len(WORDS)} English words, each on one 0.6 s note between rests "
              "(female F4, male F3); pocketsphinx 5 (en-us model) with a grammar of exactly these "
              f"words (chance {1 / len(WORDS):.1%}).\n")
        print("| material | recognised | rate | confusions |")
        print("|---|---|---|---|")
        for r in res["intelligibility"]:
            conf = ", ".join(r["confusions"][:12]) + (" …" if len(r["confusions"]) > 12 else "")
            print(f"| {r['material']} | {r['recognised']} / {r['words']} | {r['rate']:.0%} | {conf} |")
    print("\nMeasurement checks (synthetic signals with known answers):\n")
    print("| check | result | ok |")
    print("|---|---|---|")
    for what, val, ok in res["selftest"]:
        print(f"| {what} | {val} | {'yes' if ok else '**NO**'} |")
    print(f"\nTotal benchmark time {res['total_s']:.0f} s.")
    print(f"\nmachine-line: singer rtf={a['x_real_time']:.1f} median_cents={a['median_abs_cents']:.1f} "
          f"within50={a['within_50_cents']:.3f} voiced90={a['notes_voiced_90']:.3f} "
          f"vowel30={_f(a['vowel_within_30ms'], '.3f')} clipped={a['clipped_samples']} "
          f"clicks={a['clicks']}/{a['joins']} "
          + " ".join(f"asr_{r['material'].split(',')[0].split()[0]}_{i}={r['rate']:.3f}"
                     for i, r in enumerate(res.get("intelligibility") or []))
          + (f" pysinsy_cents={res['anchor']['pysinsy']['median_abs_cents']:.1f}"
             f" pysinsy_rtf={res['anchor']['pysinsy']['x_real_time']:.1f}" if res.get("anchor") else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one melody, one voice; no anchor, no words")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--selftest", action="store_true", help="only check the measures on synthetic signals")
    ap.add_argument("--standin", action="store_true",
                    help="measure a simple additive synth instead of yuefu.sing (tests this script)")
    ap.add_argument("--no-songs", action="store_true", help="skip the songwriter's songs")
    a = ap.parse_args(argv)
    t_start = time.perf_counter()
    if a.selftest:
        rows = selftest()
        for what, val, ok in rows:
            print(f"{'ok ' if ok else 'BAD'} {what}: {val}")
        return 0 if all(ok for _, _, ok in rows) else 1

    sing = get_singer(a.standin)
    warm = line_score([(None, 1, None), (64, 1, "la"), (None, 1, None)], 100.0)
    t0 = time.perf_counter()
    sing(warm, voice="female", lang="en")
    warmup = time.perf_counter() - t0

    cases = melody_cases(a.quick)
    if not a.quick and not a.no_songs:
        try:
            cases += songwriter_cases()
        except Exception as e:  # noqa: BLE001 - the songwriter is optional here
            print(f"(songwriter songs skipped: {e})", file=sys.stderr)
    measured = [sing_case(sing, c) for c in cases]
    total = Measured("all pieces")
    for m in measured:
        total.add(m)
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"), "machine": machine(),
        "singer": "STAND-IN additive synth (--standin), not yuefu.sing" if a.standin else "yuefu.sing",
        "warmup_s": warmup, "cases": [m.summary() for m in measured], "all": total.summary(),
    }
    if not a.quick:
        la = Case("la", "female", "en", 100.0, LA_MELODY, what="shared melody")
        ours = sing_case(sing, la)
        try:
            theirs, info = run_pysinsy(LA_MELODY, 100.0)
            res["anchor"] = {"ours": ours.summary(), "pysinsy": theirs.summary(), "info": info}
        except ImportError as e:
            print(f"(pysinsy anchor skipped: {e}; pip install -e '.[bench]')", file=sys.stderr)
        try:
            res["intelligibility"] = intelligibility(sing, ("female", "male"))
        except ImportError as e:
            print(f"(intelligibility skipped: {e}; pip install -e '.[bench]')", file=sys.stderr)
    res["selftest"] = selftest()
    res["total_s"] = time.perf_counter() - t_start
    if a.json:
        print(json.dumps(res, ensure_ascii=False, indent=1, default=str))
    else:
        print_tables(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
